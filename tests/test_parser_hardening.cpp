// Hand-written bad inputs for the three parsers fuzzed by the "recipe",
// "quant_model" and "csr_model" targets (fuzz/fuzz_targets.cpp): what a fuzzer
// reaches only by luck (a scale that is exactly NaN, a row offset that goes
// back by one, a config that declares gigabytes next to a few tensor bytes)
// is asserted here case by case, each with the error it must give: the file
// or recipe, the tensor or key, and what was expected.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <limits>

#include "io/safetensors.h"
#include "models/model_file.h"
#include "nn/model.h"
#include "nn/sparse_linear.h"
#include "olympics/recipe.h"
#include "prune/magnitude_pruner.h"
#include "prune/sparse_model.h"
#include "quant/quantizer.h"
#include "tests/test_io_util.h"

using namespace tinyopt;
using nlohmann::json;
using Tensors = std::map<std::string, Tensor>;

namespace {

json sequential(const json& input_shape, const json& layers) {
  return {{"arch", "sequential"}, {"input_shape", input_shape}, {"layers", layers}};
}

Tensor images_for(const nn::Model& m, int64_t n, uint64_t seed) {
  nn::Rng rng(seed);
  Tensor t = Tensor::empty(m.batch_shape(n), DType::f32);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = static_cast<float>(rng.uniform(-1, 1));
  return t;
}

// A model file's tensors and config, to be edited and loaded from memory.
struct ModelFile {
  Tensors tensors;
  json config;
  std::string bytes() const { return serialize_safetensors(tensors, {{"config", config.dump()}}); }
};

ModelFile file_of(nn::Model& m) { return {m.state_dict(), m.config}; }

// Tensors share storage when a ModelFile is copied: give `name` its own before writing into it.
Tensor& mutable_tensor(ModelFile& f, const std::string& name) {
  Tensor& t = f.tensors.at(name);
  t = t.clone();
  return t;
}

// Loads `f` after `edit`, expecting an error naming the in-memory file and `parts`.
void expect_refused(const ModelFile& good, const std::function<void(ModelFile&)>& edit,
                    std::initializer_list<std::string> parts, int line = __builtin_LINE()) {
  SCOPED_TRACE(testing::Message() << "case at line " << line);
  ModelFile f = good;
  edit(f);
  const std::string msg = test::expect_error([&] { models::load_model_from_bytes(f.bytes(), "bad.safetensors"); }, parts);
  EXPECT_NE(msg.find("bad.safetensors"), std::string::npos) << "the error does not name the file: " << msg;
}

Tensor i32_values(std::initializer_list<int32_t> v) {
  Tensor t = Tensor::empty({static_cast<int64_t>(v.size())}, DType::i32);
  int64_t i = 0;
  for (int32_t x : v) t.data<int32_t>()[i++] = x;
  return t;
}

// ---- quantized model files --------------------------------------------------

// linear(6 -> 5) + relu -> linear(5 -> 4): layer 0 writes u8 for layer 2, which writes f32 logits.
ModelFile quantized_mlp() {
  const json config = sequential({6}, {{{"type", "linear"}, {"in_features", 6}, {"out_features", 5}},
                                       {{"type", "relu"}},
                                       {{"type", "linear"}, {"in_features", 5}, {"out_features", 4}}});
  nn::Rng rng(3);
  nn::Model fp32 = nn::build_model(config, &rng);
  nn::Model q = quant::quantize_model(fp32, images_for(fp32, 32, 4));
  return file_of(q);
}

ModelFile quantized_single_linear() {
  const json config = sequential({6}, {{{"type", "linear"}, {"in_features", 6}, {"out_features", 4}}});
  nn::Rng rng(5);
  nn::Model fp32 = nn::build_model(config, &rng);
  nn::Model q = quant::quantize_model(fp32, images_for(fp32, 32, 6));
  return file_of(q);
}

TEST(QuantizedModelFileHardening, BadScalesAreRefusedNamingTheTensorAndChannel) {
  const ModelFile good = quantized_mlp();
  ASSERT_NO_THROW(models::load_model_from_bytes(good.bytes(), "good"));
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  for (float bad : {nan, inf, -inf, 0.0f, -0.0f, -0.5f}) {
    SCOPED_TRACE(bad);
    expect_refused(good, [&](ModelFile& f) { mutable_tensor(f, "2.weight_scale").data<float>()[3] = bad; },
                   {"2.weight_scale", "[3]", "finite positive"});
    expect_refused(good, [&](ModelFile& f) { f.tensors["2.input_scale"] = Tensor::full({1}, bad, DType::f32); },
                   {"2.input_scale", "finite positive"});
    expect_refused(good, [&](ModelFile& f) { f.tensors["0.output_scale"] = Tensor::full({1}, bad, DType::f32); },
                   {"0.output_scale", "finite positive"});
  }
  // Finite and positive, but their product, a layer's f32 output scale, is not a finite positive f32
  // (Inf made every zero accumulator NaN, 0 every output 0). One linear layer: quantize -> f32 logits.
  const ModelFile single = quantized_single_linear();
  expect_refused(single, [](ModelFile& f) {
    f.tensors["0.input_scale"] = Tensor::full({1}, 1e30f, DType::f32);
    mutable_tensor(f, "0.weight_scale").data<float>()[1] = 1e30f;
  }, {"0: output scale", "weight_scale[1]", "not a finite positive f32"});
  expect_refused(single, [](ModelFile& f) {
    f.tensors["0.input_scale"] = Tensor::full({1}, 1e-30f, DType::f32);
    mutable_tensor(f, "0.weight_scale").data<float>()[0] = 1e-30f;
  }, {"0: output scale", "weight_scale[0]", "not a finite positive f32"});
  // Finite and positive, but the requantization multiplier in_scale * w_scale / out_scale leaves the fixed-point range.
  expect_refused(good, [](ModelFile& f) {
    f.tensors["0.input_scale"] = Tensor::full({1}, 1e30f, DType::f32);
  }, {"requantization multiplier", "out of the representable range"});
}

TEST(QuantizedModelFileHardening, ZeroPointsOutOfRangeOrMisshapenAreRefused) {
  const ModelFile good = quantized_mlp();
  for (int32_t bad : {-1, 256, 70000, std::numeric_limits<int32_t>::min()}) {
    SCOPED_TRACE(bad);
    expect_refused(good, [&](ModelFile& f) { f.tensors["0.input_zero_point"] = i32_values({bad}); },
                   {"0.input_zero_point", "[0, 255]"});
    expect_refused(good, [&](ModelFile& f) { f.tensors["0.output_zero_point"] = i32_values({bad}); },
                   {"0.output_zero_point", "[0, 255]"});
  }
  expect_refused(good, [](ModelFile& f) { f.tensors["0.input_zero_point"] = i32_values({1, 2}); },
                 {"0.input_zero_point", "shape"});
  expect_refused(good, [](ModelFile& f) { f.tensors["0.input_zero_point"] = Tensor::zeros({1}, DType::u8); },
                 {"0.input_zero_point", "i32"});
}

TEST(QuantizedModelFileHardening, ShapeCountAndDtypeMismatchesNameTheTensor) {
  const ModelFile good = quantized_mlp();
  // One scale per output channel: 4, not 5 or 3.
  expect_refused(good, [](ModelFile& f) { f.tensors["2.weight_scale"] = Tensor::full({5}, 0.1, DType::f32); },
                 {"2.weight_scale", "[4]"});
  expect_refused(good, [](ModelFile& f) { f.tensors["2.weight_scale"] = Tensor::full({4}, 0.1, DType::f64); },
                 {"2.weight_scale", "f32"});
  // Weights: i8 of the FP32 layer's shape.
  expect_refused(good, [](ModelFile& f) { f.tensors["2.weight"] = Tensor::zeros({4, 5}, DType::u8); },
                 {"2.weight", "i8"});
  expect_refused(good, [](ModelFile& f) { f.tensors["2.weight"] = Tensor::zeros({5, 4}, DType::i8); },
                 {"2.weight", "shape"});
  expect_refused(good, [](ModelFile& f) { f.tensors["2.weight"] = Tensor::zeros({20}, DType::i8); },
                 {"2.weight", "shape"});
  // Bias: i32 [out], present exactly when the config says so.
  expect_refused(good, [](ModelFile& f) { f.tensors["2.bias"] = Tensor::zeros({5}, DType::i32); }, {"2.bias", "[4]"});
  expect_refused(good, [](ModelFile& f) { f.tensors["2.bias"] = Tensor::zeros({4}, DType::i64); }, {"2.bias", "i32"});
  expect_refused(good, [](ModelFile& f) { f.tensors.erase("2.bias"); }, {"2.bias"});
  expect_refused(good, [](ModelFile& f) { f.config["layers"][2]["bias"] = false; }, {"unexpected", "2.bias"});
  // A layer count that disagrees with the tensors, a config whose in_features chain breaks.
  expect_refused(good, [](ModelFile& f) { f.config["layers"][2]["out_features"] = 6; }, {"2.weight", "shape"});
  expect_refused(good, [](ModelFile& f) { f.config["layers"][2]["in_features"] = 4; }, {"layer 2", "in_features"});
  expect_refused(good, [](ModelFile& f) { f.config["quantization"]["layers"] = json::array({0}); },
                 {"quantization.layers", "is [0] but this architecture quantizes layers [0,2]"});
  expect_refused(good, [](ModelFile& f) { f.config["arch"] = "gpt"; }, {"only sequential models can be quantized"});
}

TEST(QuantizedModelFileHardening, HugeDeclaredLayersAreRefusedBeforeAllocating) {
  const ModelFile good = quantized_mlp();
  // The loader builds an FP32 skeleton of the declared architecture first: 2^24 x 2^20 f32 weights
  // (64 TiB) next to a few bytes of tensors must be refused before that allocation.
  expect_refused(good, [](ModelFile& f) {
    f.config["input_shape"] = {1 << 20};
    f.config["layers"][0]["in_features"] = 1 << 20;
    f.config["layers"][0]["out_features"] = 1 << 24;
  }, {"layer 0 (linear)", "bytes"});
  // Below max_model_bytes (16 GiB) but far beyond the file: 2^14 x 2^16 weights = 4 GiB of f32.
  expect_refused(good, [](ModelFile& f) {
    f.config["input_shape"] = {1 << 14};
    f.config["layers"][0]["in_features"] = 1 << 14;
    f.config["layers"][0]["out_features"] = 1 << 16;
  }, {"layer 0 (linear)", "the file's tensors hold only"});
}

// A quantized model with a pruned CSR layer left in FP32 after a quantized
// one, as the quantizer wrote them before it quantized CSR layers densely:
// such files still load, and the loader must read the layer's weights (it
// once ignored whatever the file held for the layer and ran on zeros).
TEST(QuantizedModelFileHardening, FloatCsrLayerOfAQuantizedModelIsLoadedNotZeroed) {
  const json config = sequential({1, 4, 4}, {{{"type", "conv2d"}, {"in_channels", 1}, {"out_channels", 2},
                                              {"kernel_size", 3}, {"padding", 1}},
                                             {{"type", "relu"}},
                                             {{"type", "flatten"}},
                                             {{"type", "linear"}, {"in_features", 32}, {"out_features", 3}}});
  nn::Rng rng(9);
  nn::Model dense = nn::build_model(config, &rng);
  prune::MagnitudePruner::prune_global(prune::prunable_weights(dense), 0.6);
  nn::Model sparse = prune::to_sparse(dense, 0.0);
  ASSERT_EQ(sparse.config["layers"][3]["type"], "sparse_linear");
  const Tensors sparse_tensors = sparse.state_dict();
  ASSERT_GT(sparse_tensors.at("3.weight.values").numel(), 0);
  // Today's quantizer quantizes layer 3 too; turn its file into the older layout: layer 0 alone
  // in INT8, writing f32 (no u8 consumer), layer 3 FP32 in CSR.
  nn::Model q = quant::quantize_model(dense, images_for(dense, 16, 2));
  ModelFile good = file_of(q);
  for (const char* name : {"0.output_scale", "0.output_zero_point", "3.weight", "3.weight_scale", "3.bias",
                           "3.input_scale", "3.input_zero_point"})
    ASSERT_EQ(good.tensors.erase(name), 1u) << name;
  for (const char* name : {"3.weight.row_ptr", "3.weight.col_idx", "3.weight.values", "3.bias"})
    good.tensors[name] = sparse_tensors.at(name);
  good.config["layers"][3] = sparse.config["layers"][3];
  good.config["quantization"]["layers"] = json::array({0});
  good.config["quantization"]["fp32_layers"] = json::array({"layer 3 (sparse_linear) has no INT8 version and stays FP32"});
  nn::Model back = models::load_model_from_bytes(good.bytes(), "q.safetensors");
  auto* csr = dynamic_cast<nn::SparseLinear*>(&back.sequential().layer(3));
  ASSERT_NE(csr, nullptr);
  const Tensor& want = sparse_tensors.at("3.weight.values");
  ASSERT_EQ(csr->values.value.shape(), want.shape());
  EXPECT_EQ(std::memcmp(csr->values.value.raw_data(), want.raw_data(), want.nbytes()), 0);
  EXPECT_EQ(back.forward(images_for(back, 5, 8)).shape(), Shape({5, 3}));
  // Its tensors are required and checked like in an FP32 file.
  expect_refused(good, [](ModelFile& f) { f.tensors.erase("3.weight.values"); }, {"3.weight.values"});
  expect_refused(good, [](ModelFile& f) { f.tensors.erase("3.bias"); }, {"3.bias"});
  expect_refused(good, [](ModelFile& f) { mutable_tensor(f, "3.weight.col_idx").data<int32_t>()[0] = 32; },
                 {"3.weight.", "out of range"});
}

// ---- CSR layers in model files ----------------------------------------------

// linear(4 -> 3) in CSR, rows {0: cols 0, 2}, {1: none}, {2: cols 1, 3}; no second layer needed.
ModelFile csr_file(DType row_ptr_dtype = DType::i32) {
  ModelFile f;
  f.config = sequential({4}, {{{"type", "sparse_linear"}, {"in_features", 4}, {"out_features", 3}}});
  Tensor rp = Tensor::empty({4}, row_ptr_dtype);
  const int64_t offsets[] = {0, 2, 2, 4};
  for (int i = 0; i < 4; ++i) {
    if (row_ptr_dtype == DType::i32) rp.data<int32_t>()[i] = static_cast<int32_t>(offsets[i]);
    else rp.data<int64_t>()[i] = offsets[i];
  }
  f.tensors["0.weight.row_ptr"] = rp;
  f.tensors["0.weight.col_idx"] = i32_values({0, 2, 1, 3});
  f.tensors["0.weight.values"] = Tensor::full({4}, 0.5, DType::f32);
  f.tensors["0.bias"] = Tensor::zeros({3}, DType::f32);
  return f;
}

void set_row_ptr(ModelFile& f, std::initializer_list<int64_t> v) {
  Tensor& rp = mutable_tensor(f, "0.weight.row_ptr");
  int64_t i = 0;
  for (int64_t x : v) {
    if (rp.dtype() == DType::i32) rp.data<int32_t>()[i++] = static_cast<int32_t>(x);
    else rp.data<int64_t>()[i++] = x;
  }
}

TEST(CsrModelFileHardening, RowOffsetsMustStartAtZeroRiseAndEndAtNnz) {
  for (DType dt : {DType::i32, DType::i64}) {
    SCOPED_TRACE(dtype_name(dt));
    const ModelFile good = csr_file(dt);
    nn::Model m = models::load_model_from_bytes(good.bytes(), "good");
    EXPECT_EQ(dynamic_cast<nn::SparseLinear&>(m.sequential().layer(0)).nnz(), 4);
    expect_refused(good, [](ModelFile& f) { set_row_ptr(f, {1, 2, 2, 4}); }, {"0.weight.", "row_ptr[0] must be 0"});
    expect_refused(good, [](ModelFile& f) { set_row_ptr(f, {0, 3, 2, 4}); }, {"0.weight.", "not monotone"});
    expect_refused(good, [](ModelFile& f) { set_row_ptr(f, {0, -1, 2, 4}); }, {"0.weight.", "not monotone"});
    expect_refused(good, [](ModelFile& f) { set_row_ptr(f, {0, 2, 2, 3}); }, {"0.weight.", "row_ptr[3] = 3", "4"});
    expect_refused(good, [](ModelFile& f) { set_row_ptr(f, {0, 2, 2, 5}); }, {"0.weight.", "row_ptr[3] = 5"});
  }
  // i64 offsets beyond i32 and beyond any real nnz: refused, never used to index.
  const ModelFile wide = csr_file(DType::i64);
  expect_refused(wide, [](ModelFile& f) { set_row_ptr(f, {0, int64_t{1} << 40, int64_t{1} << 41, 4}); },
                 {"0.weight.", "not monotone"});
  expect_refused(wide, [](ModelFile& f) { set_row_ptr(f, {0, 2, 2, int64_t{1} << 40}); },
                 {"0.weight.", "must equal the number of stored values 4"});
}

TEST(CsrModelFileHardening, ColumnIndicesMustBeInRangeAndSortedPerRow) {
  const ModelFile good = csr_file();
  expect_refused(good, [](ModelFile& f) { f.tensors["0.weight.col_idx"] = i32_values({0, 4, 1, 3}); },
                 {"0.weight.", "col_idx[1] = 4", "out of range [0, 4)"});
  expect_refused(good, [](ModelFile& f) { f.tensors["0.weight.col_idx"] = i32_values({0, 2, -1, 3}); },
                 {"0.weight.", "col_idx[2] = -1", "out of range"});
  expect_refused(good, [](ModelFile& f) {
    f.tensors["0.weight.col_idx"] = i32_values({0, 2, 1, std::numeric_limits<int32_t>::max()});
  }, {"0.weight.", "out of range"});
  expect_refused(good, [](ModelFile& f) { f.tensors["0.weight.col_idx"] = i32_values({2, 0, 1, 3}); },
                 {"0.weight.", "strictly increasing"});
  expect_refused(good, [](ModelFile& f) { f.tensors["0.weight.col_idx"] = i32_values({0, 0, 1, 3}); },
                 {"0.weight.", "strictly increasing"});
}

TEST(CsrModelFileHardening, CountShapeAndDtypeMismatchesNameTheTensor) {
  const ModelFile good = csr_file();
  expect_refused(good, [](ModelFile& f) { f.tensors["0.weight.values"] = Tensor::full({3}, 0.5, DType::f32); },
                 {"0.weight.values", "[4]"});
  expect_refused(good, [](ModelFile& f) { f.tensors["0.weight.values"] = Tensor::full({4}, 0.5, DType::f64); },
                 {"0.weight.values", "F32"});
  expect_refused(good, [](ModelFile& f) { f.tensors["0.weight.values"] = Tensor::full({2, 2}, 0.5, DType::f32); },
                 {"0.weight.values"});
  expect_refused(good, [](ModelFile& f) { f.tensors["0.weight.col_idx"] = Tensor::zeros({4}, DType::i64); },
                 {"0.weight.col_idx", "I32"});
  expect_refused(good, [](ModelFile& f) { f.tensors["0.weight.col_idx"] = i32_values({0, 2, 1}); },
                 {"0.weight.values", "[3]"});
  expect_refused(good, [](ModelFile& f) { f.tensors["0.weight.row_ptr"] = Tensor::zeros({3}, DType::i32); },
                 {"0.weight.row_ptr", "[4]"});
  expect_refused(good, [](ModelFile& f) { f.tensors["0.weight.row_ptr"] = Tensor::zeros({2, 2}, DType::i32); },
                 {"0.weight.row_ptr", "[4]"});
  expect_refused(good, [](ModelFile& f) { f.tensors["0.weight.row_ptr"] = Tensor::zeros({4}, DType::u8); },
                 {"0.weight.row_ptr", "I32 or I64"});
  expect_refused(good, [](ModelFile& f) { f.tensors["0.bias"] = Tensor::zeros({4}, DType::f32); }, {"0.bias", "[3]"});
  expect_refused(good, [](ModelFile& f) { f.tensors.erase("0.weight.row_ptr"); }, {"0.weight.row_ptr"});
  expect_refused(good, [](ModelFile& f) { f.tensors["0.weight"] = Tensor::zeros({3, 4}, DType::f32); },
                 {"unexpected", "0.weight"});
}

TEST(CsrModelFileHardening, HugeDeclaredSparseLayersAreRefusedBeforeAllocating) {
  // Each sparse layer allocates its row offsets and bias from the config alone: three of
  // 2^24 outputs (384 MiB) next to a few bytes of tensors must be refused at the first
  // (before the fix each layer allocated 128 MiB, a 1000-layer config 128 GiB).
  ModelFile f = csr_file();
  f.config["input_shape"] = {4};
  f.config["layers"] = json::array();
  int64_t in = 4;
  for (int i = 0; i < 3; ++i) {
    f.config["layers"].push_back({{"type", "sparse_linear"}, {"in_features", in}, {"out_features", 1 << 24}});
    in = 1 << 24;
  }
  expect_refused(f, [](ModelFile&) {}, {"layer 0 (sparse_linear)", "the file's tensors hold only"});
}

// ---- recipes ----------------------------------------------------------------

TEST(RecipeTextHardening, DeepOrHugeOrBrokenJsonIsRefusedNamingTheRecipe) {
  EXPECT_EQ(olympics::parse_recipe_text(R"({"threads": 1})", "mine.json", "mine").name, "mine");
  // Nesting beyond max_json_depth: refused while parsing (a recursive dump of it in an error would overflow the stack).
  const std::string deep = R"({"events": {"mlp": {"int8": )" + std::string(200000, '[') + std::string(200000, ']') + "}}}";
  test::expect_error([&] { olympics::parse_recipe_text(deep, "deep.json", "deep"); },
                     {"recipe deep.json", "max_json_depth"});
  const std::string huge = R"({"description": ")" + std::string(2 << 20, 'x') + "\"}";
  test::expect_error([&] { olympics::parse_recipe_text(huge, "huge.json", "huge"); }, {"recipe huge.json", "1 MiB"});
  test::expect_error([&] { olympics::parse_recipe_text("{\"threads\": 1", "cut.json", "cut"); },
                     {"recipe cut.json", "invalid JSON at byte 14"});
  test::expect_error([&] { olympics::parse_recipe_text("{\"name\": \"\xff\"}", "bytes.json", "bytes"); },
                     {"recipe bytes.json", "invalid JSON"});
  // Values outside their ranges, including integers beyond int64.
  test::expect_error([&] { olympics::parse_recipe_text(R"({"threads": 18446744073709551615})", "big.json", "big"); },
                     {"recipe big.json", "threads", "18446744073709551615 is outside 0..1024"});
  test::expect_error([&] { olympics::parse_recipe_text(R"({"batch_size": -1})", "neg.json", "neg"); },
                     {"batch_size", "outside 1..4096"});
  // A number beyond double: nlohmann throws out_of_range, not parse_error (it used to escape load_recipe).
  test::expect_error([&] { olympics::parse_recipe_text(R"({"prune": {"sparsity": 1e400}})", "inf.json", "inf"); },
                     {"recipe inf.json", "invalid JSON", "1e400"});
}

}  // namespace
