// One conformance table for every kernel variant of every op (modelled on
// llama.cpp's test-backend-ops).
//
// A case describes one op call: input/output tensor specs, a float64
// reference, an error threshold and a cost. For each registered variant the
// checker draws fresh random inputs, poisons the outputs (NaN for floats, a
// byte pattern for integers) and appends guard bytes after each output,
// runs the variant through the dispatcher's direct path, and compares with the
// reference by normalized mean squared error (integer outputs exactly, or within
// max_lsb units in the last place). NaN/Inf where the reference is
// finite, touched guard bytes or modified inputs are failures; a variant that
// declines the call is reported as unsupported, a CUDA variant on a machine
// without a device as skipped: neither counts as a pass.
//
// The same table in perf mode times each variant (tinyopt bench).
#pragma once

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "core/op.h"
#include "kernels/cost.h"
#include "profiler/timer.h"

namespace tinyopt::conformance {

struct TensorSpec {
  Shape shape;
  DType dtype = DType::f32;
};

// Fills a float64 buffer with inputs for one tensor (values must be
// representable in the tensor's dtype; they are converted exactly).
using Generator = std::function<void(std::vector<double>& values, std::mt19937_64& rng)>;
Generator uniform(double lo, double hi);

// Runs variant `variant` on `tensors` (inputs then outputs); returns false when
// the variant's supports() declines the call.
using Invoke = std::function<bool(const std::string& variant, std::vector<Tensor>& tensors)>;
// Computes the float64 reference outputs from float64 inputs.
using Reference = std::function<void(const std::vector<std::vector<double>>& inputs,
                                     std::vector<std::vector<double>>& outputs)>;

struct OpCase {
  std::string op;     // catalogue name, e.g. "matmul"
  std::string label;  // shape and flags, e.g. "m=7 n=13 k=127 ta=0 tb=1"
  const OpBase* op_object = nullptr;
  std::vector<TensorSpec> inputs;
  std::vector<TensorSpec> outputs;
  std::vector<Generator> generators;  // one per input (defaults to uniform(-1, 1))
  Invoke invoke;
  Reference reference;
  double max_nmse = 1e-9;             // 0 = exact match required (integer ops)
  // Integer outputs only: when >= 0, each element may differ from the reference by
  // at most this many units in the last place (requantized INT8 outputs: 1), and
  // those outputs are judged by this bound instead of by NMSE.
  int64_t max_lsb = -1;
  OpCost cost;
  std::string name() const { return op + " " + label; }
};

enum class Outcome { pass, fail, unsupported, skipped };
const char* outcome_name(Outcome outcome);

struct CaseResult {
  Outcome outcome = Outcome::fail;
  double nmse = 0;
  std::string message;  // why it failed, was unsupported or skipped
};

// Element i of a raw buffer of `dtype`, as float64 (read) or converted from it (write).
double read_element(const void* data, DType dtype, int64_t i);
void write_element(void* data, DType dtype, int64_t i, double v);

// Builds an Invoke for an op from a function that assembles its Args from tensors.
template <class Args, class Build>
Invoke make_invoke(const Op<Args>& op, Build build) {
  return [&op, build](const std::string& variant, std::vector<Tensor>& tensors) -> bool {
    Args args = build(tensors);
    for (const auto& v : op.variants()) {
      if (v.name != variant) continue;
      if (!v.supports(args)) return false;
      op.run_variant(v, args);
      return true;
    }
    fail("{}: no variant named {}", op.name(), variant);
  };
}

// The whole table (every op's cases). Built on first use.
const std::vector<OpCase>& all_cases();
// Cases of one op, as used by `tinyopt bench`.
OpCase matmul_case(int64_t m, int64_t n, int64_t k, bool trans_a, bool trans_b);

// Variants registered for a case's op, with their devices.
std::vector<VariantInfo> case_variants(const OpCase& c);

// Correctness mode.
CaseResult check_case(const OpCase& c, const VariantInfo& variant, uint64_t seed);

// Perf mode: times the variant on random inputs (outputs not checked here).
struct PerfResult {
  Outcome outcome = Outcome::pass;  // pass = timed; unsupported/skipped as above
  std::string message;
  TimingStats stats;
  double gflops() const;  // from the case's cost and the median time
  double gbytes_per_s() const;
  OpCost cost;
};
PerfResult perf_case(const OpCase& c, const VariantInfo& variant, const TimerOptions& options, uint64_t seed = 1);

}  // namespace tinyopt::conformance
