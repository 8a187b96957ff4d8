#include "fuzz/fuzz_targets.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "core/error.h"
#include "data/idx.h"
#include "io/npy.h"
#include "io/safetensors.h"
#include "nn/char_tokenizer.h"
#include "nn/model.h"

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
  nn::Model m = nn::load_model_from_bytes(bytes, kName);
  std::map<std::string, std::string> meta = m.metadata;
  meta["config"] = m.config.dump();
  if (m.kind == nn::ModelKind::gpt) meta["vocab"] = nlohmann::json(m.vocab).dump();
  nn::Model again = nn::load_model_from_bytes(serialize_safetensors(m.state_dict(), meta), "round-trip");
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
      {"gpt_vocab", guarded<gpt_vocab_body>},
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
