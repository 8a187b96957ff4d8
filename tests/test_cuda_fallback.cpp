// CUDA unavailable at run time: on a machine without a usable GPU (CPU-only
// build, or a CUDA build without a device or driver), asking for CUDA runs on
// the CPU after exactly one clear message, or fails cleanly in strict mode.
// With a usable GPU these tests skip (they are about its absence).
#include <gtest/gtest.h>

#include "core/device_runtime.h"
#include "core/dispatcher.h"
#include "io/npy.h"
#include "nn/model.h"
#include "tests/test_io_util.h"

using namespace tinyopt;

namespace {

size_t count_lines_with(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t pos = 0; (pos = text.find(needle, pos)) != std::string::npos; pos += needle.size()) ++n;
  return n;
}

}  // namespace

TEST(CudaFallback, UnusableCudaDeviceFallsBackToTheCpuWithOneMessage) {
  if (cuda_unusable_reason().empty()) GTEST_SKIP() << "a CUDA device is usable here";
  testing::internal::CaptureStderr();
  const Device d = usable_device_or_cpu(Device::cuda(0), "profile --device cuda");
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_TRUE(d.is_cpu());
  EXPECT_EQ(count_lines_with(err, "\n"), 1u) << err;
  EXPECT_NE(err.find("profile --device cuda: cuda:0 is not usable ("), std::string::npos) << err;
  EXPECT_NE(err.find(cuda_unusable_reason()), std::string::npos) << err;
  EXPECT_NE(err.find("running on the CPU instead"), std::string::npos) << err;
  EXPECT_TRUE(usable_device_or_cpu(Device::cpu(), "x").is_cpu());
}

TEST(CudaFallback, StrictModeRefusesInsteadOfFallingBack) {
  if (cuda_unusable_reason().empty()) GTEST_SKIP() << "a CUDA device is usable here";
  OptimizedBackend& backend = OptimizedBackend::instance();
  const bool was = backend.strict();
  backend.set_strict(true);
  test::expect_error([] { usable_device_or_cpu(Device::cuda(0), "profile --device cuda"); },
                     {"cuda:0 is not usable", "strict mode"});
  backend.set_strict(was);
}

// A CUDA build on a machine without a GPU: `--backend <cuda variant>` runs the
// command on the CPU and says so once, not once per op.
TEST(CudaFallback, CliBackendChoiceOfACudaVariantWithoutADevice) {
  std::string cuda_variant;
  for (const OpBase* op : OptimizedBackend::instance().ops())
    for (const auto& v : op->variant_infos())
      if (v.device == DeviceType::cuda && cuda_variant.empty()) cuda_variant = v.name;
  if (cuda_variant.empty()) GTEST_SKIP() << "CPU-only build: no CUDA variants to choose";
  if (cuda_unusable_reason().empty()) GTEST_SKIP() << "a CUDA device is usable here";
  test::ScratchDir dir;
  nn::Rng rng(1);
  nn::Model m = nn::build_model({{"arch", "sequential"}, {"input_shape", {8}},
                                 {"layers", {{{"type", "linear"}, {"in_features", 8}, {"out_features", 2}}}}},
                                &rng);
  const std::string model = dir.file("m.safetensors"), x = dir.file("x.npy"), y = dir.file("y.npy");
  nn::save_model(m, model);
  save_npy(x, Tensor::zeros({3, 8}, DType::f32));
  const std::string cmd = std::string(TINYOPT_CLI_PATH) + " --backend " + cuda_variant + " infer --model " + model +
                          " --input " + x + " --output " + y;
  ASSERT_EQ(std::system((cmd + " > /dev/null 2> " + dir.file("err")).c_str()), 0) << test::read_bytes(dir.file("err"));
  const std::string err = test::read_bytes(dir.file("err"));
  EXPECT_EQ(count_lines_with(err, "no CUDA device is usable"), 1u) << err;
  EXPECT_EQ(load_npy(y).shape(), Shape({3, 2}));
  EXPECT_NE(std::system((cmd + " --strict > /dev/null 2> " + dir.file("err")).c_str()), 0);
  EXPECT_NE(test::read_bytes(dir.file("err")).find("strict mode forbids"), std::string::npos);
}
