// nn/: model building from configs, model files, end-to-end gradients
// (backward vs finite differences through whole models) and training that learns.
#include <gtest/gtest.h>

#include <cmath>

#include "core/ops_nn.h"
#include "data/fashion_mnist.h"
#include "io/safetensors.h"
#include "models/model_file.h"
#include "nn/reference_models.h"
#include "nn/train.h"
#include "tests/test_io_util.h"

using namespace tinyopt;
using nlohmann::json;

namespace {

double loss_of(nn::Model& model, const Tensor& x, const Tensor& targets, Tensor* dlogits) {
  Tensor logits = model.forward(x);
  const int64_t classes = logits.size(-1);
  CrossEntropyArgs args{logits.reshape({logits.numel() / classes, classes}), targets, Tensor::empty({1}, DType::f32),
                        dlogits ? Tensor::empty({logits.numel() / classes, classes}, DType::f32) : Tensor()};
  ops::cross_entropy(args);
  if (dlogits) *dlogits = args.dlogits.reshape(logits.shape());
  return args.loss.data<float>()[0];
}

// Compares backward()'s parameter gradients with central differences of the
// loss for a sample of entries of every parameter.
void check_model_gradients(nn::Model& model, const Tensor& x, const Tensor& targets) {
  model.module->set_training(true);
  model.module->zero_grad();
  Tensor dlogits;
  loss_of(model, x, targets, &dlogits);
  model.module->backward(dlogits);
  for (nn::Parameter* p : model.module->parameters()) {
    float* w = p->value.data<float>();
    const int64_t n = p->value.numel();
    for (int64_t i = 0; i < n; i += std::max<int64_t>(1, n / 5)) {
      const float saved = w[i];
      const float h = 2e-3f;  // small enough not to cross ReLU/max-pool kinks, large for f32 round-off
      w[i] = saved + h;
      const double plus = loss_of(model, x, targets, nullptr);
      w[i] = saved - h;
      const double minus = loss_of(model, x, targets, nullptr);
      w[i] = saved;
      const double numeric = (plus - minus) / (2 * h);
      const double analytic = p->grad.data<float>()[i];
      EXPECT_NEAR(analytic, numeric, 2e-3 + 3e-2 * std::abs(numeric)) << p->name << "[" << i << "]";
    }
  }
}

TEST(NnModel, SequentialGradientsMatchFiniteDifferences) {
  nn::Rng rng(1);
  nn::Model model = nn::build_model(
      {{"arch", "sequential"},
       {"input_shape", {2, 8, 8}},
       {"layers",
        {{{"type", "conv2d"}, {"in_channels", 2}, {"out_channels", 3}, {"kernel_size", 3}, {"padding", 1}},
         {{"type", "gelu"}},
         {{"type", "maxpool2d"}, {"kernel_size", 2}},
         {{"type", "flatten"}},
         {{"type", "linear"}, {"in_features", 48}, {"out_features", 5}},
         {{"type", "relu"}},
         {{"type", "linear"}, {"in_features", 5}, {"out_features", 4}}}}},
      &rng);
  Tensor x = Tensor::empty({3, 2, 8, 8}, DType::f32);
  nn::init_uniform(x, 1.0, rng);
  Tensor y = Tensor::empty({3}, DType::i64);
  for (int i = 0; i < 3; ++i) y.data<int64_t>()[i] = i;
  check_model_gradients(model, x, y);
}

TEST(NnModel, GPTGradientsMatchFiniteDifferences) {
  nn::Rng rng(2);
  nn::Model model = nn::build_model({{"arch", "gpt"}, {"vocab_size", 7}, {"n_layer", 2}, {"n_head", 2},
                                     {"n_embd", 8}, {"block_size", 6}, {"bias", true}},
                                    &rng, {"a", "b", "c", "d", "e", "f", "g"});
  // Larger weights than nanoGPT's init so every path carries signal.
  for (nn::Parameter* p : model.module->parameters())
    if (p->value.ndim() == 2) nn::init_uniform(p->value, 0.5, rng);
  Tensor ids = Tensor::empty({2, 5}, DType::i32), targets = Tensor::empty({10}, DType::i32);
  for (int i = 0; i < 10; ++i) {
    ids.data<int32_t>()[i] = (i * 3 + 1) % 7;
    targets.data<int32_t>()[i] = (i * 5 + 2) % 7;
  }
  check_model_gradients(model, ids, targets);
}

TEST(NnModel, SaveLoadRoundTripKeepsWeightsConfigAndMetadata) {
  test::ScratchDir dir;
  nn::Rng rng(4);
  nn::Model model = nn::build_model(nn::cnn_config(), &rng);
  nn::save_model(model, dir.file("cnn.safetensors"), {{"test_accuracy", "0.9"}});
  nn::Model loaded = models::load_model(dir.file("cnn.safetensors"));
  EXPECT_EQ(loaded.config, model.config);
  EXPECT_EQ(loaded.metadata.at("test_accuracy"), "0.9");
  Tensor x = Tensor::empty({2, 1, 28, 28}, DType::f32);
  nn::init_uniform(x, 1.0, rng);
  Tensor a = model.forward(x), b = loaded.forward(x);
  for (int64_t i = 0; i < a.numel(); ++i) ASSERT_EQ(a.data<float>()[i], b.data<float>()[i]);
}

// Writes a model file whose tensors are those of `model` after `edit`, and expects loading to fail with `parts`.
void expect_load_error(nn::Model& model, const std::function<void(std::map<std::string, Tensor>&,
                                                                  std::map<std::string, std::string>&)>& edit,
                       std::initializer_list<std::string> parts) {
  test::ScratchDir dir;
  auto tensors = model.state_dict();
  std::map<std::string, std::string> meta{{"config", model.config.dump()}};
  edit(tensors, meta);
  save_safetensors(dir.file("m.safetensors"), tensors, meta);
  test::expect_error([&] { models::load_model(dir.file("m.safetensors")); }, parts);
}

TEST(NnModel, LoadRejectsFilesThatContradictTheirConfig) {
  nn::Rng rng(5);
  nn::Model mlp = nn::build_model(nn::mlp_config(), &rng);
  expect_load_error(mlp, [](auto& t, auto&) { t.erase("3.bias"); }, {"3.bias"});
  expect_load_error(mlp, [](auto& t, auto&) { t["9.weight"] = Tensor::zeros({2}, DType::f32); },
                    {"unexpected", "9.weight"});
  expect_load_error(mlp, [](auto& t, auto&) { t["1.weight"] = Tensor::zeros({784, 128}, DType::f32); },
                    {"1.weight", "[128, 784]"});
  expect_load_error(mlp, [](auto& t, auto&) { t["1.weight"] = Tensor::zeros({128, 784}, DType::f64); },
                    {"1.weight", "f32"});
  expect_load_error(mlp, [](auto&, auto& m) { m.erase("config"); }, {"config"});
  expect_load_error(mlp, [](auto&, auto& m) { m["config"] = "{not json"; }, {"config", "JSON"});
  expect_load_error(mlp, [](auto&, auto& m) { m["config"] = R"({"arch": "resnet"})"; }, {"unknown arch", "resnet"});
}

TEST(NnModel, BuildRejectsInconsistentConfigsNamingTheLayer) {
  json bad = nn::mlp_config();
  bad["layers"][1]["in_features"] = 100;
  test::expect_error([&] { nn::build_model(bad, nullptr); }, {"layer 1", "in_features 100"});
  bad = nn::cnn_config();
  bad["layers"][0]["dilation"] = 2;
  test::expect_error([&] { nn::build_model(bad, nullptr); }, {"layer 0", "dilation"});
  bad = nn::cnn_config();
  bad["layers"][2]["type"] = "avgpool2d";
  test::expect_error([&] { nn::build_model(bad, nullptr); }, {"layer 2", "avgpool2d"});
  bad = nn::cnn_config();
  bad["layers"][0]["kernel_size"] = 40;
  test::expect_error([&] { nn::build_model(bad, nullptr); }, {"layer 0", "does not fit"});
  for (const int64_t d : {int64_t{0}, int64_t{-3}, int64_t{1} << 40}) {
    bad = nn::mlp_config();
    bad["input_shape"] = {1, d, 28};
    test::expect_error([&] { nn::build_model(bad, nullptr); }, {"input_shape", "1 to 1048576", std::to_string(d)});
  }
  test::expect_error([&] { nn::build_model(nn::gpt_config(0), nullptr); }, {"vocab_size"});
  json gpt = nn::gpt_config(10);
  gpt["n_head"] = 3;
  test::expect_error([&] { nn::build_model(gpt, nullptr); }, {"divisible"});
}

TEST(NnTraining, MlpLearnsFashionMnistInOneShortEpoch) {
  if (!std::filesystem::exists(kFashionMnistDefaultDir)) GTEST_SKIP() << "skipped: dataset-fashion-mnist not installed";
  const FashionMnist data = load_fashion_mnist();
  nn::Rng rng(1);
  nn::Model model = nn::build_model(nn::mlp_config(), &rng);
  const int64_t n = 4000;
  Tensor x = data.train_images.reshape({data.train_images.size(0), 1, 28, 28});
  Tensor images = Tensor::empty({n, 1, 28, 28}, DType::f32), labels = Tensor::empty({n}, DType::i64);
  std::memcpy(images.raw_data(), x.raw_data(), images.nbytes());
  std::memcpy(labels.raw_data(), data.train_labels.raw_data(), labels.nbytes());
  const double before = nn::evaluate_classifier(model, data.calibration_images, data.calibration_labels).accuracy;
  nn::ClassifierTrainOptions o;
  o.epochs = 1;
  o.progress = false;
  nn::train_classifier(model, images, labels, o);
  const double after = nn::evaluate_classifier(model, data.calibration_images, data.calibration_labels).accuracy;
  EXPECT_LT(before, 0.3);  // untrained: near chance (10 classes)
  EXPECT_GT(after, 0.65);  // 4,000 images, one epoch
}

}  // namespace
