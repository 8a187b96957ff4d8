// Work and traffic of one op call: the profiler's FLOP counter, the roofline
// verdicts and the benchmarks' GFLOP/s and GB/s all read these formulas.
#pragma once

namespace tinyopt {

struct OpCost {
  double flops = 0;  // arithmetic operations (a fused multiply-add counts 2)
  double bytes = 0;  // minimum bytes read + written (each operand touched once)
  double intensity() const { return bytes > 0 ? flops / bytes : 0; }
};

}  // namespace tinyopt
