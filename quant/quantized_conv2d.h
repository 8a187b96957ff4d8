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
  // Pool each output with a k x k max-pool at stride k (the QuantizedMaxPool2d
  // that follows becomes a pass-through): on the CPU the kernel fuses it and
  // requantizes only the window maxima. u8 outputs only; 0 undoes it.
  void fuse_max_pool(int64_t k);
  int64_t fused_max_pool() const { return pool_; }

 private:
  Conv2dGeometry g_;
  int64_t pool_ = 0;
};

}  // namespace tinyopt::quant
