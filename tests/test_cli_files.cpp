// Files a user can lose: a command refuses to overwrite its own input or to
// write a format under the wrong extension (unless --force), and Ctrl-C or
// kill during a write leaves no temporary file behind.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "cli_run.h"
#include "core/tensor.h"
#include "io/npy.h"

namespace {

using tinyopt::test::CliRun;
using tinyopt::test::read_bytes;
using tinyopt::test::run_cli;
using tinyopt::test::ScratchDir;

const std::string kModel = std::string(TINYOPT_SOURCE_DIR) + "/benchmarks/mlp.safetensors";

// Two Fashion-MNIST-shaped inputs in [0, 1].
std::string write_input(const ScratchDir& dir) {
  tinyopt::Tensor x = tinyopt::Tensor::empty({2, 784}, tinyopt::DType::f32);
  for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = float(i % 255) / 255.0f;
  const std::string path = dir.file("x.npy");
  tinyopt::save_npy(path, x);
  return path;
}

bool has_temporary_file(const ScratchDir& dir) {
  for (const std::string& name : dir.entries())
    if (name.find(".tmp.") != std::string::npos) return true;
  return false;
}

TEST(CliFiles, AnOutputThatIsAnInputOrHasTheWrongExtensionIsRefused) {
  ScratchDir dir;
  const std::string model = dir.file("mycnn.safetensors"), x = write_input(dir);
  tinyopt::test::write_bytes(model, read_bytes(kModel));
  const std::string original = read_bytes(model);

  CliRun r = run_cli("infer --model " + model + " --input " + x + " --output " + model, dir);
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(r.err.find("is also an input of this command"), std::string::npos) << r.err;
  EXPECT_EQ(read_bytes(model), original) << "the model was overwritten";

  r = run_cli("infer --model " + model + " --input " + x + " --output " + x, dir);  // the input array too
  EXPECT_EQ(r.status, 2) << r.err;

  r = run_cli("infer --model " + model + " --input " + x + " --output " + dir.file("logits.safetensors"), dir);
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(r.err.find("name it *.npy"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir.file("logits.safetensors")));

  // --force is the way to mean it.
  r = run_cli("--force infer --model " + model + " --input " + x + " --output " + dir.file("logits.bin"), dir);
  EXPECT_EQ(r.status, 0) << r.err;
  r = run_cli("infer --model " + model + " --input " + x + " --output " + dir.file("logits.npy"), dir);
  EXPECT_EQ(r.status, 0) << r.err;
}

// Starts `tinyopt infer` with every finished write held before its rename,
// sends `sig` once the temporary file exists, and returns how the process ended.
int interrupt_infer_mid_write(const ScratchDir& dir, int sig) {
  const std::string x = write_input(dir), out = dir.file("logits.npy");
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::setenv("TINYOPT_PAUSE_BEFORE_RENAME_MS", "30000", 1);
    ::execl(TINYOPT_CLI_PATH, TINYOPT_CLI_PATH, "infer", "--model", kModel.c_str(), "--input", x.c_str(), "--output",
            out.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!has_temporary_file(dir) && std::chrono::steady_clock::now() < give_up)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_TRUE(has_temporary_file(dir)) << "the write never started";
  ::kill(pid, sig);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return status;
}

TEST(CliFiles, InterruptedWritesLeaveNoTemporaryFile) {
  for (const int sig : {SIGINT, SIGTERM}) {
    ScratchDir dir;
    const int status = interrupt_infer_mid_write(dir, sig);
    // Ended by the signal itself, as a shell expects (it reports 128 + signal: 130, 143).
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == sig) << "status " << status << " for signal " << sig;
    EXPECT_FALSE(has_temporary_file(dir)) << "signal " << sig << " left a temporary file";
    EXPECT_FALSE(std::filesystem::exists(dir.file("logits.npy")));
  }
}

}  // namespace
