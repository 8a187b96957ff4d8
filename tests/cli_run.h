// Runs the built `tinyopt` command in a test: its exit status (or -1 when a
// signal ended it), stdout and stderr.
#pragma once

#include <sys/wait.h>

#include <cstdlib>
#include <string>

#include "test_io_util.h"

namespace tinyopt::test {

struct CliRun {
  int status = -1;
  std::string out, err;
};

// `args` is appended to the command line as is (quote what needs quoting).
inline CliRun run_cli(const std::string& args, const ScratchDir& dir) {
  const std::string out = dir.file("cli_stdout.txt"), err = dir.file("cli_stderr.txt");
  const std::string cmd = std::string(TINYOPT_CLI_PATH) + " " + args + " >" + out + " 2>" + err;
  const int raw = std::system(cmd.c_str());
  CliRun r;
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  r.out = read_bytes(out);
  r.err = read_bytes(err);
  return r;
}

}  // namespace tinyopt::test
