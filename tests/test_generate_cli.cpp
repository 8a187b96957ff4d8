// `tinyopt generate` end to end on a small random GPT model file: cached and
// --no-cache greedy runs print the same ids in --json, and bad input (prompt
// beyond block_size, characters outside the vocabulary, --tokens beyond the
// context, zero/negative values) exits non-zero with a clear one-line error.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "nn/model.h"
#include "nn/reference_models.h"
#include "tests/test_io_util.h"

using namespace tinyopt;

namespace {

int run(const std::string& cmd) { return std::system(cmd.c_str()); }

std::string small_gpt(const test::ScratchDir& dir) {
  std::vector<std::string> vocab;
  for (char c : std::string(" abcdefghijklmnopqrstuvwxyz.\n")) vocab.push_back(std::string(1, c));
  nlohmann::json config = nn::gpt_config(static_cast<int64_t>(vocab.size()));
  config["n_layer"] = 2;
  config["n_embd"] = 32;
  config["block_size"] = 32;
  nn::Rng rng(9);
  nn::Model model = nn::build_model(config, &rng, vocab);
  const std::string path = dir.file("gpt.safetensors");
  nn::save_model(model, path);
  return path;
}

}  // namespace

TEST(GenerateCommand, CachedAndUncachedGreedyAgreeInJson) {
  test::ScratchDir dir;
  const std::string model = small_gpt(dir), cli = TINYOPT_CLI_PATH;
  nlohmann::json out[2];
  for (int i = 0; i < 2; ++i) {
    const std::string file = dir.file("out" + std::to_string(i) + ".json");
    ASSERT_EQ(run(cli + " generate --model " + model + " --prompt 'the cat' --tokens 20 --json" +
                  (i ? " --no-cache" : "") + " >" + file),
              0);
    std::ifstream in(file);
    out[i] = nlohmann::json::parse(in);
  }
  EXPECT_EQ(out[0]["token_ids"].size(), 20u);
  EXPECT_EQ(out[0]["token_ids"], out[1]["token_ids"]);
  EXPECT_EQ(out[0]["text"], out[1]["text"]);
  EXPECT_TRUE(out[0]["cache"].get<bool>());
  EXPECT_FALSE(out[1]["cache"].get<bool>());
  EXPECT_GT(out[0]["tokens_per_second"].get<double>(), 0.0);
  // Seeded sampling is reproducible.
  const std::string s1 = dir.file("s1.json"), s2 = dir.file("s2.json");
  const std::string sample = cli + " generate --model " + model + " --prompt 'a' --tokens 10 --temperature 0.9 --top-k 4 "
                                   "--seed 7 --json >";
  ASSERT_EQ(run(sample + s1), 0);
  ASSERT_EQ(run(sample + s2), 0);
  std::ifstream a(s1), b(s2);
  EXPECT_EQ(nlohmann::json::parse(a)["token_ids"], nlohmann::json::parse(b)["token_ids"]);
}

TEST(GenerateCommand, BadInputExitsNonZeroWithAClearError) {
  test::ScratchDir dir;
  const std::string model = small_gpt(dir), cli = TINYOPT_CLI_PATH, err = dir.file("err.txt");
  const std::string base = cli + " generate --model " + model;
  struct Bad {
    std::string args, expect;
  };
  const std::vector<Bad> cases = {
      {"--prompt '" + std::string(33, 'a') + "' --tokens 1", "block_size"},
      {"--prompt 'the CAT' --tokens 5", "vocabulary"},
      {"--prompt 'the cat' --tokens 26", "at most 25 new tokens"},
      {"--prompt 'the cat' --tokens 0", "--tokens"},
      {"--prompt 'the cat' --tokens -4", "--tokens"},
      {"--prompt 'the cat' --tokens 3 --temperature 0", "--temperature"},
      {"--prompt 'the cat' --tokens 3 --temperature -1", "--temperature"},
      {"--prompt 'the cat' --tokens 3 --top-k -2", "--top-k"},
      {"--prompt '' --tokens 3", "--prompt"},
  };
  for (const Bad& c : cases) {
    EXPECT_NE(run(base + " " + c.args + " >/dev/null 2>" + err), 0) << c.args;
    const std::string msg = test::read_bytes(err);
    EXPECT_NE(msg.find(c.expect), std::string::npos) << c.args << ": " << msg;
  }
  EXPECT_EQ(run(base + " --prompt 'the cat' --tokens 25 >/dev/null 2>" + err), 0) << test::read_bytes(err);
}
