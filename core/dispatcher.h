// OptimizedBackend: the registry of every op and the routing policy.
//
// Routing per call (see Op::operator()):
//   1. an explicit choice wins: per op ("matmul=cpu.naive") over global ("cpu.blocked");
//      a global name applies to the ops that have a variant of that name;
//   2. otherwise the highest-priority variant on the tensors' device whose supports() accepts the call;
//   3. a CUDA call with no CUDA variant runs on the CPU (inputs copied over, outputs back),
//      counted per op and logged once; strict mode turns that into an error.
// Choices come from set_choice(), the CLI's --backend flag, or TINYOPT_BACKEND.
// TINYOPT_STRICT=1 enables strict mode; TINYOPT_LOG_DISPATCH=1 logs every routing decision.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/op.h"

namespace tinyopt {

// A parsed, validated kernel choice: a global variant ("" = automatic) and
// per-op entries ({"matmul", "cpu.naive"}; "auto" = automatic for that op).
struct BackendChoice {
  std::string global;
  std::vector<std::pair<std::string, std::string>> per_op;
};

class OptimizedBackend {
 public:
  // The process-wide instance; the first call registers every compiled backend
  // and applies the environment variables above.
  static OptimizedBackend& instance();

  void register_op(OpBase* op);
  const std::vector<OpBase*>& ops() const { return ops_; }
  OpBase* find_op(std::string_view name) const;

  // spec: "auto", a variant name ("cpu.blocked"), or a comma list mixing a
  // global name and per-op entries ("cpu.onednn,matmul=cpu.naive").
  // Unknown op or variant names throw an error listing the valid ones.
  void set_choice(const std::string& spec);
  // Parses and validates a spec without applying it (recipes are checked this
  // way before any work starts).
  BackendChoice parse_choice(const std::string& spec) const;
  // The variant index per op (by OpBase::index(); -1 = automatic) a choice means.
  std::vector<int> resolve(const BackendChoice& choice) const;
  void clear_choices();
  std::string choice_summary() const;  // what set_choice() left in force

  void set_strict(bool on);
  bool strict() const;
  void set_debug(bool on);
  bool debug() const;

  // Every variant name registered for any op, sorted and unique.
  std::vector<std::string> variant_names() const;

 private:
  OptimizedBackend() = default;
  std::vector<OpBase*> ops_;
  std::string global_choice_;
  std::vector<std::pair<std::string, std::string>> op_choices_;
};

// A kernel choice in force on the calling thread for as long as the guard
// lives, whatever the process-wide choice is (PyTorch's c10 dispatch-key
// guards are the model): two models on two threads can run with different
// kernels, and every way out of a scope, an exception included, restores the
// choice that was there before. Guards nest.
class ScopedBackendChoice {
 public:
  explicit ScopedBackendChoice(const BackendChoice& choice);
  ~ScopedBackendChoice();
  ScopedBackendChoice(const ScopedBackendChoice&) = delete;
  ScopedBackendChoice& operator=(const ScopedBackendChoice&) = delete;

 private:
  std::vector<int> chosen_;
  const std::vector<int>* previous_;
};

// Registers every compiled backend's variants with the catalogue's ops.
// Defined in backends/register_backends.cpp.
void register_backends();

}  // namespace tinyopt
