// Usage errors of the `tinyopt` command: unknown commands and options are
// named with the closest valid spelling, every usage error exits with 2, and
// every numeric flag of every command refuses values out of range (huge,
// NaN, infinite) before any work starts.
#include <gtest/gtest.h>

#include <sstream>
#include <vector>

#include "cli_run.h"

namespace {

using tinyopt::test::CliRun;
using tinyopt::test::run_cli;
using tinyopt::test::ScratchDir;

// Lines of a CLI11 help text's section ("Options:", "Subcommands:"), up to the next blank line.
std::vector<std::string> section(const std::string& help, const std::string& heading) {
  std::vector<std::string> lines;
  std::istringstream in(help);
  std::string line;
  bool inside = false;
  while (std::getline(in, line)) {
    if (line.rfind(heading, 0) == 0) {
      inside = true;
    } else if (inside) {
      if (line.empty() || line[0] != ' ') break;
      lines.push_back(line);
    }
  }
  return lines;
}

std::string first_word(const std::string& line) {
  std::istringstream in(line);
  std::string w;
  in >> w;
  return w;
}

// Every command path ("eval", "bench matmul"), from `tinyopt help`.
std::vector<std::string> command_paths(const ScratchDir& dir, const std::string& prefix = "") {
  const CliRun help = run_cli("help " + prefix, dir);
  EXPECT_EQ(help.status, 0) << help.err;
  std::vector<std::string> paths;
  for (const std::string& line : section(help.out, "Subcommands:")) {
    const std::string name = first_word(line);
    if (name == "help") continue;
    const std::string path = prefix.empty() ? name : prefix + " " + name;
    paths.push_back(path);
    for (const std::string& sub : command_paths(dir, path)) paths.push_back(sub);
  }
  return paths;
}

// The numeric options in a help text, by their long name ("--tokens").
std::vector<std::string> numeric_options(const std::string& help) {
  std::vector<std::string> names;
  for (const std::string& line : section(help, "Options:")) {
    std::istringstream in(line);
    std::string spellings, type;
    in >> spellings >> type;
    type = type.substr(0, type.find(':'));
    if (type != "INT" && type != "UINT" && type != "FLOAT") continue;
    const size_t long_name = spellings.find("--");
    if (long_name != std::string::npos) names.push_back(spellings.substr(long_name, spellings.find(',', long_name) - long_name));
  }
  return names;
}

TEST(CliUsage, UnknownCommandIsNamedWithTheClosestOneAndExitsWith2) {
  ScratchDir dir;
  CliRun r = run_cli("evall", dir);
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(r.err.find("unknown command 'evall' (did you mean 'eval'?)"), std::string::npos) << r.err;
  r = run_cli("bench matmull", dir);
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(r.err.find("unknown command 'matmull' (did you mean 'matmul'?)"), std::string::npos) << r.err;
  r = run_cli("xyzzy", dir);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("unknown command 'xyzzy'"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("did you mean"), std::string::npos) << "nothing is close to xyzzy: " << r.err;
  r = run_cli("", dir);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("needs a command"), std::string::npos) << r.err;
}

TEST(CliUsage, UnknownOptionIsNamedBeforeMissingOnes) {
  ScratchDir dir;
  CliRun r = run_cli("eval --modle m.safetensors", dir);
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(r.err.find("unknown option '--modle' for 'tinyopt eval' (did you mean '--model'?)"), std::string::npos)
      << r.err;
  r = run_cli("eval --model m.safetensors --jsn", dir);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("unknown option '--jsn'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("'--json'"), std::string::npos) << r.err;
  r = run_cli("eval", dir);  // a missing required option is a usage error too
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("--model is required"), std::string::npos) << r.err;
}

TEST(CliUsage, HelpCommandShowsEachCommandsHelp) {
  ScratchDir dir;
  CliRun r = run_cli("help", dir);
  ASSERT_EQ(r.status, 0) << r.err;
  for (const char* command : {"eval", "infer", "prune", "quantize", "olympics", "bench"})
    EXPECT_NE(r.out.find(command), std::string::npos) << command;
  r = run_cli("help eval", dir);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("--model"), std::string::npos) << r.out;
  r = run_cli("help bench matmul", dir);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("--sizes"), std::string::npos) << r.out;
  r = run_cli("help evl", dir);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("did you mean 'eval'?"), std::string::npos) << r.err;
}

TEST(CliUsage, EveryNumericFlagRefusesHugeNanAndInfiniteValues) {
  ScratchDir dir;
  std::vector<std::pair<std::string, std::string>> flags;  // (command path, option)
  for (const std::string& option : numeric_options(run_cli("--help", dir).out)) flags.emplace_back("", option);
  for (const std::string& path : command_paths(dir))
    for (const std::string& option : numeric_options(run_cli(path + " --help", dir).out)) flags.emplace_back(path, option);
  ASSERT_GE(flags.size(), 30u) << "the help texts list fewer numeric flags than the commands have";
  for (const auto& [path, option] : flags)
    for (const char* value : {"99999999999999999999", "nan", "inf"}) {
      // A global option goes before a harmless command; a command's option after its command.
      const std::string args = path.empty() ? option + " " + value + " backends" : path + " " + option + " " + value;
      const CliRun r = run_cli(args, dir);
      EXPECT_EQ(r.status, 2) << "tinyopt " << args << ": " << r.err;
      EXPECT_NE(r.err.find(option), std::string::npos) << "tinyopt " << args << " does not name the flag: " << r.err;
    }
}

}  // namespace

namespace {

TEST(CliUsage, OneNamePerConceptAndTheShortOptionsPeopleType) {
  ScratchDir dir;
  const std::string mlp = std::string(TINYOPT_SOURCE_DIR) + "/benchmarks/mlp.safetensors";
  // Batch size: --batch-size everywhere, --batch and -b accepted too.
  for (const std::string batch : {"-b 500", "--batch 500", "--batch-size 500"}) {
    const CliRun r = run_cli("-t 1 eval -m " + mlp + " " + batch + " --json", dir);
    EXPECT_EQ(r.status, 0) << batch << ": " << r.err;
  }
  for (const std::string batch : {"-b 4", "--batch 4", "--batch-size 4"}) {
    const CliRun r = run_cli("profile -m " + mlp + " " + batch + " --runs 1 --warmup 0 --json", dir);
    EXPECT_EQ(r.status, 0) << batch << ": " << r.err;
  }
  // Output: -o, --out and --output name the same thing in every command that writes one.
  for (const char* command : {"infer", "prune", "quantize", "train"}) {
    const CliRun help = run_cli(std::string(command) + " --help", dir);
    ASSERT_EQ(help.status, 0) << command;
    EXPECT_NE(help.out.find("-o,--"), std::string::npos) << command << ": " << help.out;
  }
  for (const char* command : {"eval", "infer", "prune", "quantize", "profile", "generate"})
    EXPECT_NE(run_cli(std::string(command) + " --help", dir).out.find("-m,--model"), std::string::npos) << command;
  const CliRun generate = run_cli("generate --help", dir);
  EXPECT_NE(generate.out.find("-p,--prompt"), std::string::npos) << generate.out;
  EXPECT_NE(generate.out.find("-n,--tokens"), std::string::npos) << generate.out;
  EXPECT_NE(run_cli("--help", dir).out.find("-t,--threads"), std::string::npos);
}

}  // namespace
