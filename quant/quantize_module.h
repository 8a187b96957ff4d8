// Quantize: f32 -> u8 at the model input (or after a float-only layer),
// y = clamp(round_half_even(x / scale) + zero_point, 0, 255).
#pragma once

#include "quant/eval_only_module.h"
#include "quant/qparams.h"

namespace tinyopt::quant {

class Quantize : public EvalOnlyModule {
 public:
  explicit Quantize(QParams p) : p_(p) {}
  Tensor forward(const Tensor& x) override;
  std::string type() const override { return "quantize"; }
  QParams qparams() const { return p_; }
  // When set, forward() also counts the values it clamps.
  void set_stats(SaturationStats* stats) { stats_ = stats; }

 private:
  QParams p_;
  SaturationStats* stats_ = nullptr;
};

// Dequantize: u8 -> f32 before a float-only layer, y = scale * (x - zero_point).
class Dequantize : public EvalOnlyModule {
 public:
  explicit Dequantize(QParams p) : p_(p) {}
  Tensor forward(const Tensor& x) override;
  std::string type() const override { return "dequantize"; }
  QParams qparams() const { return p_; }

 private:
  QParams p_;
};

// u8 ReLU that did not fuse into a layer: clamp at the zero point (real 0).
class QuantizedReLU : public EvalOnlyModule {
 public:
  explicit QuantizedReLU(QParams p) : p_(p) {}
  Tensor forward(const Tensor& x) override;
  std::string type() const override { return "quantized_relu"; }

 private:
  QParams p_;
};

// Max pooling of u8 data in its own scale and zero point.
class QuantizedMaxPool2d : public EvalOnlyModule {
 public:
  QuantizedMaxPool2d(int64_t kernel_size, int64_t stride, int64_t padding)
      : kernel_(kernel_size), stride_(stride), pad_(padding) {}
  Tensor forward(const Tensor& x) override;
  std::string type() const override { return "quantized_maxpool2d"; }
  int64_t kernel_size() const { return kernel_; }
  int64_t stride() const { return stride_; }
  int64_t padding() const { return pad_; }
  // The conv before this layer pools (QuantizedConv2d::fuse_max_pool): pass the input through.
  void mark_fused(bool fused = true) { fused_ = fused; }

 private:
  int64_t kernel_, stride_, pad_;
  bool fused_ = false;
};

// Tensor-level helpers the modules and the reports share.
Tensor max_pool_u8(const Tensor& x, int64_t kernel, int64_t stride, int64_t pad);
Tensor quantize_tensor(const Tensor& x, QParams p);
Tensor dequantize_tensor(const Tensor& x, QParams p);

}  // namespace tinyopt::quant
