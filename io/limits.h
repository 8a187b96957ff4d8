// Resource limits for everything tinyopt reads from outside: one place that
// states how big a header, a tensor, a shape or a JSON document may be, so a
// hostile or corrupt file is refused with a clear error *before* anything
// large is allocated, instead of exhausting memory on a shared node.
//
// The defaults are far above any model or dataset tinyopt handles (the largest
// reference model is a few MB) and far below what would take a lab node down.
// They are overridden, in this order of precedence:
//   the global CLI option   --limit KEY=VALUE   (repeatable), then
//   the environment         TINYOPT_LIMITS="KEY=VALUE,KEY=VALUE".
// VALUE is an integer with an optional K, M, G or T suffix (powers of 1024).
// Every refusal names the limit's KEY, so the user knows what to raise.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tinyopt {

struct Limits {
  // Bytes of a file's header: the safetensors JSON, the .npy dict, a model's config metadata.
  uint64_t max_header_bytes = uint64_t{100} << 20;
  // Tensors (or metadata entries) declared by one file.
  uint64_t max_tensors = uint64_t{1} << 16;
  // Bytes of one tensor / array as stored (safetensors, .npy, IDX data, model parameters).
  uint64_t max_tensor_bytes = uint64_t{4} << 30;
  // Total bytes of a model's parameters as declared by its config (checked before building it).
  uint64_t max_model_bytes = uint64_t{16} << 30;
  // Rank of a tensor (never above Shape::kMaxDims, which the tensor type cannot exceed).
  uint64_t max_rank = 6;
  // Nesting depth of JSON documents read from files (model config, vocab, recipes).
  uint64_t max_json_depth = 64;
  // Entries in a GPT vocabulary.
  uint64_t max_vocab = uint64_t{1} << 20;
};

// The limits in force (defaults, then TINYOPT_LIMITS, then set_limits()).
const Limits& limits();
// Replaces the limits in force (tests; the CLI's --limit).
void set_limits(const Limits& limits);
// Applies "KEY=VALUE[,KEY=VALUE...]" on top of `base`; throws tinyopt::Error
// naming an unknown key or a malformed value. `source` names where the text
// came from ("--limit", "TINYOPT_LIMITS") for the message.
Limits parse_limits(const std::string& spec, Limits base, const std::string& source);
// Names of every limit with its current value ("max_tensors=65536", ...).
std::vector<std::string> describe_limits(const Limits& limits);

// Throws "WHAT is N, over the limit KEY=L (raise it with --limit KEY=... or
// TINYOPT_LIMITS)" when value > the limit `key` in force.
void check_limit(uint64_t value, uint64_t limit, const char* key, const std::string& what);

// Sets the limits for one scope and restores the previous ones (tests).
class ScopedLimits {
 public:
  explicit ScopedLimits(const Limits& limits);
  ~ScopedLimits();
  ScopedLimits(const ScopedLimits&) = delete;
  ScopedLimits& operator=(const ScopedLimits&) = delete;

 private:
  Limits saved_;
};

}  // namespace tinyopt
