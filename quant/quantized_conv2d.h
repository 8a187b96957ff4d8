// QuantizedConv2d: u8 NCHW input (padding holds the input zero point, real 0)
// convolved with s8 weights [out, in, k, k] + i32 bias, writing u8
// (requantized, ReLU fused) or f32.
#pragma once

#include "core/ops_nn.h"
#include "quant/quantized_layer.h"

namespace tinyopt::quant {

class QuantizedConv2d : public QuantizedLayer {
 public:
  QuantizedConv2d(const std::string& name, QuantizedLayerData data, const Conv2dGeometry& geometry);
  Tensor forward(const Tensor& x) override;
  std::string type() const override { return "quantized_conv2d"; }
  const Conv2dGeometry& geometry() const { return g_; }

 private:
  Conv2dGeometry g_;
};

}  // namespace tinyopt::quant
