// Fault injection: host allocation failure (the Nth allocation, in process
// and through the CLI), a disk that fills while a model or an output is being
// written (injected ENOSPC, and a real 16 KiB tmpfs when mounting is
// permitted), and a process killed in the middle of writing a model file.
// Each must end in a clean tinyopt::Error / exit status 1, nothing
// half-written left under the target's name, the previous file intact.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <random>
#include <thread>

#include "core/allocator.h"
#include "core/device_runtime.h"
#include "io/atomic_file.h"
#include "io/npy.h"
#include "io/safetensors.h"
#include "models/model_file.h"
#include "nn/model.h"
#include "tests/test_io_util.h"

using namespace tinyopt;

namespace {

// Restores the fault hooks whatever a test does.
struct FaultsOff {
  ~FaultsOff() {
    inject_host_allocation_failure(0);
    inject_disk_free_bytes(-1);
  }
};

nn::Model small_mlp(uint64_t seed) {
  nn::Rng rng(seed);
  return nn::build_model({{"arch", "sequential"},
                          {"input_shape", {8}},
                          {"layers",
                           {{{"type", "linear"}, {"in_features", 8}, {"out_features", 16}},
                            {{"type", "relu"}},
                            {{"type", "linear"}, {"in_features", 16}, {"out_features", 3}}}}},
                         &rng);
}

// Exit status of a shell command: the code when it exited, 128 + signal when killed.
int exit_status(const std::string& cmd) {
  const int rc = std::system(cmd.c_str());
  if (WIFEXITED(rc)) return WEXITSTATUS(rc);
  return WIFSIGNALED(rc) ? 128 + WTERMSIG(rc) : -1;
}

}  // namespace

TEST(FaultInjection, NthHostAllocationFailsOnceWithACleanError) {
  FaultsOff off;
  TrackingAllocator& a = TrackingAllocator::of(Device::cpu());
  const int64_t live = a.stats().live_allocations;
  inject_host_allocation_failure(2);
  Tensor first = Tensor::empty({4}, DType::f32);  // allocation 1 succeeds
  test::expect_error([] { Tensor::empty({1000}, DType::f32); }, {"out of host memory", "4000 bytes"});
  Tensor third = Tensor::empty({4}, DType::f32);  // it fired once; allocations work again
  EXPECT_EQ(a.stats().live_allocations, live + 2);
}

TEST(FaultInjection, NthCudaAllocationFailsWithACleanError) {
  FaultsOff off;
  if (device_count(DeviceType::cuda) == 0) GTEST_SKIP() << "no CUDA device on this machine";
  inject_host_allocation_failure(1);
  test::expect_error([] { Tensor::empty({1000}, DType::f32, Device::cuda(0)); },
                     {"cuda:0", "could not allocate 4000 bytes", "out of device memory"});
  Tensor ok = Tensor::empty({1000}, DType::f32, Device::cuda(0));
  EXPECT_EQ(ok.numel(), 1000);
}

TEST(FaultInjection, ModelLoadSurvivesAFailureAtEveryAllocation) {
  FaultsOff off;
  nn::Model m = small_mlp(3);
  std::map<std::string, std::string> meta = {{"config", m.config.dump()}};
  const std::string bytes = serialize_safetensors(m.state_dict(), meta);
  TrackingAllocator& a = TrackingAllocator::of(Device::cpu());
  const int64_t live = a.stats().live_allocations;
  int failures = 0;
  for (int64_t n = 1;; ++n) {
    ASSERT_LT(n, 1000) << "loading never succeeded";
    inject_host_allocation_failure(n);
    try {
      nn::Model loaded = models::load_model_from_bytes(bytes, "m.safetensors");
      EXPECT_TRUE(loaded.module != nullptr);
      break;  // n is beyond the allocations a load makes
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("out of host memory"), std::string::npos) << e.what();
      ++failures;
    }
    EXPECT_EQ(a.stats().live_allocations, live) << "allocation " << n << " failed and something leaked";
  }
  EXPECT_GT(failures, 3);  // the sweep really failed loads at several different points
  RecordProperty("allocation_failures_survived", failures);
  inject_host_allocation_failure(0);
  EXPECT_EQ(a.stats().live_allocations, live);
}

TEST(FaultInjection, CliReportsOutOfMemoryCleanlyWhereverItHappens) {
  test::ScratchDir dir;
  nn::Model m = small_mlp(4);
  const std::string model = dir.file("m.safetensors"), x = dir.file("x.npy"), y = dir.file("y.npy");
  nn::save_model(m, model);
  save_npy(x, Tensor::zeros({5, 8}, DType::f32));
  const std::string cmd = std::string(TINYOPT_CLI_PATH) + " infer --model " + model + " --input " + x + " --output " +
                          y + " > /dev/null 2> " + dir.file("err");
  int failed = 0;
  for (int n = 1;; ++n) {
    ASSERT_LT(n, 400) << "infer never succeeded";
    const int status = exit_status("TINYOPT_FAIL_ALLOC=" + std::to_string(n) + " " + cmd);
    if (status == 0) break;
    const std::string err = test::read_bytes(dir.file("err"));
    ASSERT_EQ(status, 1) << "allocation " << n << ": not a clean exit: " << err;
    EXPECT_EQ(err.rfind("tinyopt: error: ", 0), 0u) << err;
    EXPECT_NE(err.find("out of host memory: could not allocate"), std::string::npos) << err;
    EXPECT_FALSE(std::filesystem::exists(y)) << "an output was written although the run failed";
    ++failed;
  }
  EXPECT_GT(failed, 5);
  RecordProperty("cli_allocation_failures_survived", failed);
  EXPECT_EQ(load_npy(y).shape(), Shape({5, 3}));
}

TEST(FaultInjection, DiskFullWhileSavingAModelLeavesThePreviousFileIntact) {
  FaultsOff off;
  test::ScratchDir dir;
  const std::string path = dir.file("model.safetensors");
  nn::Model old_model = small_mlp(1), new_model = small_mlp(2);
  nn::save_model(old_model, path);
  const std::string old_bytes = test::read_bytes(path);
  const int64_t new_size = static_cast<int64_t>(
      serialize_safetensors(new_model.state_dict(), {{"config", new_model.config.dump()}}).size());
  for (int64_t free_bytes : {int64_t{0}, int64_t{1}, int64_t{8}, int64_t{100}, new_size / 2, new_size - 1}) {
    SCOPED_TRACE(free_bytes);
    inject_disk_free_bytes(free_bytes);
    test::expect_error([&] { nn::save_model(new_model, path); }, {path, "No space left on device"});
    inject_disk_free_bytes(-1);
    EXPECT_EQ(test::read_bytes(path), old_bytes);
    EXPECT_EQ(dir.entries(), std::vector<std::string>{"model.safetensors"}) << "a temporary file was left behind";
  }
  inject_disk_free_bytes(new_size);  // exactly enough
  nn::save_model(new_model, path);
  inject_disk_free_bytes(-1);
  EXPECT_EQ(models::load_model(path).state_dict().size(), new_model.state_dict().size());
  EXPECT_NE(test::read_bytes(path), old_bytes);
}

TEST(FaultInjection, CliOutputOnAFullDiskIsNotLeftHalfWritten) {
  test::ScratchDir dir;
  nn::Model m = small_mlp(5);
  const std::string model = dir.file("m.safetensors"), x = dir.file("x.npy"), y = dir.file("y.npy");
  nn::save_model(m, model);
  save_npy(x, Tensor::zeros({5, 8}, DType::f32));
  save_npy(y, Tensor::zeros({1}, DType::f64));  // a previous output that must survive
  const std::string before = test::read_bytes(y);
  const std::string cmd = std::string(TINYOPT_CLI_PATH) + " infer --model " + model + " --input " + x + " --output " +
                          y + " > /dev/null 2> " + dir.file("err");
  for (int free_bytes : {0, 10, 100}) {
    ASSERT_EQ(exit_status("TINYOPT_DISK_FREE_BYTES=" + std::to_string(free_bytes) + " " + cmd), 1);
    EXPECT_NE(test::read_bytes(dir.file("err")).find("No space left on device"), std::string::npos);
    EXPECT_EQ(test::read_bytes(y), before);
  }
  EXPECT_EQ(dir.entries(), (std::vector<std::string>{"err", "m.safetensors", "x.npy", "y.npy"}));
  ASSERT_EQ(exit_status(cmd), 0);
  EXPECT_EQ(load_npy(y).shape(), Shape({5, 3}));
}

// The real thing where the machine allows it: a 16 KiB tmpfs.
TEST(FaultInjection, RealFullTmpfsWhileSavingAModel) {
  if (::geteuid() != 0) GTEST_SKIP() << "mounting a tmpfs needs root";
  test::ScratchDir dir;
  const std::string mnt = dir.file("tiny");
  std::filesystem::create_directory(mnt);
  if (::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=16k") != 0)
    GTEST_SKIP() << "mount(tmpfs) not permitted here: " << std::strerror(errno);
  struct Unmount {
    std::string p;
    ~Unmount() { ::umount(p.c_str()); }
  } unmount{mnt};
  const std::string path = mnt + "/model.safetensors";
  nn::Model small = small_mlp(1);
  nn::save_model(small, path);  // ~1 KB: fits
  const std::string old_bytes = test::read_bytes(path);
  nn::Rng rng(2);
  nn::Model big = nn::build_model({{"arch", "sequential"},
                                   {"input_shape", {64}},
                                   {"layers", {{{"type", "linear"}, {"in_features", 64}, {"out_features", 128}}}}},
                                  &rng);  // 33 KB: does not
  test::expect_error([&] { nn::save_model(big, path); }, {path, "No space left on device"});
  EXPECT_EQ(test::read_bytes(path), old_bytes);
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(mnt)) names.push_back(e.path().filename().string());
  EXPECT_EQ(names, std::vector<std::string>{"model.safetensors"});
}

// A writer killed (SIGKILL) at random moments while it rewrites a model file
// over and over: the file under the model's name is always one complete
// version, never a mixture or a prefix. (A killed process cannot remove its
// temporary file; those never carry the target's name and are cleaned here.)
TEST(FaultInjection, ProcessKilledDuringModelWritesLeavesACompleteFile) {
  test::ScratchDir dir;
  const std::string path = dir.file("model.safetensors");
  nn::Rng rng(3);
  const nlohmann::json config = {{"arch", "sequential"},
                                 {"input_shape", {512}},
                                 {"layers", {{{"type", "linear"}, {"in_features", 512}, {"out_features", 1024}}}}};
  nn::Model a = nn::build_model(config, &rng), b = nn::build_model(config, &rng);  // 2 MB each
  const std::string bytes_a = serialize_safetensors(a.state_dict(), {{"config", config.dump()}});
  const std::string bytes_b = serialize_safetensors(b.state_dict(), {{"config", config.dump()}});
  write_file_atomic(path, bytes_a);
  std::mt19937 gen(11);
  const int kKills = 20;
  int stray_temps = 0;
  for (int k = 0; k < kKills; ++k) {
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      for (int i = 0;; ++i) {
        try {
          write_file_atomic(path, i % 2 ? bytes_a : bytes_b);
        } catch (...) {
          ::_exit(3);
        }
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5 + gen() % 60));
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the writer stopped by itself";
    const std::string now = test::read_bytes(path);
    ASSERT_TRUE(now == bytes_a || now == bytes_b) << "kill " << k << ": the file is neither version (" << now.size()
                                                  << " bytes)";
    EXPECT_NO_THROW(models::load_model(path));
    for (const std::string& name : dir.entries()) {
      if (name != "model.safetensors") {
        EXPECT_EQ(name.rfind("model.safetensors.tmp.", 0), 0u) << name;
        std::filesystem::remove(dir.file(name));
        ++stray_temps;
      }
    }
  }
  RecordProperty("kills", kKills);
  RecordProperty("stray_temporary_files", stray_temps);
}
