#include "fuzz/fuzz_targets.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cmath>
#include <filesystem>

#include "core/dispatcher.h"
#include "core/error.h"
#include "data/idx.h"
#include "io/npy.h"
#include "io/safetensors.h"
#include "models/model_file.h"
#include "nn/char_tokenizer.h"
#include "nn/model.h"
#include "nn/sparse_linear.h"
#include "olympics/event.h"
#include "olympics/recipe.h"
#include "quant/quantized_layer.h"
#include "quant/quantizer.h"

namespace tinyopt::fuzz {

namespace {

// An accepted input that breaks what the parser promises is as much a bug as
// a crash: stop loudly so libFuzzer saves the input.
#define FUZZ_INVARIANT(cond, ...)                                              \
  do {                                                                         \
    if (!(cond)) {                                                             \
      std::fprintf(stderr, "fuzz invariant broken: %s: %s\n", #cond,           \
                   fmt::format(__VA_ARGS__).c_str());                          \
      std::abort();                                                            \
    }                                                                          \
  } while (0)

const char* const kName = "fuzz-input";

bool same_bytes(const Tensor& a, const Tensor& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() &&
         (a.nbytes() == 0 || std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()) == 0);
}

// safetensors: parse; an accepted file must survive a write/read round trip
// unchanged (tensors bit for bit, metadata), and every tensor's size must be
// what its shape says.
void safetensors_body(const std::string& bytes) {
  const SafetensorsFile f = parse_safetensors(bytes, kName);
  uint64_t total = 0;
  for (const auto& [name, t] : f.tensors) {
    FUZZ_INVARIANT(t.nbytes() == static_cast<size_t>(t.numel()) * dtype_size(t.dtype()), "tensor {}", name);
    total += t.nbytes();
  }
  FUZZ_INVARIANT(total <= bytes.size() * 2, "{} tensor bytes from a {}-byte file", total, bytes.size());  // F16 widens 2x
  const std::string again = serialize_safetensors(f.tensors, f.metadata);
  const SafetensorsFile g = parse_safetensors(again, "round-trip");
  FUZZ_INVARIANT(g.tensors.size() == f.tensors.size() && g.metadata == f.metadata, "round trip changed the file");
  for (const auto& [name, t] : f.tensors) FUZZ_INVARIANT(same_bytes(t, g.tensors.at(name)), "tensor {} changed", name);
}

// Model files: config JSON + tensors -> a model; an accepted model's
// state_dict must round-trip through the writer and the loader.
void model_body(const std::string& bytes) {
  nn::Model m = models::load_model_from_bytes(bytes, kName);
  std::map<std::string, std::string> meta = m.metadata;
  meta["config"] = m.config.dump();
  if (m.kind == nn::ModelKind::gpt) meta["vocab"] = nlohmann::json(m.vocab).dump();
  nn::Model again = models::load_model_from_bytes(serialize_safetensors(m.state_dict(), meta), "round-trip");
  const auto a = m.state_dict(), b = again.state_dict();
  FUZZ_INVARIANT(a.size() == b.size(), "{} vs {} parameters", a.size(), b.size());
  for (const auto& [name, t] : a) FUZZ_INVARIANT(b.count(name) && same_bytes(t, b.at(name)), "parameter {}", name);
}

void npy_body(const std::string& bytes) {
  const Tensor t = parse_npy(bytes, kName);
  FUZZ_INVARIANT(t.nbytes() <= bytes.size(), "{} data bytes from a {}-byte file", t.nbytes(), bytes.size());
}

// IDX goes through zlib's gzopen (plain or gzip'd), which reads files: the
// bytes go to a per-process scratch file in memory-backed /dev/shm when present.
std::string scratch_path() {
  static const std::string path = [] {
    const char* dir = std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : std::getenv("TMPDIR");
    return fmt::format("{}/tinyopt-fuzz-idx-{}.gz", dir ? dir : "/tmp", static_cast<long>(::getpid()));
  }();
  return path;
}

void idx_body(const std::string& bytes) {
  const std::string path = scratch_path();
  {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    FUZZ_INVARIANT(f != nullptr, "cannot create scratch file {}", path);
    const size_t n = bytes.empty() ? 0 : std::fwrite(bytes.data(), 1, bytes.size(), f);
    std::fclose(f);
    FUZZ_INVARIANT(n == bytes.size(), "short write to {}", path);
  }
  struct Remove {
    std::string p;
    ~Remove() { std::remove(p.c_str()); }
  } remove{path};
  // Fashion-MNIST's two kinds: images first, then labels when that is refused.
  IdxArray a;
  try {
    a = read_idx(path, kIdxMagicImages);
  } catch (const Error&) {
    a = read_idx(path, kIdxMagicLabels);
  }
  uint64_t n = 1;
  for (int64_t d : a.dims) {
    FUZZ_INVARIANT(d >= 0, "negative dimension {}", d);
    FUZZ_INVARIANT(!__builtin_mul_overflow(n, static_cast<uint64_t>(d), &n), "dimensions overflow");
  }
  FUZZ_INVARIANT(n == a.data.size(), "dimensions say {} bytes, data has {}", n, a.data.size());
}

// A GPT's "vocab" metadata: parsed, made into a tokenizer, which must then
// encode its own vocabulary and decode ids back without error or overrun.
void gpt_vocab_body(const std::string& bytes) {
  const std::vector<std::string> vocab = nn::parse_vocab_json(bytes, "fuzz-input vocab");
  const nn::CharTokenizer tok(vocab);
  std::vector<int32_t> all_ids;
  for (int32_t i = 0; i < static_cast<int32_t>(vocab.size()); ++i) all_ids.push_back(i);
  const std::string text = tok.decode(all_ids);
  std::string expected;
  for (const std::string& s : vocab) expected += s;
  FUZZ_INVARIANT(text == expected, "decode of every id differs from the vocabulary");
  try {
    for (int32_t id : tok.encode(text)) FUZZ_INVARIANT(id >= 0 && id < tok.size(), "id {} out of range", id);
    for (int32_t id : tok.encode(bytes)) FUZZ_INVARIANT(id >= 0 && id < tok.size(), "id {} out of range", id);
  } catch (const Error&) {
    // A character the vocabulary lacks is a clean refusal.
  }
}

// Recipes: an accepted recipe must give valid settings for every event, and
// the settings it gives must survive being written back as a recipe.
void recipe_body(const std::string& bytes) {
  const olympics::Recipe r = olympics::parse_recipe_text(bytes, kName, "fuzz");
  FUZZ_INVARIANT(!r.name.empty() && r.name.size() <= 64, "name '{}'", r.name);
  const olympics::Recipe again = olympics::parse_recipe(r.json, "round-trip", "fuzz");
  FUZZ_INVARIANT(again.name == r.name && again.skip_unavailable == r.skip_unavailable, "round trip changed the recipe");
  for (const olympics::Event& e : olympics::all_events()) {
    const olympics::RecipeSettings s = r.for_event(e);
    FUZZ_INVARIANT(s.batch_size >= 1 && s.threads >= 0 && !s.backend.empty(), "event {}: {}", e.key, s.to_json().dump());
    FUZZ_INVARIANT(!s.prune || (s.prune->sparsity > 0 && s.prune->sparsity < 1), "event {}: sparsity", e.key);
    // One event's settings, written as a recipe of their own, read back the same.
    const nlohmann::json written = s.to_json();
    const olympics::Recipe one = olympics::parse_recipe(written, "settings", "fuzz");
    FUZZ_INVARIANT(one.for_event(e).to_json() == written, "event {}: settings {} changed on the way back", e.key,
                   written.dump());
  }
}

// Two deterministic rows of inputs for a model of per-sample shape `shape`.
Tensor probe_input(const Shape& shape) {
  Tensor x = Tensor::empty(shape, DType::f32);
  float* p = x.data<float>();
  for (int64_t i = 0; i < x.numel(); ++i) p[i] = static_cast<float>((i * 7919) % 257) / 64.0f - 2.0f;
  return x;
}

// Inference is run only on small models: the fuzzer's files are at most a few
// KB, but a config may still declare a large input (its parameters are bounded by
// the file, its activations are not), and the point is the loader's checks.
constexpr int64_t kMaxProbeElements = 1 << 14;

bool small_enough_to_run(nn::Model& m) {
  if (m.kind != nn::ModelKind::sequential || m.sample_numel() > kMaxProbeElements) return false;
  for (const auto& layer : m.sequential().layers())
    if (layer->type() == "conv2d" || layer->type() == "quantized_conv2d" || layer->type() == "maxpool2d") {
      // Output sizes of convolutions grow with channels; keep the work bounded.
      uint64_t params = 0;
      for (nn::Parameter* p : m.module->parameters()) params += static_cast<uint64_t>(p->value.numel());
      return params * static_cast<uint64_t>(m.sample_numel()) <= (uint64_t{1} << 26);
    }
  return true;
}

// Holds a dispatcher choice ("op=variant,...") while alive.
class ScopedVariant {
 public:
  explicit ScopedVariant(const std::string& spec) { OptimizedBackend::instance().set_choice(spec); }
  ~ScopedVariant() { OptimizedBackend::instance().clear_choices(); }
  ScopedVariant(const ScopedVariant&) = delete;
  ScopedVariant& operator=(const ScopedVariant&) = delete;
};

// Quantized model files: on top of the model round trip, an accepted file's
// quantized layers hold what the format promises (weights in [-127, 127],
// finite positive scales, u8 zero points), and a forward pass on a small
// model runs through the INT8 kernels without a sanitizer report, gives the
// logits shape, and gives the same bytes with qgemm and qconv2d on the plain loops
// (`cpu.naive`) as on the routed kernels (`cpu.blocked` on this CPU: direct
// VNNI convolution, fused pooling, GEMV tiles). Both use the same integer
// accumulation and fixed-point requantization, so any difference is a kernel
// reading or writing the wrong element on a shape the file chose. (FP32
// layers between, e.g. a CSR layer, keep their routing: float kernels may
// round differently, legitimately.)
void quant_model_body(const std::string& bytes) {
  model_body(bytes);  // round trip (throws the same Error as below when refused)
  nn::Model m = models::load_model_from_bytes(bytes, kName);
  if (!quant::is_quantized(m)) return;
  for (const auto& layer : m.sequential().layers()) {
    const auto* q = dynamic_cast<const quant::QuantizedLayer*>(layer.get());
    if (q == nullptr) continue;
    const int8_t* w = q->weight().data<int8_t>();
    for (int64_t i = 0; i < q->weight().numel(); ++i) FUZZ_INVARIANT(w[i] >= -127, "{}: weight -128", q->name());
    const float* s = q->weight_scale().data<float>();
    for (int64_t i = 0; i < q->weight_scale().numel(); ++i)
      FUZZ_INVARIANT(std::isfinite(s[i]) && s[i] > 0, "{}: weight scale {}", q->name(), s[i]);
    const quant::QParams in = q->input_qparams();
    FUZZ_INVARIANT(std::isfinite(in.scale) && in.scale > 0 && in.zero_point >= 0 && in.zero_point <= 255,
                   "{}: input qparams {} {}", q->name(), in.scale, in.zero_point);
  }
  if (!small_enough_to_run(m)) return;
  const Tensor probe = probe_input(m.batch_shape(2));
  const Tensor y = m.forward(probe);
  FUZZ_INVARIANT(y.ndim() >= 1 && y.size(0) == 2, "output {}", y.describe());
  Tensor y_naive;
  {
    ScopedVariant naive("qgemm=cpu.naive,qconv2d=cpu.naive");
    y_naive = m.forward(probe);
  }
  FUZZ_INVARIANT(same_bytes(y, y_naive), "routed kernels and cpu.naive disagree on output {}", y.describe());
}

// Models with CSR layers: on top of the model round trip, every sparse layer
// of an accepted file multiplies like its dense equivalent (spmm against a
// plain dense loop) on a small probe.
void csr_model_body(const std::string& bytes) {
  model_body(bytes);
  nn::Model m = models::load_model_from_bytes(bytes, kName);
  if (m.kind != nn::ModelKind::sequential) return;
  for (const auto& layer : m.sequential().layers()) {
    auto* s = dynamic_cast<nn::SparseLinear*>(layer.get());
    if (s == nullptr) continue;
    const int64_t in = s->in_features(), out = s->out_features();
    FUZZ_INVARIANT(s->nnz() <= in * out, "{}: {} stored values in a {}x{} weight", s->name(), s->nnz(), out, in);
    if (in * out > kMaxProbeElements) continue;
    const Tensor w = s->to_dense();
    const Tensor x = probe_input(Shape({2, in}));
    const Tensor y = s->forward(x);
    FUZZ_INVARIANT(y.ndim() == 2 && y.size(0) == 2 && y.size(1) == out, "{}: output {}", s->name(), y.describe());
    const float* wp = w.data<float>();
    const float* xp = x.data<float>();
    const float* yp = y.data<float>();
    const float* bp = s->has_bias() ? s->bias.value.data<float>() : nullptr;
    for (int64_t r = 0; r < 2; ++r)
      for (int64_t o = 0; o < out; ++o) {
        double ref = bp ? bp[o] : 0.0, mag = bp ? std::fabs(bp[o]) : 0.0;
        for (int64_t k = 0; k < in; ++k) {
          ref += static_cast<double>(wp[o * in + k]) * xp[r * in + k];
          mag += std::fabs(static_cast<double>(wp[o * in + k]) * xp[r * in + k]);
        }
        const double got = yp[r * out + o];
        if (!std::isfinite(ref) || !std::isfinite(mag) || mag > 1e30) continue;  // overflow: order decides
        FUZZ_INVARIANT(std::fabs(got - ref) <= 1e-5 * mag + 1e-30, "{}: y[{}, {}] = {} but the dense product is {}",
                       s->name(), r, o, got, ref);
      }
  }
}

template <void (*Body)(const std::string&)>
bool guarded(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  try {
    Body(bytes);
    return true;
  } catch (const Error&) {
    return false;  // refused with a clear error: the expected outcome for bad input
  }
}

}  // namespace

const std::vector<Target>& targets() {
  static const std::vector<Target> all = {
      {"safetensors", guarded<safetensors_body>}, {"model", guarded<model_body>},
      {"npy", guarded<npy_body>},                 {"idx", guarded<idx_body>},
      {"gpt_vocab", guarded<gpt_vocab_body>},     {"recipe", guarded<recipe_body>},
      {"quant_model", guarded<quant_model_body>}, {"csr_model", guarded<csr_model_body>},
  };
  return all;
}

const Target& target(std::string_view name) {
  for (const Target& t : targets())
    if (name == t.name) return t;
  std::fprintf(stderr, "no fuzz target named '%.*s'\n", static_cast<int>(name.size()), name.data());
  std::abort();
}

}  // namespace tinyopt::fuzz
