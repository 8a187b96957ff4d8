// Weights and biases of a quantized layer (the INT8 op contract):
//   weights s8, symmetric per output channel n (the first dimension):
//     scale[n] = max|w[n, ...]| / 127 (1 for an all-zero channel),
//     q = clamp(round_half_even(w / scale[n]), -127, 127)
//   bias i32 at the accumulator's scale in_scale * scale[n]:
//     bias_q[n] = round_half_even(bias[n] / (in_scale * scale[n])), clamped to +-2^30 so
//     adding it to the accumulators cannot overflow i32.
#pragma once

#include <string>

#include "core/tensor.h"

namespace tinyopt::quant {

struct QuantizedWeights {
  Tensor q;      // i8, same shape as the FP32 weight
  Tensor scale;  // f32 [N]
};

// `weights` is f32 [N, ...] (linear [out, in], conv [out, in, kh, kw]); `name`
// names the tensor in the error for a non-finite weight.
QuantizedWeights quantize_weights(const Tensor& weights, const std::string& name);

// i32 [N]; bias f32 [N] (CPU). `clamped` (optional) counts saturated entries.
Tensor quantize_bias(const Tensor& bias, float in_scale, const Tensor& weight_scale, const std::string& name,
                     int64_t* clamped = nullptr);

// f32 copy of q * scale[n], for error reports and tests.
Tensor dequantize_weights(const QuantizedWeights& w);

}  // namespace tinyopt::quant
