#include "quant/weight_quantization.h"

#include <algorithm>
#include <cmath>

#include "quant/qparams.h"

namespace tinyopt::quant {

QuantizedWeights quantize_weights(const Tensor& weights, const std::string& name) {
  TINYOPT_CHECK(weights.dtype() == DType::f32 && weights.ndim() >= 2,
                "{}: weights to quantize must be f32 with an output-channel dimension, found {}", name,
                weights.describe());
  const Tensor w = weights.to(Device::cpu()).contiguous();
  const int64_t n = w.size(0), k = n == 0 ? 0 : w.numel() / n;
  QuantizedWeights out{Tensor::empty(w.shape(), DType::i8), Tensor::empty({n}, DType::f32)};
  const float* src = w.data<float>();
  int8_t* q = out.q.data<int8_t>();
  float* scale = out.scale.data<float>();
  for (int64_t r = 0; r < n; ++r) {
    const float* row = src + r * k;
    double absmax = 0;
    for (int64_t i = 0; i < k; ++i) {
      TINYOPT_CHECK(std::isfinite(row[i]), "{}: weight [{}, {}] is {}; cannot quantize a non-finite weight", name, r,
                    i, row[i]);
      absmax = std::max(absmax, static_cast<double>(std::fabs(row[i])));
    }
    scale[r] = symmetric_s8_scale(absmax);
    for (int64_t i = 0; i < k; ++i) {
      const float v = std::nearbyint(row[i] / scale[r]);
      q[r * k + i] = static_cast<int8_t>(std::clamp(v, float(-kWeightQMax), float(kWeightQMax)));
    }
  }
  return out;
}

Tensor quantize_bias(const Tensor& bias, float in_scale, const Tensor& weight_scale, const std::string& name,
                     int64_t* clamped) {
  const int64_t n = weight_scale.numel();
  TINYOPT_CHECK(bias.dtype() == DType::f32 && bias.numel() == n, "{}: bias must be f32 [{}], found {}", name, n,
                bias.describe());
  const Tensor b = bias.to(Device::cpu()).contiguous();
  Tensor out = Tensor::empty({n}, DType::i32);
  const float* src = b.data<float>();
  const float* ws = weight_scale.data<float>();
  int32_t* q = out.data<int32_t>();
  constexpr double kLimit = double(1 << 30);
  for (int64_t i = 0; i < n; ++i) {
    TINYOPT_CHECK(std::isfinite(src[i]), "{}: bias [{}] is {}; cannot quantize a non-finite bias", name, i, src[i]);
    const double v = std::nearbyint(static_cast<double>(src[i]) / (static_cast<double>(in_scale) * ws[i]));
    if (clamped && (v > kLimit || v < -kLimit)) ++*clamped;
    q[i] = static_cast<int32_t>(std::clamp(v, -kLimit, kLimit));
  }
  return out;
}

Tensor dequantize_weights(const QuantizedWeights& w) {
  Tensor out = Tensor::empty(w.q.shape(), DType::f32);
  const int64_t n = w.q.size(0), k = n == 0 ? 0 : w.q.numel() / n;
  const int8_t* q = w.q.data<int8_t>();
  const float* s = w.scale.data<float>();
  float* dst = out.data<float>();
  for (int64_t r = 0; r < n; ++r)
    for (int64_t i = 0; i < k; ++i) dst[r * k + i] = s[r] * q[r * k + i];
  return out;
}

}  // namespace tinyopt::quant
