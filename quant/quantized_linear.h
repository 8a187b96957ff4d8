// QuantizedLinear: u8 input [..., in] x s8 weight [out, in] + i32 bias,
// writing u8 (requantized, ReLU fused as a clamp) or f32 (the logits).
#pragma once

#include "quant/quantized_layer.h"

namespace tinyopt::quant {

class QuantizedLinear : public QuantizedLayer {
 public:
  QuantizedLinear(const std::string& name, QuantizedLayerData data);
  Tensor forward(const Tensor& x) override;
  std::string type() const override { return "quantized_linear"; }
  int64_t in_features() const { return weight().size(1); }
  int64_t out_features() const override { return weight().size(0); }
};

}  // namespace tinyopt::quant
