// The input contract of image models (nn/input_contract.h): `tinyopt train`
// writes it, the reference models carry it, `tinyopt infer` warns on stderr
// when an input is far off the declared scale (raw 0..255 pixels, mean/std
// normalized values), stays silent on right inputs and on models without a
// contract, refuses a malformed one, and says all this in --help.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "data/fashion_mnist.h"
#include "io/npy.h"
#include "models/model_file.h"
#include "nn/input_contract.h"
#include "nn/model.h"
#include "tests/test_io_util.h"

using namespace tinyopt;

namespace {

bool have_fashion_mnist() { return std::filesystem::exists(std::string(kFashionMnistDefaultDir) + "/t10k-images-idx3-ubyte.gz"); }

int run_cli(const std::string& args, const std::string& out, const std::string& err) {
  return std::system((std::string(TINYOPT_CLI_PATH) + " " + args + " >" + out + " 2>" + err).c_str());
}

// The first n test images with every value mapped through f.
template <typename F>
Tensor test_images(int64_t n, F f) {
  const FashionMnist data = load_fashion_mnist();
  Tensor x = Tensor::empty({n, 1, 28, 28}, DType::f32);
  const float* src = data.test_images.data<float>();
  for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = f(src[i]);
  return x;
}

}  // namespace

TEST(InferCommand, WarnsWhenInputsAreOffTheModelsDeclaredScale) {
  if (!have_fashion_mnist()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  test::ScratchDir dir;
  const std::string mlp = std::string(TINYOPT_SOURCE_DIR) + "/benchmarks/mlp.safetensors";
  const std::string out = dir.file("out"), err = dir.file("err"), y = dir.file("y.npy");
  auto infer = [&](const std::string& model, const Tensor& x) {
    save_npy(dir.file("x.npy"), x);
    EXPECT_EQ(run_cli("infer --model " + model + " --input " + dir.file("x.npy") + " --output " + y, out, err), 0)
        << test::read_bytes(err);
    EXPECT_EQ(load_npy(y).shape(), Shape({x.size(0), 10}));  // a warning, still written
    return test::read_bytes(err);
  };
  const std::string right = infer(mlp, test_images(200, [](float v) { return v; }));
  EXPECT_EQ(right, "");
  const std::string raw = infer(mlp, test_images(200, [](float v) { return v * 255.0f; }));
  EXPECT_NE(raw.find("tinyopt: warning: " + dir.file("x.npy") + ": input values lie in [0, 255]"), std::string::npos)
      << raw;
  EXPECT_NE(raw.find("float32 in [0, 1] (pixel / 255, no mean/std normalization)"), std::string::npos) << raw;
  EXPECT_NE(raw.find("divide by 255"), std::string::npos) << raw;
  // torchvision's Normalize with Fashion-MNIST's mean and std.
  const std::string normalized = infer(mlp, test_images(200, [](float v) { return (v - 0.2860f) / 0.3530f; }));
  EXPECT_NE(normalized.find("mean/std normalized"), std::string::npos) << normalized;
  // Slightly outside (within the margin) is not "far outside".
  EXPECT_EQ(infer(mlp, test_images(200, [](float v) { return v * 1.2f - 0.1f; })), "");

  // A model without the metadata: no contract, no warning.
  nn::Model bare = models::load_model(mlp);
  bare.metadata.erase("input");
  nn::save_model(bare, dir.file("bare.safetensors"));
  EXPECT_EQ(infer(dir.file("bare.safetensors"), test_images(20, [](float v) { return v * 255.0f; })), "");

  // A malformed contract is an error naming the file and the key.
  nn::save_model(bare, dir.file("bad.safetensors"), {{"input", R"({"dtype":"float32","range":[1,0]})"}});
  save_npy(dir.file("x.npy"), test_images(2, [](float v) { return v; }));
  EXPECT_NE(run_cli("infer --model " + dir.file("bad.safetensors") + " --input " + dir.file("x.npy") + " --output " + y,
                    out, err),
            0);
  const std::string msg = test::read_bytes(err);
  EXPECT_NE(msg.find("bad.safetensors: metadata 'input': 'range' must be finite with low < high"), std::string::npos)
      << msg;
}

TEST(InferCommand, HelpStatesTheInputContract) {
  test::ScratchDir dir;
  ASSERT_EQ(run_cli("infer --help", dir.file("out"), dir.file("err")), 0);
  const std::string help = test::read_bytes(dir.file("out"));
  for (const char* part : {"float32 [N, ...input_shape]", "metadata 'input'",
                           "float32 in [0, 1] (pixel / 255, no mean/std normalization)", "warning"})
    EXPECT_NE(help.find(part), std::string::npos) << part << " not in:\n" << help;
}

TEST(NnModel, ReferenceImageModelsDeclareTheirInput) {
  for (const char* name : {"mlp", "cnn"}) {
    const std::string path = std::string(TINYOPT_SOURCE_DIR) + "/benchmarks/" + name + ".safetensors";
    const auto contract = nn::input_contract(models::load_model(path), path);
    ASSERT_TRUE(contract.has_value()) << path;
    EXPECT_EQ(contract->describe(), nn::reference_image_input().describe()) << path;
  }
}

TEST(TrainCommand, WritesTheInputContract) {
  if (!have_fashion_mnist()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  test::ScratchDir dir;
  const std::string model = dir.file("m.safetensors");
  ASSERT_EQ(run_cli("train mlp --epochs 1 --batch-size 1024 --json --out " + model, dir.file("out"), dir.file("err")), 0)
      << test::read_bytes(dir.file("err"));
  const auto contract = nn::input_contract(models::load_model(model), model);
  ASSERT_TRUE(contract.has_value());
  EXPECT_EQ(contract->lo, 0.0);
  EXPECT_EQ(contract->hi, 1.0);
  EXPECT_EQ(contract->normalization, "pixel / 255, no mean/std normalization");
}
