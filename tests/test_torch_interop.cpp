// Models cross the PyTorch boundary both ways with identical logits:
// PyTorch-built models (architectures unlike the reference ones) load in
// tinyopt, and tinyopt-written models load in PyTorch. Needs Debian's
// python3-torch; skipped with a message when it is not installed.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "io/npy.h"
#include "nn/model.h"
#include "tests/test_io_util.h"

using namespace tinyopt;

namespace {

const std::string kPython = "/usr/bin/python3";
const std::string kScript = std::string(TINYOPT_SOURCE_DIR) + "/tests/interop/torch_interop.py";

bool torch_available() {
  static const bool ok = test::system_python_has("torch, numpy");
  return ok;
}

int run(const std::string& cmd) { return std::system(cmd.c_str()); }

// max |a - b| <= rtol * max |b| (+ a small absolute floor), elementwise shapes equal.
void expect_close(const Tensor& got, const Tensor& want, double rtol) {
  ASSERT_EQ(got.shape(), want.shape()) << got.describe() << " vs " << want.describe();
  double max_diff = 0, max_ref = 0;
  for (int64_t i = 0; i < got.numel(); ++i) {
    const double a = got.data<float>()[i], b = want.data<float>()[i];
    ASSERT_TRUE(std::isfinite(a)) << "element " << i;
    max_diff = std::max(max_diff, std::abs(a - b));
    max_ref = std::max(max_ref, std::abs(b));
  }
  EXPECT_LE(max_diff, rtol * std::max(max_ref, 1e-3)) << "max diff " << max_diff << " max |ref| " << max_ref;
}

class TorchInterop : public testing::Test {
 protected:
  void SetUp() override {
    if (!torch_available()) GTEST_SKIP() << "skipped: /usr/bin/python3 with torch and numpy is not installed "
                                            "(apt-get install python3-torch)";
    dir_ = scratch_.path();
  }
  test::ScratchDir scratch_;
  std::string dir_;
};

TEST_F(TorchInterop, SequentialFromPyTorchGivesSameLogits) {
  ASSERT_EQ(run(kPython + " " + kScript + " export-sequential " + dir_), 0);
  ASSERT_EQ(run(std::string(TINYOPT_CLI_PATH) + " infer --model " + dir_ + "/model.safetensors --input " + dir_ +
                "/input.npy --output " + dir_ + "/got.npy > /dev/null"),
            0);
  expect_close(load_npy(dir_ + "/got.npy"), load_npy(dir_ + "/expected.npy"), 1e-4);
}

TEST_F(TorchInterop, GPTFromPyTorchGivesSameLogits) {
  ASSERT_EQ(run(kPython + " " + kScript + " export-gpt " + dir_), 0);
  ASSERT_EQ(run(std::string(TINYOPT_CLI_PATH) + " infer --model " + dir_ + "/model.safetensors --input " + dir_ +
                "/input.npy --output " + dir_ + "/got.npy > /dev/null"),
            0);
  expect_close(load_npy(dir_ + "/got.npy"), load_npy(dir_ + "/expected.npy"), 1e-4);
}

TEST_F(TorchInterop, TinyoptModelLoadsInPyTorchWithSameLogits) {
  nn::Rng rng(3);
  const nlohmann::json config = {
      {"arch", "sequential"},
      {"input_shape", {2, 9, 11}},
      {"layers",
       {{{"type", "conv2d"}, {"in_channels", 2}, {"out_channels", 5}, {"kernel_size", 3}, {"stride", 2}, {"padding", 1}},
        {{"type", "relu"}},
        {{"type", "flatten"}},
        {{"type", "linear"}, {"in_features", 5 * 5 * 6}, {"out_features", 4}}}}};
  nn::Model model = nn::build_model(config, &rng);
  const std::string path = dir_ + "/ours.safetensors";
  nn::save_model(model, path);
  Tensor x = Tensor::empty({3, 2, 9, 11}, DType::f32);
  nn::init_uniform(x, 1.0, rng);
  save_npy(dir_ + "/x.npy", x);
  Tensor ours = model.forward(x);
  ASSERT_EQ(run(kPython + " " + kScript + " logits " + path + " " + dir_ + "/x.npy " + dir_ + "/theirs.npy"), 0);
  expect_close(ours, load_npy(dir_ + "/theirs.npy"), 1e-4);
}

TEST_F(TorchInterop, TinyoptGPTLoadsInPyTorchWithSameLogits) {
  nn::Rng rng(5);
  nn::Model model = nn::build_model({{"arch", "gpt"}, {"vocab_size", 11}, {"n_layer", 2}, {"n_head", 4},
                                     {"n_embd", 16}, {"block_size", 12}, {"bias", true}},
                                    &rng, {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"});
  const std::string path = dir_ + "/gpt.safetensors";
  nn::save_model(model, path);
  Tensor ids = Tensor::empty({2, 9}, DType::i32);
  for (int64_t i = 0; i < ids.numel(); ++i) ids.data<int32_t>()[i] = static_cast<int32_t>((i * 7 + 3) % 11);
  save_npy(dir_ + "/ids.npy", ids);
  Tensor ours = model.forward(ids);
  ASSERT_EQ(run(kPython + " " + kScript + " logits " + path + " " + dir_ + "/ids.npy " + dir_ + "/theirs.npy"), 0);
  expect_close(ours, load_npy(dir_ + "/theirs.npy"), 1e-4);
}

}  // namespace
