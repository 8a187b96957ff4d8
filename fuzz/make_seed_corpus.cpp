// Writes the fuzz seed corpora: small valid files of every kind the fuzz
// targets parse, made with tinyopt's own writers (plus the few encodings the
// writers never produce: F16/BF16 safetensors, uncompressed IDX, i64 CSR
// row offsets). Quantized and CSR models go both to their own targets'
// corpora and to the "model" target's.
// Usage: tinyopt_fuzz_seeds OUT_DIR   (scripts/fuzz.sh --seeds writes fuzz/corpus)
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "data/idx.h"
#include "io/npy.h"
#include "io/safetensors.h"
#include "nn/model.h"
#include "olympics/recipe.h"
#include "prune/magnitude_pruner.h"
#include "prune/sparse_model.h"
#include "quant/quantizer.h"

using namespace tinyopt;
namespace fs = std::filesystem;

namespace {

fs::path g_out;

void write_bytes(const std::string& target, const std::string& name, const std::string& bytes) {
  fs::create_directories(g_out / target);
  std::ofstream(g_out / target / name, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Deterministic small values for a tensor of any dtype.
Tensor filled(const Shape& shape, DType dtype) {
  Tensor t = Tensor::empty(shape, dtype);
  auto* p = static_cast<unsigned char*>(t.raw_data());
  for (size_t i = 0; i < t.nbytes(); ++i) p[i] = static_cast<unsigned char>((i * 37 + 11) & 0x3f);
  return t;
}

void safetensors_seeds() {
  write_bytes("safetensors", "empty", serialize_safetensors({}));
  write_bytes("safetensors", "f32_with_metadata",
              serialize_safetensors({{"w", filled({2, 3}, DType::f32)}, {"b", filled({3}, DType::f32)}},
                                    {{"config", "{\"arch\":\"x\"}"}, {"note", "seed"}}));
  write_bytes("safetensors", "all_dtypes",
              serialize_safetensors({{"f64", filled({2}, DType::f64)}, {"i8", filled({1, 2, 1, 2}, DType::i8)},
                                     {"u8", filled({5}, DType::u8)}, {"i32", filled({}, DType::i32)},
                                     {"i64", filled({0, 3}, DType::i64)}}));
  // F16 and BF16 (widened to f32 on load); the writer never produces them.
  std::string header =
      R"({"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"b":{"dtype":"BF16","shape":[2],"data_offsets":[4,8]}})";
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
  bytes += header;
  const unsigned char data[8] = {0x00, 0x3c, 0x01, 0x80, 0x80, 0x3f, 0xc0, 0x7f};  // 1.0, -tiny, 1.0, NaN
  bytes.append(reinterpret_cast<const char*>(data), 8);
  write_bytes("safetensors", "f16_bf16", bytes);
}

void save_model_seed(const std::string& name, const nlohmann::json& config, const std::vector<std::string>& vocab = {},
                     bool drop_lm_head = false) {
  nn::Rng rng(7);
  nn::Model m = nn::build_model(config, &rng, vocab);
  std::map<std::string, std::string> meta = {{"config", m.config.dump()}, {"test_accuracy", "0.5"}};
  if (m.kind == nn::ModelKind::gpt) meta["vocab"] = nlohmann::json(m.vocab).dump();
  auto tensors = m.state_dict();
  if (drop_lm_head) tensors.erase("lm_head.weight");
  write_bytes("model", name, serialize_safetensors(tensors, meta));
}

void model_seeds() {
  save_model_seed("mlp", {{"arch", "sequential"},
                          {"input_shape", {4}},
                          {"layers",
                           {{{"type", "linear"}, {"in_features", 4}, {"out_features", 3}},
                            {{"type", "relu"}},
                            {{"type", "dropout"}, {"p", 0.1}},
                            {{"type", "linear"}, {"in_features", 3}, {"out_features", 2}, {"bias", false}}}}});
  save_model_seed("cnn", {{"arch", "sequential"},
                          {"input_shape", {1, 6, 6}},
                          {"layers",
                           {{{"type", "conv2d"}, {"in_channels", 1}, {"out_channels", 2}, {"kernel_size", 3}, {"padding", 1}},
                            {{"type", "gelu"}},
                            {{"type", "maxpool2d"}, {"kernel_size", 2}},
                            {{"type", "flatten"}},
                            {{"type", "linear"}, {"in_features", 18}, {"out_features", 2}}}}});
  const nlohmann::json gpt = {{"arch", "gpt"},  {"vocab_size", 4}, {"n_layer", 1}, {"n_head", 2},
                              {"n_embd", 4},    {"block_size", 4}, {"bias", true}};
  save_model_seed("gpt", gpt, {"a", "b", "\n", "\xc3\xa9"});
  save_model_seed("gpt_tied", gpt, {"a", "b", "c", " "}, /*drop_lm_head=*/true);
}

std::string model_bytes(nn::Model& m) {
  std::map<std::string, std::string> meta = {{"config", m.config.dump()}};
  return serialize_safetensors(m.state_dict(), meta);
}

// A seed for `target` and for the generic "model" target.
void write_model_seed(const std::string& target, const std::string& name, const std::string& bytes) {
  write_bytes(target, name, bytes);
  write_bytes("model", target + "_" + name, bytes);
}

nlohmann::json sequential(const nlohmann::json& input_shape, const nlohmann::json& layers) {
  return {{"arch", "sequential"}, {"input_shape", input_shape}, {"layers", layers}};
}

// Small FP32 models of the layer combinations the INT8 plan distinguishes,
// quantized with random calibration data: u8 between layers (fused ReLU,
// maxpool, flatten, dropout), f32 output, a float-only gelu (dequantize,
// then quantize again), a layer without bias.
void quant_model_seeds() {
  const nlohmann::json mlp = sequential(
      {6}, {{{"type", "linear"}, {"in_features", 6}, {"out_features", 5}},
            {{"type", "relu"}},
            {{"type", "dropout"}, {"p", 0.1}},
            {{"type", "linear"}, {"in_features", 5}, {"out_features", 4}, {"bias", false}},
            {{"type", "gelu"}},
            {{"type", "linear"}, {"in_features", 4}, {"out_features", 3}}});
  const nlohmann::json cnn = sequential(
      {1, 6, 6}, {{{"type", "conv2d"}, {"in_channels", 1}, {"out_channels", 2}, {"kernel_size", 3}, {"padding", 1}},
                  {{"type", "relu"}},
                  {{"type", "maxpool2d"}, {"kernel_size", 2}},
                  {{"type", "conv2d"}, {"in_channels", 2}, {"out_channels", 3}, {"kernel_size", 2}, {"stride", 1}},
                  {{"type", "flatten"}},
                  {{"type", "linear"}, {"in_features", 12}, {"out_features", 2}}});
  int seed = 3;
  for (const auto& [name, config] : {std::pair{"mlp", mlp}, std::pair{"cnn", cnn}}) {
    nn::Rng rng(seed++);
    nn::Model fp32 = nn::build_model(config, &rng);
    Tensor images = Tensor::empty(fp32.batch_shape(16), DType::f32);
    for (int64_t i = 0; i < images.numel(); ++i) images.data<float>()[i] = static_cast<float>(rng.uniform(-1, 1));
    nn::Model q = quant::quantize_model(fp32, images);
    write_model_seed("quant_model", name, model_bytes(q));
  }
}

// Pruned MLPs in CSR: i32 and i64 row offsets, empty rows (whole neurons
// pruned), a layer without bias, and a fully empty weight.
void csr_model_seeds() {
  const nlohmann::json mlp = sequential(
      {5}, {{{"type", "linear"}, {"in_features", 5}, {"out_features", 6}},
            {{"type", "relu"}},
            {{"type", "linear"}, {"in_features", 6}, {"out_features", 3}, {"bias", false}}});
  nn::Rng rng(11);
  nn::Model dense = nn::build_model(mlp, &rng);
  prune::MagnitudePruner::prune_global(prune::prunable_weights(dense), 0.7);
  nn::Model sparse = prune::to_sparse(dense, 0.0);
  write_model_seed("csr_model", "mlp_i32", model_bytes(sparse));
  // i64 row offsets (PyTorch's default index type), the loader's other form.
  std::map<std::string, Tensor> tensors = sparse.state_dict();
  for (auto& [name, t] : tensors) {
    if (!name.ends_with(".row_ptr")) continue;
    Tensor wide = Tensor::empty(t.shape(), DType::i64);
    for (int64_t i = 0; i < t.numel(); ++i) wide.data<int64_t>()[i] = t.data<int32_t>()[i];
    t = wide;
  }
  write_model_seed("csr_model", "mlp_i64", serialize_safetensors(tensors, {{"config", sparse.config.dump()}}));
  // Every weight zero: nnz = 0, row_ptr all zeros.
  nn::Model zero = nn::build_model(mlp, &rng);
  for (nn::Parameter* p : zero.module->parameters())
    if (p->name.ends_with(".weight")) p->value.fill(0.0);
  nn::Model empty = prune::to_sparse(zero, 0.0);
  write_model_seed("csr_model", "all_zero", model_bytes(empty));
}

// The built-in recipes, and hand-written ones using the forms they do not:
// techniques turned on with `true`, off with false/null, per-event overrides
// of every key, an open-division model path.
void recipe_seeds() {
  for (const std::string& name : olympics::builtin_recipe_names())
    write_bytes("recipe", name, olympics::builtin_recipe_text(name));
  write_bytes("recipe", "forms", R"({"name": "forms_1.0+x", "description": "seed", "backend": "matmul=cpu.naive,conv2d=cpu.blocked",
"threads": 2, "single_stream_threads": 1, "batch_size": 64, "int8": true, "prune": false, "kv_cache": false,
"skip_unavailable": false,
"events": {"mlp": {"int8": null, "prune": {"sparsity": 0.25, "structured": true}},
           "cnn": {"int8": {"observer": "percentile", "calibration": 100}, "threads": 0},
           "gpt": {"kv_cache": true, "batch_size": 1, "model": "mine.safetensors", "backend": "auto"}}})");
  write_bytes("recipe", "minimal", "{}");
}

void npy_seeds() {
  fs::create_directories(g_out / "npy");
  save_npy((g_out / "npy" / "f32_2x3").string(), filled({2, 3}, DType::f32));
  save_npy((g_out / "npy" / "f64_scalar").string(), filled({}, DType::f64));
  save_npy((g_out / "npy" / "i8_vec").string(), filled({5}, DType::i8));
  save_npy((g_out / "npy" / "u8_3d").string(), filled({2, 1, 2}, DType::u8));
  save_npy((g_out / "npy" / "i32_empty").string(), filled({0, 4}, DType::i32));
  save_npy((g_out / "npy" / "i64_vec").string(), filled({2}, DType::i64));
  // Version 2.0 header with Python-literal variety numpy itself may write.
  std::string dict = "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (2,), }";
  dict.append((64 - (12 + dict.size() + 1) % 64) % 64, ' ');
  dict += '\n';
  std::string bytes = "\x93NUMPY";
  bytes += '\x02';
  bytes += '\x00';
  for (int i = 0; i < 4; ++i) bytes += static_cast<char>((dict.size() >> (8 * i)) & 0xff);
  bytes += dict;
  bytes.append(8, '\0');
  write_bytes("npy", "v2_f32", bytes);
}

void idx_seeds() {
  fs::create_directories(g_out / "idx");
  IdxArray images{{2, 3, 3}, std::vector<uint8_t>(18)};
  for (size_t i = 0; i < images.data.size(); ++i) images.data[i] = static_cast<uint8_t>(i * 13);
  write_idx_gz((g_out / "idx" / "images_gz").string(), images);
  IdxArray labels{{4}, {0, 9, 3, 1}};
  write_idx_gz((g_out / "idx" / "labels_gz").string(), labels);
  // Uncompressed IDX (gzopen reads plain files too).
  std::string raw = {0, 0, 8, 1, 0, 0, 0, 3, 5, 6, 7};
  write_bytes("idx", "labels_plain", raw);
}

void gpt_vocab_seeds() {
  write_bytes("gpt_vocab", "ascii", R"(["a","b","c"," ","\n"])");
  write_bytes("gpt_vocab", "unicode", "[\"\xc3\xa9\",\"\xe6\x97\xa5\",\"\\u00ff\",\"x\"]");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT_DIR\n", argv[0]);
    return 2;
  }
  g_out = argv[1];
  try {
    safetensors_seeds();
    model_seeds();
    npy_seeds();
    idx_seeds();
    gpt_vocab_seeds();
    quant_model_seeds();
    csr_model_seeds();
    recipe_seeds();
  } catch (const Error& e) {
    std::fprintf(stderr, "tinyopt_fuzz_seeds: %s\n", e.what());
    return 1;
  }
  return 0;
}
