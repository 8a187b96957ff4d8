// quant/ at model level: quantize_model on the reference CNN and MLP keeps
// test accuracy within 1 point (on a few hundred real test images), other
// sequential architectures (PyTorch-style: conv without bias, gelu, dropout,
// padding, stride, relu in odd places) quantize and track FP32, files round
// trip bit-exactly through models::load_model, and malformed quantized files,
// empty or non-finite calibration data and training are refused clearly.
#include <gtest/gtest.h>

#include <cmath>

#include "data/fashion_mnist.h"
#include "io/safetensors.h"
#include "models/model_file.h"
#include "nn/reference_models.h"
#include "nn/train.h"
#include "prune/magnitude_pruner.h"
#include "prune/sparse_model.h"
#include "quant/batch_rows.h"
#include "quant/quantized_conv2d.h"
#include "quant/quantized_layer.h"
#include "quant/quantized_model_builder.h"
#include "quant/quantizer.h"
#include "tests/test_io_util.h"

using namespace tinyopt;
using nlohmann::json;

namespace {

Tensor random_images(const nn::Model& model, int64_t n, uint64_t seed) {
  nn::Rng rng(seed);
  Tensor t = Tensor::empty(model.batch_shape(n), DType::f32);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = static_cast<float>(rng.uniform(-1, 1));
  return t;
}

// SQNR of `got` against `ref` in dB.
double sqnr_db(const Tensor& ref, const Tensor& got) {
  double s = 0, e = 0;
  for (int64_t i = 0; i < ref.numel(); ++i) {
    const double a = ref.data<float>()[i], b = got.data<float>()[i];
    s += a * a;
    e += (a - b) * (a - b);
  }
  return 10 * std::log10(s / std::max(e, 1e-30));
}

bool bitwise_equal(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() &&
         std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()) == 0;
}

const FashionMnist& fashion() {
  static const FashionMnist data = load_fashion_mnist();
  return data;
}

// A model quantized from a random FP32 one, saved to `dir`; returns the path.
std::string saved_quantized(const test::ScratchDir& dir, const json& config, const std::string& name) {
  nn::Rng rng(5);
  nn::Model fp32 = nn::build_model(config, &rng);
  nn::Model q = quant::quantize_model(fp32, random_images(fp32, 64, 1));
  const std::string path = dir.file(name);
  nn::save_model(q, path);
  return path;
}

json pytorch_style_config() {
  // The same unusual architecture tests/interop/torch_interop.py exports from PyTorch.
  return {{"arch", "sequential"},
          {"input_shape", {3, 17, 12}},
          {"layers",
           {{{"type", "conv2d"}, {"in_channels", 3}, {"out_channels", 8}, {"kernel_size", 5}, {"stride", 2},
             {"padding", 2}, {"bias", false}},
            {{"type", "gelu"}},
            {{"type", "maxpool2d"}, {"kernel_size", 3}, {"stride", 2}, {"padding", 1}},
            {{"type", "conv2d"}, {"in_channels", 8}, {"out_channels", 6}, {"kernel_size", 1}, {"stride", 1},
             {"padding", 0}, {"bias", true}},
            {{"type", "relu"}},
            {{"type", "flatten"}},
            {{"type", "dropout"}, {"p", 0.25}},
            {{"type", "linear"}, {"in_features", 90}, {"out_features", 13}, {"bias", true}},
            {{"type", "gelu"}},
            {{"type", "linear"}, {"in_features", 13}, {"out_features", 7}, {"bias", false}}}}};
}

}  // namespace

class QuantizedReferenceModel : public ::testing::TestWithParam<const char*> {};

TEST_P(QuantizedReferenceModel, AccuracyWithinOnePointOfFp32) {
  const std::string path = std::string(TINYOPT_SOURCE_DIR) + "/benchmarks/" + GetParam() + ".safetensors";
  nn::Model fp32 = models::load_model(path);
  const FashionMnist& data = fashion();
  quant::QuantizeOptions o;
  o.calibration_size = 1000;
  nn::Model q = quant::quantize_model(fp32, data.calibration_images, o);
  ASSERT_TRUE(quant::is_quantized(q));
  EXPECT_FALSE(quant::is_quantized(fp32));
  const int64_t n = 500;
  const Tensor images = quant::batch_rows(data.test_images.contiguous(), 0, fp32.batch_shape(n));
  Tensor labels = Tensor::empty({n}, DType::i64);
  std::copy(data.test_labels.data<int64_t>(), data.test_labels.data<int64_t>() + n, labels.data<int64_t>());
  const double a32 = nn::evaluate_classifier(fp32, images, labels).accuracy;
  const double a8 = nn::evaluate_classifier(q, images, labels).accuracy;
  EXPECT_GT(a32, 0.8);
  EXPECT_LT(std::fabs(a32 - a8), 0.01) << GetParam() << ": FP32 " << a32 << " INT8 " << a8;
  // Activations stay u8 between quantized layers: only the last layer writes f32.
  int u8_layers = 0, f32_layers = 0;
  for (size_t i = 0; i < q.sequential().size(); ++i)
    if (auto* l = dynamic_cast<quant::QuantizedLayer*>(&q.sequential().layer(i))) (l->u8_output() ? u8_layers : f32_layers)++;
  EXPECT_EQ(f32_layers, 1);
  EXPECT_GE(u8_layers, 2);
  EXPECT_EQ(q.num_classes(), 10);
}

INSTANTIATE_TEST_SUITE_P(Benchmarks, QuantizedReferenceModel, ::testing::Values("cnn", "mlp"));

TEST(QuantizeModel, OtherArchitecturesTrackFp32) {
  std::vector<json> configs = {pytorch_style_config()};
  // Linear layers without bias, a ReLU after max pooling (a u8 ReLU), conv with padding and stride.
  configs.push_back({{"arch", "sequential"},
                     {"input_shape", {2, 9, 9}},
                     {"layers",
                      {{{"type", "conv2d"}, {"in_channels", 2}, {"out_channels", 5}, {"kernel_size", 3}, {"stride", 2},
                        {"padding", 1}},
                       {{"type", "maxpool2d"}, {"kernel_size", 2}},
                       {{"type", "relu"}},
                       {{"type", "conv2d"}, {"in_channels", 5}, {"out_channels", 4}, {"kernel_size", 2}, {"bias", false}},
                       {{"type", "flatten"}},
                       {{"type", "linear"}, {"in_features", 4}, {"out_features", 11}, {"bias", false}},
                       {{"type", "dropout"}},
                       {{"type", "relu"}},
                       {{"type", "linear"}, {"in_features", 11}, {"out_features", 3}}}}});
  // A 1-D input, GELU between linears, ReLU as the last layer.
  configs.push_back({{"arch", "sequential"},
                     {"input_shape", {20}},
                     {"layers",
                      {{{"type", "linear"}, {"in_features", 20}, {"out_features", 32}},
                       {{"type", "gelu"}},
                       {{"type", "linear"}, {"in_features", 32}, {"out_features", 16}},
                       {{"type", "relu"}}}}});
  for (const json& config : configs) {
    nn::Rng rng(11);
    nn::Model fp32 = nn::build_model(config, &rng);
    nn::Model q = quant::quantize_model(fp32, random_images(fp32, 200, 2));
    const Tensor x = random_images(fp32, 37, 3);  // held out from calibration
    const Tensor ref = fp32.forward(x), got = q.forward(x);
    ASSERT_EQ(ref.shape(), got.shape()) << config.dump();
    ASSERT_EQ(got.dtype(), DType::f32);
    EXPECT_GT(sqnr_db(ref, got), 20.0) << config.dump();
  }
}

// A u8 conv followed by a k x k, stride-k max-pool runs fused (the kernel
// requantizes only the window maxima); the outputs must be the very bytes of
// the unfused pair, for the reference CNN and for odd sizes, padding, stride
// and 3x3 windows.
TEST(QuantizeModel, FusedConvMaxPoolMatchesUnfusedBitForBit) {
  std::vector<json> configs = {nn::cnn_config()};
  configs.push_back({{"arch", "sequential"},
                     {"input_shape", {3, 17, 15}},
                     {"layers",
                      {{{"type", "conv2d"}, {"in_channels", 3}, {"out_channels", 70}, {"kernel_size", 3}, {"stride", 1},
                        {"padding", 1}},
                       {{"type", "relu"}},
                       {{"type", "maxpool2d"}, {"kernel_size", 3}},
                       {{"type", "conv2d"}, {"in_channels", 70}, {"out_channels", 9}, {"kernel_size", 2}, {"stride", 2}},
                       {{"type", "maxpool2d"}, {"kernel_size", 1}},
                       {{"type", "flatten"}},
                       {{"type", "linear"}, {"in_features", 36}, {"out_features", 4}}}}});
  for (const json& config : configs) {
    nn::Rng rng(21);
    nn::Model fp32 = nn::build_model(config, &rng);
    nn::Model q = quant::quantize_model(fp32, random_images(fp32, 64, 4));
    int fused = 0;
    for (size_t i = 0; i < q.sequential().size(); ++i)
      if (auto* conv = dynamic_cast<quant::QuantizedConv2d*>(&q.sequential().layer(i)))
        fused += conv->fused_max_pool() > 0;
    EXPECT_GE(fused, 1) << config.dump();
    for (int64_t batch : {1, 5}) {
      const Tensor x = random_images(fp32, batch, 9);
      const Tensor with_fusion = q.forward(x);
      quant::fuse_conv_max_pool(q.sequential(), false);
      const Tensor without = q.forward(x);
      quant::fuse_conv_max_pool(q.sequential(), true);
      EXPECT_TRUE(bitwise_equal(with_fusion, without)) << config.dump() << " batch " << batch;
    }
  }
}

TEST(QuantizeModel, FloatOnlyLayersStayFp32WithANote) {
  nn::Rng rng(1);
  nn::Model fp32 = nn::build_model(pytorch_style_config(), &rng);
  nn::Model q = quant::quantize_model(fp32, random_images(fp32, 20, 2));
  const json notes = q.config["quantization"]["fp32_layers"];
  ASSERT_EQ(notes.size(), 2u);
  EXPECT_NE(notes[0].get<std::string>().find("layer 1 (gelu)"), std::string::npos);
  EXPECT_EQ(q.config["quantization"]["layers"], json({0, 3, 7, 9}));
}

TEST(QuantizeModel, SaveLoadRoundTripGivesIdenticalOutputs) {
  test::ScratchDir dir;
  for (const json& config : {nn::cnn_config(), pytorch_style_config()}) {
    nn::Rng rng(4);
    nn::Model fp32 = nn::build_model(config, &rng);
    quant::QuantizeOptions o;
    o.observer = "entropy";
    nn::Model q = quant::quantize_model(fp32, random_images(fp32, 50, 1), o);
    const std::string path = dir.file("q.safetensors");
    nn::save_model(q, path, {{"note", "kept"}});
    nn::Model back = models::load_model(path);
    EXPECT_TRUE(quant::is_quantized(back));
    EXPECT_EQ(back.metadata.at("note"), "kept");
    EXPECT_EQ(back.config["quantization"]["observer"], "entropy");
    EXPECT_EQ(back.config["quantization"]["calibration_size"], 50);
    const Tensor x = random_images(fp32, 9, 8);
    EXPECT_TRUE(bitwise_equal(q.forward(x), back.forward(x)));
    const SafetensorsFile file = load_safetensors(path);
    EXPECT_EQ(file.tensors.at("0.weight").dtype(), DType::i8);
    EXPECT_EQ(file.stored_dtypes.at("0.weight"), "I8");
    EXPECT_EQ(file.tensors.at("0.weight_scale").dtype(), DType::f32);
  }
}

TEST(QuantizeModel, BadCalibrationDataAndTrainingAreRefused) {
  nn::Rng rng(1);
  nn::Model fp32 = nn::build_model(nn::mlp_config(), &rng);
  test::expect_error([&] { quant::quantize_model(fp32, Tensor::empty({0, 1, 28, 28}, DType::f32)); }, {"empty"});
  test::expect_error([&] { quant::quantize_model(fp32, Tensor()); }, {"empty"});
  Tensor x = random_images(fp32, 10, 1);
  x.data<float>()[1234] = NAN;
  // The MLP's first quantized tensor is the flatten's output.
  test::expect_error([&] { quant::quantize_model(fp32, x); }, {"layer 0 (flatten) output", "non-finite"});
  // A layer that overflows to Inf is named.
  x.data<float>()[1234] = 0.5f;
  nn::Model big = nn::build_model(nn::mlp_config(), &rng);
  for (int i = 0; i < 10; ++i) big.sequential().parameters()[0]->value.data<float>()[i] = 3e38f;
  for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = 1.0f;
  test::expect_error([&] { quant::quantize_model(big, x); }, {"layer 2 (relu) output", "non-finite"});
  quant::QuantizeOptions o;
  o.calibration_size = 11;
  test::expect_error([&] { quant::quantize_model(fp32, random_images(fp32, 10, 1), o); }, {"11", "10"});
  o.calibration_size = 0;
  o.observer = "bogus";
  test::expect_error([&] { quant::quantize_model(fp32, random_images(fp32, 10, 1), o); }, {"unknown observer 'bogus'"});
  nn::Model q = quant::quantize_model(fp32, random_images(fp32, 10, 1));
  test::expect_error([&] { quant::quantize_model(q, random_images(fp32, 10, 1)); }, {"already quantized"});
  q.module->set_training(true);
  const Tensor logits = q.forward(random_images(fp32, 2, 1));
  test::expect_error([&] { q.module->backward(logits); }, {"inference-only"});
}

TEST(QuantizeModel, NothingToQuantizeIsAnErrorNotAnInt8Label) {
  nn::Rng rng(1);
  const json config = {{"arch", "sequential"},
                       {"input_shape", {1, 6, 6}},
                       {"layers", {{{"type", "maxpool2d"}, {"kernel_size", 2}}, {{"type", "gelu"}}, {{"type", "flatten"}}}}};
  nn::Model fp32 = nn::build_model(config, &rng);
  test::expect_error([&] { quant::quantize_model(fp32, random_images(fp32, 4, 1)); },
                     {"no layer of this model has an INT8 version", "maxpool2d, gelu, flatten"});
}

TEST(QuantizeModel, KeepsTheFp32ModelsMetadataAndQuantizesSparseLayersDensely) {
  nn::Rng rng(2);
  nn::Model fp32 = nn::build_model(nn::mlp_config(), &rng);
  fp32.metadata["input"] = R"({"dtype":"float32","range":[0,1]})";
  prune::MagnitudePruner::prune_per_layer(prune::prunable_weights(fp32), 0.75);
  nn::Model sparse = prune::to_sparse(fp32, 0.5);
  const Tensor images = random_images(fp32, 40, 3);
  nn::Model q = quant::quantize_model(sparse, images);
  EXPECT_EQ(q.metadata.at("input"), fp32.metadata.at("input"));
  EXPECT_EQ(q.config["quantization"]["layers"], json({1, 3, 5}));
  EXPECT_TRUE(q.config["quantization"]["fp32_layers"].empty());
  // The same model as quantizing the masked dense one: CSR changes nothing but the storage.
  nn::Model from_dense = quant::quantize_model(fp32, images);
  EXPECT_TRUE(bitwise_equal(q.state_dict().at("1.weight"), from_dense.state_dict().at("1.weight")));
  const Tensor x = random_images(fp32, 5, 9);
  EXPECT_GT(sqnr_db(fp32.forward(x), q.forward(x)), 20.0);
}

// Rewrites a saved quantized file with `edit` applied, and expects load_model to fail naming `parts`.
void expect_malformed(const std::string& good, const std::string& bad,
                      const std::function<void(std::map<std::string, Tensor>&, json&)>& edit,
                      std::initializer_list<std::string> parts) {
  SafetensorsFile f = load_safetensors(good);
  std::map<std::string, Tensor> tensors = f.tensors;
  json config = json::parse(f.metadata.at("config"));
  edit(tensors, config);
  std::map<std::string, std::string> meta = f.metadata;
  meta["config"] = config.dump();
  save_safetensors(bad, tensors, meta);
  test::expect_error([&] { models::load_model(bad); }, parts);
}

Tensor scalar(float v) { return Tensor::full({1}, v, DType::f32); }
Tensor scalar_i32(int32_t v) { return Tensor::full({1}, v, DType::i32); }

TEST(QuantizedModelFile, MalformedFilesAreRefusedNamingTheTensor) {
  test::ScratchDir dir;
  const std::string good = saved_quantized(dir, nn::cnn_config(), "good.safetensors");
  const std::string bad = dir.file("bad.safetensors");
  using T = std::map<std::string, Tensor>;
  expect_malformed(good, bad, [](T& t, json&) { t.erase("3.input_scale"); }, {"3.input_scale"});
  expect_malformed(good, bad, [](T& t, json&) { t.erase("0.weight_scale"); }, {"0.weight_scale"});
  expect_malformed(good, bad, [](T& t, json&) { t.erase("7.output_zero_point"); }, {"7.output_zero_point"});
  expect_malformed(good, bad, [](T& t, json&) { t["0.input_scale"] = scalar(0.0f); }, {"0.input_scale", "positive"});
  expect_malformed(good, bad, [](T& t, json&) { t["3.output_scale"] = scalar(-1.0f); }, {"3.output_scale", "positive"});
  expect_malformed(good, bad, [](T& t, json&) { t["0.input_scale"] = scalar(NAN); }, {"0.input_scale", "finite"});
  expect_malformed(good, bad, [](T& t, json&) { t["0.input_zero_point"] = scalar_i32(256); }, {"0.input_zero_point", "[0, 255]"});
  expect_malformed(good, bad, [](T& t, json&) { t["0.input_zero_point"] = scalar_i32(-1); }, {"0.input_zero_point"});
  expect_malformed(good, bad, [](T& t, json&) { t["3.input_zero_point"] = scalar(3.0f); }, {"3.input_zero_point", "i32"});
  expect_malformed(good, bad, [](T& t, json&) { t["0.weight"] = Tensor::zeros({32, 1, 3, 3}, DType::f32); },
                   {"0.weight", "i8"});
  expect_malformed(good, bad, [](T& t, json&) { t["0.weight"] = Tensor::zeros({32, 1, 9}, DType::i8); }, {"0.weight", "shape"});
  expect_malformed(good, bad, [](T& t, json&) { t["0.bias"] = Tensor::zeros({32}, DType::f32); }, {"0.bias", "i32"});
  expect_malformed(good, bad, [](T& t, json&) { t["3.weight"].data<int8_t>()[5] = -128; }, {"3.weight", "-128"});
  expect_malformed(good, bad, [](T& t, json&) { t["7.bias"].data<int32_t>()[1] = INT32_MAX; }, {"7.bias", "[1]", "2^30"});
  expect_malformed(good, bad, [](T& t, json&) { t["3.weight_scale"].data<float>()[2] = 0.0f; }, {"3.weight_scale", "[2]"});
  expect_malformed(good, bad, [](T& t, json&) { t["3.weight_scale"].data<float>()[2] = INFINITY; }, {"3.weight_scale"});
  // The consumer must agree with the producer about the u8 data's parameters.
  expect_malformed(good, bad, [](T& t, json&) { t["7.input_scale"] = scalar(t["7.input_scale"].data<float>()[0] * 2); },
                   {"7.input_scale", "3.output_scale"});
  expect_malformed(good, bad, [](T& t, json&) { t["extra"] = scalar(1.0f); }, {"unexpected", "extra"});
  expect_malformed(good, bad, [](T&, json& c) { c["quantization"]["format_version"] = 2; }, {"format_version"});
  expect_malformed(good, bad, [](T&, json& c) { c["quantization"]["layers"] = json({0, 3}); }, {"quantization.layers"});
  expect_malformed(good, bad, [](T&, json& c) { c["quantization"] = "yes"; }, {"'quantization' must be an object"});
}
