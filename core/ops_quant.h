// INT8 ops of the catalogue (the contract in INT8_CONTRACT.md; kernels/quant.h
// holds the arithmetic). Scheme: real = scale * (q - zero_point); activations
// u8 with a per-tensor zero point, weights s8 symmetric per output channel in
// [-127, 127], bias i32 at scale in_scale * w_scale[n]. Accumulation is exact
// in i32; how the accumulators leave the op is chosen by y's dtype (QuantOutput).
#pragma once

#include <string>

#include "core/op.h"
#include "core/ops_nn.h"
#include "core/tensor.h"

namespace tinyopt {

// How a quantized op writes its int32 accumulators, chosen by y's dtype:
//   i32: the raw accumulators (tests, debugging); relu must be off;
//   u8 : requantized with multiplier/shift per output channel (kernels::requantize),
//        zero_point, optional fused ReLU (clamp at zero_point);
//   f32: dequantized, y = acc * scale[n] (for a float consumer such as the logits),
//        optional fused ReLU (clamp at 0).
// Tensors not needed by y's dtype are left undefined.
struct QuantOutput {
  Tensor multiplier;      // i32 [N], each in [0, 2^31) (Q31; 0 only for a zero real multiplier)
  Tensor shift;           // i32 [N], right shift in [-31, 31] (negative = left shift)
  Tensor scale;           // f32 [N]: in_scale * w_scale[n]
  int32_t zero_point = 0; // u8 output, in [0, 255]
  bool relu = false;

  // Checks the tensors y's dtype needs, for `channels` output channels; `op` names the op in errors.
  void validate(const Tensor& y, int64_t channels, const char* op) const;
  std::string describe(const Tensor& y) const;
  template <class F> void visit(F&& f) {
    if (multiplier.defined()) f(multiplier, false);
    if (shift.defined()) f(shift, false);
    if (scale.defined()) f(scale, false);
  }
};

// y[M, N] = a[M, K] (u8, zero point a_zero) x w[N, K]^T (s8, PyTorch linear layout) + bias[N] (i32, optional)
struct QGemmArgs {
  Tensor a, w, bias, y;
  int32_t a_zero = 0;
  QuantOutput out;

  int64_t m() const { return a.size(0); }
  int64_t k() const { return a.size(1); }
  int64_t n() const { return w.size(0); }
  void validate() const;
  std::string describe() const;
  template <class F> void visit(F&& f) {
    f(a, false); f(w, false);
    if (bias.defined()) f(bias, false);
    out.visit(f);
    f(y, true);
  }
};

// y[N, O, OH, OW] = conv(x[N, C, H, W] u8 zero point x_zero, w[O, C, KH, KW] s8) + bias[O] i32;
// padding positions hold x_zero (real 0). Output channels are y's dim 1.
struct QConv2dArgs {
  Tensor x, w, bias, y;
  Conv2dGeometry g;
  int32_t x_zero = 0;
  QuantOutput out;
  // A max-pool fused after the output stage: 0 = none, else pool x pool
  // windows at stride pool, no padding; y is then [N, O, OH / pool, OW / pool]
  // (floor), u8 or f32. The u8 stage is monotone (multipliers >= 0), so
  // pooling the accumulators and requantizing only the winners is exact; a
  // quantized CNN's conv + max-pool then requantizes a quarter of the outputs.
  int64_t pool = 0;

  void validate() const;
  std::string describe() const;
  template <class F> void visit(F&& f) {
    f(x, false); f(w, false);
    if (bias.defined()) f(bias, false);
    out.visit(f);
    f(y, true);
  }
};

// y (u8) = clamp(round_half_even(x / scale) + zero_point, 0, 255)   (x f32; PyTorch's quantize_per_tensor).
// x and y have equal shapes. The division is done in f32; NaN maps to zero_point (real 0).
struct QuantizeArgs {
  Tensor x, y;
  float scale = 1;
  int32_t zero_point = 0;
  void validate() const;
  std::string describe() const;
  template <class F> void visit(F&& f) { f(x, false); f(y, true); }
};

// y (f32) = scale * (x - zero_point)   (x u8), equal shapes.
struct DequantizeArgs {
  Tensor x, y;
  float scale = 1;
  int32_t zero_point = 0;
  void validate() const;
  std::string describe() const;
  template <class F> void visit(F&& f) { f(x, false); f(y, true); }
};

namespace ops {
extern Op<QGemmArgs> qgemm;
extern Op<QConv2dArgs> qconv2d;
extern Op<QuantizeArgs> quantize;
extern Op<DequantizeArgs> dequantize;
}  // namespace ops

}  // namespace tinyopt
