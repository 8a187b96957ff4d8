// Base of the quantized modules: inference only. backward() throws, so a
// training loop handed a quantized model stops with a clear message instead
// of updating integer weights with float gradients.
#pragma once

#include "nn/module.h"

namespace tinyopt::quant {

class EvalOnlyModule : public nn::Module {
 public:
  Tensor backward(const Tensor&) override {
    fail("{}: quantized models are inference-only (no backward); train the FP32 model and quantize it again", type());
  }
};

// Counters filled while a statistics pass runs (the quantize command's
// saturation report): how many values the clamp to [0, 255] changed.
struct SaturationStats {
  int64_t values = 0;     // values written
  int64_t low = 0;        // clamped up to 0 (for a fused ReLU: to the zero point, which is the ReLU, not counted)
  int64_t high = 0;       // clamped down to 255
};

}  // namespace tinyopt::quant
