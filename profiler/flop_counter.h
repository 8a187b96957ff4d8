// FLOPCounter: the work (FLOPs) and traffic (bytes) of one forward pass, per
// op and per layer, read from the cost formulas the dispatcher attaches to
// every catalogue op (core/op_costs.cpp -> kernels/*.h). Counting runs the
// model once under a dispatch observer, so it counts exactly the ops that
// run (a fused kernel, a fallback, a skipped bias) rather than re-deriving
// them from the layer list.
//
// The roofline verdict compares an op's arithmetic intensity (FLOP/byte)
// with the machine's ridge point (peak FLOP/s / bandwidth, both measured):
// below it the op cannot reach the compute roof even with perfect caching.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "kernels/cost.h"
#include "profiler/machine_peak.h"

namespace tinyopt {

struct CostRow {
  std::string name;  // op name ("conv2d"), or layer name ("0:conv2d", "transformer.h.1")
  int64_t calls = 0; // op calls counted into this row (for a layer: the ops that ran inside it)
  OpCost cost;       // summed over those calls
};

struct FlopReport {
  std::vector<CostRow> ops;     // per op, in first-call order
  std::vector<CostRow> layers;  // per innermost layer, in first-call order; "(no layer)" for ops outside any
  OpCost total;
};

// The ops `run_once` dispatches (one forward pass of a model, say).
FlopReport count_ops(const std::function<void()>& run_once);
// One forward pass of any model or layer (the profiler sits below nn and
// knows a model only as something with forward()).
template <class Model>
FlopReport count_ops(Model& model, const Tensor& input) {
  return count_ops([&] { model.forward(input); });
}

enum class Bound { compute, memory, unknown };
const char* bound_name(Bound b);  // "compute", "memory", "-"

struct RooflineVerdict {
  double intensity = 0;          // FLOP per byte of the op
  double ridge = 0;              // FLOP per byte where the roofs meet
  double attainable_gflops = 0;  // min(peak, intensity x bandwidth)
  double achieved_gflops = 0;    // from a measured time (0 when none given)
  Bound bound = Bound::unknown;
  double fraction_of_roof() const { return attainable_gflops > 0 ? achieved_gflops / attainable_gflops : 0; }
};

// `seconds` (optional) is the measured time of `cost`'s work, for the achieved rate.
RooflineVerdict roofline(const OpCost& cost, const MachinePeaks& peaks, double seconds = 0);

}  // namespace tinyopt
