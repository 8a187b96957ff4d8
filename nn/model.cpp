#include "nn/model.h"

#include <algorithm>
#include <optional>

#include "io/bounded_json.h"
#include "io/limits.h"
#include "io/safetensors.h"
#include "nn/char_tokenizer.h"
#include "nn/activations.h"
#include "nn/conv2d.h"
#include "nn/dropout.h"
#include "nn/flatten.h"
#include "nn/linear.h"
#include "nn/pooling.h"
#include "nn/sparse_linear.h"

namespace tinyopt::nn {

namespace {

using json = nlohmann::json;

int64_t get_int(const json& obj, const char* key, const std::string& where, std::optional<int64_t> fallback = {}) {
  if (!obj.contains(key)) {
    TINYOPT_CHECK(fallback.has_value(), "{}: missing required key '{}'", where, key);
    return *fallback;
  }
  const json& v = obj.at(key);
  // PyTorch writes kernel_size/stride/padding as an int or a pair; we support square ones.
  if (v.is_array()) {
    TINYOPT_CHECK(v.size() == 2 && v[0].is_number_integer() && v[0] == v[1],
                  "{}: '{}' = {} is not supported (only square values such as 3 or [3, 3])", where, key, v.dump());
    return v[0].get<int64_t>();
  }
  TINYOPT_CHECK(v.is_number_integer(), "{}: '{}' must be an integer, found {}", where, key, v.dump());
  const int64_t n = v.get<int64_t>();
  TINYOPT_CHECK(n >= 0 && n <= (int64_t{1} << 24), "{}: '{}' = {} is out of range", where, key, n);
  return n;
}

bool get_bool(const json& obj, const char* key, const std::string& where, bool fallback) {
  if (!obj.contains(key)) return fallback;
  TINYOPT_CHECK(obj.at(key).is_boolean(), "{}: '{}' must be true or false, found {}", where, key, obj.at(key).dump());
  return obj.at(key).get<bool>();
}

// Keys a layer may carry: its own arguments plus PyTorch defaults we accept
// only at their default value (so an export with e.g. dilation 2 is refused
// instead of silently computed wrong).
void check_keys(const json& layer, const std::vector<std::string>& allowed, const std::string& where) {
  static const std::map<std::string, json> defaults = {
      {"dilation", 1}, {"groups", 1}, {"padding_mode", "zeros"}, {"inplace", false}, {"approximate", "none"},
      {"ceil_mode", false}, {"return_indices", false}, {"start_dim", 1}, {"end_dim", -1}};
  for (const auto& [key, value] : layer.items()) {
    if (key == "type" || std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    auto d = defaults.find(key);
    if (d != defaults.end()) {
      const bool ok = value == d->second || (key == "inplace" && value.is_boolean()) ||
                      ((key == "dilation") && value.is_array() && value.size() == 2 && value[0] == 1 && value[1] == 1);
      TINYOPT_CHECK(ok, "{}: '{}' = {} is not supported (only {})", where, key, value.dump(), d->second.dump());
      continue;
    }
    std::string valid;
    for (const auto& a : allowed) valid += (valid.empty() ? "" : ", ") + a;
    fail("{}: unknown key '{}' (valid keys: type{}{})", where, key, valid.empty() ? "" : ", ", valid);
  }
}

std::string shape_str(const std::vector<int64_t>& s) { return Shape(s).str(); }

// Parameter bytes a config declares, counted layer by layer *before* the
// layer allocates them: a config that asks for more than max_model_bytes, or
// (when loading a file) far more than the file's tensors hold, is refused
// before any large allocation. Up to kSlackBytes beyond the file are let
// through so that a small model with a missing or misshapen tensor gets the
// precise error naming that tensor (from SafetensorsFile::require).
struct ParamBudget {
  static constexpr uint64_t kSlackBytes = uint64_t{64} << 20;
  uint64_t used = 0;
  std::optional<uint64_t> available;  // 4 bytes per element of the file's tensors (file_parameter_bytes)

  // count = product of `factors` (parameters about to be allocated).
  void add(std::initializer_list<uint64_t> factors, const std::string& where) {
    uint64_t count = 1;
    bool overflow = false;
    for (uint64_t f : factors) overflow |= __builtin_mul_overflow(count, f, &count);
    uint64_t bytes = 0;
    overflow |= __builtin_mul_overflow(count, uint64_t{4}, &bytes);
    overflow |= __builtin_add_overflow(used, bytes, &used);
    if (overflow) used = UINT64_MAX;
    check_limit(used, limits().max_model_bytes, "max_model_bytes", where + ": parameter bytes declared so far");
    TINYOPT_CHECK(!available || used <= *available || used - *available <= kSlackBytes,
                  "{}: the config declares at least {} bytes of f32 parameters so far, but the file's tensors hold only "
                  "{} bytes (tensors missing, or dimensions in the config wrong?)",
                  where, used, *available);
  }
};

Model build_sequential(const json& config, Rng* rng, ParamBudget& budget) {
  Model model;
  model.kind = ModelKind::sequential;
  TINYOPT_CHECK(config.contains("input_shape") && config["input_shape"].is_array() && !config["input_shape"].empty() &&
                    config["input_shape"].size() <= 3,
                "config: 'input_shape' must be a list of 1 to 3 positive integers (per sample, e.g. [1, 28, 28])");
  for (const json& d : config["input_shape"]) {
    TINYOPT_CHECK(d.is_number_integer() && d.get<int64_t>() > 0 && d.get<int64_t>() <= (1 << 20),
                  "config: 'input_shape' entries must be integers from 1 to 1048576 (2^20), found {}", d.dump());
    model.input_shape.push_back(d.get<int64_t>());
  }
  TINYOPT_CHECK(config.contains("layers") && config["layers"].is_array() && !config["layers"].empty(),
                "config: 'layers' must be a non-empty list");
  TINYOPT_CHECK(config["layers"].size() <= 1000, "config: {} layers is more than the limit of 1000",
                config["layers"].size());
  auto seq = std::make_unique<Sequential>();
  std::vector<int64_t> shape = model.input_shape;  // per-sample shape flowing through the layers
  bool first_trainable = true;
  for (size_t i = 0; i < config["layers"].size(); ++i) {
    const json& layer = config["layers"][i];
    const std::string name = std::to_string(i);
    TINYOPT_CHECK(layer.is_object() && layer.contains("type") && layer["type"].is_string(),
                  "config: layer {} must be an object with a string 'type'", i);
    const std::string type = layer["type"].get<std::string>();
    const std::string where = fmt::format("config: layer {} ({})", i, type);
    if (type == "linear") {
      check_keys(layer, {"in_features", "out_features", "bias"}, where);
      const int64_t in = get_int(layer, "in_features", where), out = get_int(layer, "out_features", where);
      TINYOPT_CHECK(shape.size() == 1 && shape[0] == in,
                    "{}: in_features {} does not match its input of per-sample shape {} (flatten first?)", where, in,
                    shape_str(shape));
      const bool bias = get_bool(layer, "bias", where, true);
      budget.add({static_cast<uint64_t>(in) + (bias ? 1 : 0), static_cast<uint64_t>(out)}, where);
      auto l = std::make_unique<Linear>(name, in, out, bias, rng);
      if (first_trainable) l->set_needs_input_grad(false);
      first_trainable = false;
      seq->append(std::move(l));
      shape = {out};
    } else if (type == "sparse_linear") {  // a pruned linear layer stored in CSR (nn/sparse_linear.h)
      check_keys(layer, {"in_features", "out_features", "bias"}, where);
      const int64_t in = get_int(layer, "in_features", where), out = get_int(layer, "out_features", where);
      TINYOPT_CHECK(shape.size() == 1 && shape[0] == in,
                    "{}: in_features {} does not match its input of per-sample shape {} (flatten first?)", where, in,
                    shape_str(shape));
      const bool bias = get_bool(layer, "bias", where, true);
      // What the layer allocates before any stored value: row offsets [out + 1] and the bias.
      budget.add({static_cast<uint64_t>(out) * (bias ? 2 : 1) + 1}, where);
      seq->append(std::make_unique<SparseLinear>(name, in, out, bias));
      first_trainable = false;
      shape = {out};
    } else if (type == "conv2d") {
      check_keys(layer, {"in_channels", "out_channels", "kernel_size", "stride", "padding", "bias"}, where);
      const int64_t in = get_int(layer, "in_channels", where), out = get_int(layer, "out_channels", where);
      const int64_t k = get_int(layer, "kernel_size", where), s = get_int(layer, "stride", where, 1),
                    p = get_int(layer, "padding", where, 0);
      TINYOPT_CHECK(shape.size() == 3 && shape[0] == in,
                    "{}: in_channels {} does not match its input of per-sample shape {} (expected [C, H, W])", where,
                    in, shape_str(shape));
      TINYOPT_CHECK(k >= 1 && s >= 1, "{}: kernel_size and stride must be positive", where);
      TINYOPT_CHECK(shape[1] + 2 * p >= k && shape[2] + 2 * p >= k, "{}: kernel {} does not fit input {}", where, k,
                    shape_str(shape));
      const bool bias = get_bool(layer, "bias", where, true);
      budget.add({static_cast<uint64_t>(in), static_cast<uint64_t>(k), static_cast<uint64_t>(k), static_cast<uint64_t>(out)}, where);
      if (bias) budget.add({static_cast<uint64_t>(out)}, where);
      auto l = std::make_unique<Conv2d>(name, in, out, k, s, p, bias, rng);
      if (first_trainable) l->set_needs_input_grad(false);
      first_trainable = false;
      seq->append(std::move(l));
      shape = {out, (shape[1] + 2 * p - k) / s + 1, (shape[2] + 2 * p - k) / s + 1};
    } else if (type == "maxpool2d") {
      check_keys(layer, {"kernel_size", "stride", "padding"}, where);
      const int64_t k = get_int(layer, "kernel_size", where);
      int64_t s = k;
      if (layer.contains("stride") && !layer["stride"].is_null()) s = get_int(layer, "stride", where);
      const int64_t p = get_int(layer, "padding", where, 0);
      TINYOPT_CHECK(shape.size() == 3, "{}: needs a [C, H, W] input, found per-sample shape {}", where,
                    shape_str(shape));
      TINYOPT_CHECK(k >= 1 && s >= 1 && 2 * p <= k, "{}: invalid kernel {} stride {} padding {}", where, k, s, p);
      TINYOPT_CHECK(shape[1] + 2 * p >= k && shape[2] + 2 * p >= k, "{}: kernel {} does not fit input {}", where, k,
                    shape_str(shape));
      seq->append(std::make_unique<MaxPool2d>(k, s, p));
      shape = {shape[0], (shape[1] + 2 * p - k) / s + 1, (shape[2] + 2 * p - k) / s + 1};
    } else if (type == "relu" || type == "gelu") {
      check_keys(layer, {}, where);
      if (type == "relu") seq->append(std::make_unique<ReLU>());
      else seq->append(std::make_unique<GELU>());
    } else if (type == "flatten") {
      check_keys(layer, {}, where);
      int64_t n = 1;
      for (int64_t d : shape) n *= d;
      seq->append(std::make_unique<Flatten>());
      shape = {n};
    } else if (type == "dropout") {
      check_keys(layer, {"p"}, where);
      double p = 0.5;
      if (layer.contains("p")) {
        TINYOPT_CHECK(layer["p"].is_number(), "{}: 'p' must be a number", where);
        p = layer["p"].get<double>();
      }
      TINYOPT_CHECK(p >= 0 && p < 1, "{}: p must be in [0, 1), found {}", where, p);
      seq->append(std::make_unique<Dropout>(p, rng ? rng->next() : 0));
    } else {
      fail("{}: unknown layer type '{}' (valid: linear, sparse_linear, conv2d, relu, gelu, maxpool2d, flatten, dropout)", where,
           type);
    }
  }
  model.module = std::move(seq);
  model.config = config;
  return model;
}

Model build_gpt(const json& config, Rng* rng, const std::vector<std::string>& vocab, bool tied, ParamBudget& budget) {
  check_keys(config, {"arch", "vocab_size", "n_layer", "n_head", "n_embd", "block_size", "bias", "dropout"}, "config (gpt)");
  GPTConfig c;
  c.vocab_size = get_int(config, "vocab_size", "config (gpt)");
  c.n_layer = get_int(config, "n_layer", "config (gpt)");
  c.n_head = get_int(config, "n_head", "config (gpt)");
  c.n_embd = get_int(config, "n_embd", "config (gpt)");
  c.block_size = get_int(config, "block_size", "config (gpt)");
  c.bias = get_bool(config, "bias", "config (gpt)", true);
  c.validate();
  TINYOPT_CHECK(vocab.empty() || static_cast<int64_t>(vocab.size()) == c.vocab_size,
                "config (gpt): vocab has {} entries but vocab_size is {}", vocab.size(), c.vocab_size);
  // A lower bound of what the GPT allocates: embeddings, 12 E^2 per block, an untied head.
  const auto V = static_cast<uint64_t>(c.vocab_size), E = static_cast<uint64_t>(c.n_embd),
             B = static_cast<uint64_t>(c.block_size), L = static_cast<uint64_t>(c.n_layer);
  budget.add({V, E}, "config (gpt): transformer.wte");
  budget.add({B, E}, "config (gpt): transformer.wpe");
  budget.add({L, 12, E, E}, "config (gpt): transformer blocks");
  if (!tied) budget.add({V, E}, "config (gpt): lm_head");
  Model model;
  model.kind = ModelKind::gpt;
  model.config = config;
  model.vocab = vocab;
  model.module = std::make_unique<GPT>(c, tied, rng);
  return model;
}

std::string arch_of(const json& config) {
  TINYOPT_CHECK(config.is_object() && config.contains("arch") && config["arch"].is_string(),
                "config: must be a JSON object with a string 'arch' (\"sequential\" or \"gpt\")");
  return config["arch"].get<std::string>();
}

}  // namespace

Sequential& Model::sequential() {
  TINYOPT_CHECK(kind == ModelKind::sequential, "model is a GPT, not a sequential image model");
  return static_cast<Sequential&>(*module);
}

GPT& Model::gpt() {
  TINYOPT_CHECK(kind == ModelKind::gpt, "model is a sequential image model, not a GPT");
  return static_cast<GPT&>(*module);
}

int64_t Model::num_classes() {
  Sequential& seq = sequential();
  for (size_t i = seq.size(); i-- > 0;)
    if (const int64_t n = seq.layer(i).out_features(); n > 0) return n;
  fail("model has no linear layer to produce class logits");
}

int64_t Model::sample_numel() const {
  int64_t n = 1;
  for (int64_t d : input_shape) n *= d;
  return n;
}

Shape Model::batch_shape(int64_t n) const {
  std::vector<int64_t> shape{n};
  shape.insert(shape.end(), input_shape.begin(), input_shape.end());
  return Shape(shape);
}

std::map<std::string, Tensor> Model::state_dict() {
  std::map<std::string, Tensor> out;
  for (Parameter* p : module->parameters()) out[p->name] = p->value;
  if (kind == ModelKind::sequential)  // sparse layers add their CSR index arrays
    for (auto& layer : sequential().layers())
      if (auto* s = dynamic_cast<SparseLinear*>(layer.get())) s->add_to_state_dict(out);
  return out;
}

uint64_t file_parameter_bytes(const SafetensorsFile& file) {
  uint64_t bytes = 0;
  for (const auto& [name, t] : file.tensors) bytes += 4 * static_cast<uint64_t>(t.numel());
  return bytes;
}

Model build_model(const json& config, Rng* rng, const std::vector<std::string>& vocab,
                  std::optional<uint64_t> available_bytes) {
  const std::string arch = arch_of(config);
  ParamBudget budget;
  budget.available = available_bytes;
  if (arch == "sequential") return build_sequential(config, rng, budget);
  if (arch == "gpt") return build_gpt(config, rng, vocab, /*tied=*/false, budget);
  fail("config: unknown arch '{}' (valid: sequential, gpt)", arch);
}

json read_model_config(const SafetensorsFile& file, const std::string& path) {
  return parse_json_bounded(file.require_metadata("config"), fmt::format("{}: metadata 'config'", path));
}

Model model_from_file(SafetensorsFile& file, const json& config, const std::string& path) {
  TINYOPT_CHECK(!(config.is_object() && config.contains("quantization")),
                "{}: an INT8 model file; models::load_model reads it", path);
  ParamBudget budget;
  budget.available = file_parameter_bytes(file);
  Model model;
  try {
    const std::string arch = arch_of(config);
    if (arch == "gpt") {
      const std::vector<std::string> vocab =
          parse_vocab_json(file.require_metadata("vocab"), "metadata 'vocab'");
      model = build_gpt(config, nullptr, vocab, /*tied=*/!file.contains("lm_head.weight"), budget);
      // nanoGPT's non-flash attention keeps its causal mask as a buffer; accept and ignore it.
      const auto& c = model.gpt().config();
      for (int64_t i = 0; i < c.n_layer; ++i) {
        const std::string mask = "transformer.h." + std::to_string(i) + ".attn.bias";
        if (file.contains(mask) && file.tensors.at(mask).ndim() == 4) file.get(mask);
      }
    } else if (arch == "sequential") {
      model = build_sequential(config, nullptr, budget);
    } else {
      model = build_model(config, nullptr);  // reports the unknown arch
    }
  } catch (const Error& e) {
    fail("{}: {}", path, e.what());
  }
  if (model.kind == ModelKind::sequential) {  // CSR first: it fixes the shape of each sparse layer's values
    for (auto& layer : model.sequential().layers())
      if (auto* s = dynamic_cast<SparseLinear*>(layer.get())) s->load_tensors(file);  // errors name file and tensor
  }
  for (Parameter* p : model.module->parameters()) {
    const Tensor& t = file.require(p->name, DType::f32, p->value.shape());
    p->value.copy_from(t);
  }
  file.check_all_consumed();
  for (const auto& [key, value] : file.metadata)
    if (key != "config" && key != "vocab") model.metadata[key] = value;
  return model;
}

void save_model(Model& model, const std::string& path, const std::map<std::string, std::string>& metadata) {
  std::map<std::string, std::string> meta = model.metadata;
  for (const auto& [k, v] : metadata) meta[k] = v;
  meta["config"] = model.config.dump();
  if (model.kind == ModelKind::gpt) meta["vocab"] = json(model.vocab).dump();
  save_safetensors(path, model.state_dict(), meta);
}

}  // namespace tinyopt::nn
