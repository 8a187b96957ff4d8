#include "nn/dropout.h"

namespace tinyopt::nn {

Dropout::Dropout(double p, uint64_t seed) : p_(p), rng_(seed) {
  TINYOPT_CHECK(p >= 0 && p < 1, "dropout: p must be in [0, 1), found {}", p);
}

Tensor Dropout::forward(const Tensor& x) {
  if (!training_ || p_ == 0) {
    mask_ = Tensor();
    return x;
  }
  TINYOPT_CHECK(x.device().is_cpu(), "dropout: training-mode dropout runs on the CPU only, found {}", x.describe());
  Tensor in = x.contiguous();
  mask_ = Tensor::empty(in.shape(), DType::f32);
  Tensor out = Tensor::empty(in.shape(), DType::f32);
  const float scale = static_cast<float>(1.0 / (1.0 - p_));
  float* m = mask_.data<float>();
  const float* src = in.data<float>();
  float* dst = out.data<float>();
  for (int64_t i = 0; i < in.numel(); ++i) {
    m[i] = rng_.uniform(0, 1) < p_ ? 0.0f : scale;
    dst[i] = src[i] * m[i];
  }
  return out;
}

Tensor Dropout::backward(const Tensor& dy) {
  if (!mask_.defined()) return dy;
  Tensor in = dy.contiguous();
  Tensor out = Tensor::empty(in.shape(), DType::f32);
  const float* m = mask_.data<float>();
  const float* src = in.data<float>();
  float* dst = out.data<float>();
  for (int64_t i = 0; i < in.numel(); ++i) dst[i] = src[i] * m[i];
  return out;
}

}  // namespace tinyopt::nn
