#include "quant/quantized_layer.h"

#include <cmath>

#include "kernels/quant.h"

namespace tinyopt::quant {

QuantizedLayer::QuantizedLayer(const std::string& name, QuantizedLayerData data)
    : name_(name), has_bias_(data.bias.defined()), in_(data.input), out_q_(data.output), relu_(data.relu) {
  const Tensor& w = data.weights.q;
  const int64_t n = w.size(0);
  TINYOPT_CHECK(w.dtype() == DType::i8, "{}.weight: expected i8, found {}", name, w.describe());
  TINYOPT_CHECK(data.weights.scale.dtype() == DType::f32 && data.weights.scale.shape() == Shape({n}),
                "{}.weight_scale: expected f32 [{}], found {}", name, n, data.weights.scale.describe());
  check_qparams(in_, name + ".input_scale/input_zero_point");
  if (out_q_) check_qparams(*out_q_, name + ".output_scale/output_zero_point");
  weight_ = {name + ".weight", w, {}, {}};
  weight_scale_ = {name + ".weight_scale", data.weights.scale, {}, {}};
  if (has_bias_) bias_ = {name + ".bias", data.bias, {}, {}};
  in_scale_ = {name + ".input_scale", Tensor::full({1}, in_.scale, DType::f32), {}, {}};
  in_zero_ = {name + ".input_zero_point", Tensor::full({1}, in_.zero_point, DType::i32), {}, {}};
  if (out_q_) {
    out_scale_ = {name + ".output_scale", Tensor::full({1}, out_q_->scale, DType::f32), {}, {}};
    out_zero_ = {name + ".output_zero_point", Tensor::full({1}, out_q_->zero_point, DType::i32), {}, {}};
  }
  // Requantization constants, computed once: multiplier/shift for u8, scale for f32.
  const float* ws = data.weights.scale.data<float>();
  out_.relu = relu_;
  out_.scale = Tensor::empty({n}, DType::f32);
  out_.multiplier = Tensor::empty({n}, DType::i32);
  out_.shift = Tensor::empty({n}, DType::i32);
  for (int64_t c = 0; c < n; ++c) {
    TINYOPT_CHECK(std::isfinite(ws[c]) && ws[c] > 0, "{}.weight_scale[{}]: must be finite and positive, found {}", name,
                  c, ws[c]);
    const double acc_scale = static_cast<double>(in_.scale) * ws[c];
    // The f32 output mode multiplies accumulators by this in f32: an Inf would
    // turn every zero accumulator into NaN, a 0 every output into 0.
    const float acc_scale_f = static_cast<float>(acc_scale);
    TINYOPT_CHECK(out_q_ || (std::isfinite(acc_scale_f) && acc_scale_f > 0),
                  "{}: output scale input_scale x weight_scale[{}] = {} x {} = {} is not a finite positive f32", name,
                  c, in_.scale, ws[c], acc_scale);
    out_.scale.data<float>()[c] = acc_scale_f;
    int32_t m = 0, s = 0;
    if (out_q_) {
      const double real = acc_scale / out_q_->scale;
      // The fixed-point form needs a multiplier within 2^31 of shift range.
      TINYOPT_CHECK(real > 1e-9 && real < 1e9, "{}: requantization multiplier {} (input scale {} x weight scale {} / "
                    "output scale {}) is out of the representable range", name, real, in_.scale, ws[c], out_q_->scale);
      kernels::quantize_multiplier(real, m, s);
    }
    out_.multiplier.data<int32_t>()[c] = m;
    out_.shift.data<int32_t>()[c] = s;
  }
  out_.zero_point = out_q_ ? out_q_->zero_point : 0;
}

void QuantizedLayer::collect_parameters(std::vector<nn::Parameter*>& out) {
  out.push_back(&weight_);
  out.push_back(&weight_scale_);
  if (has_bias_) out.push_back(&bias_);
  out.push_back(&in_scale_);
  out.push_back(&in_zero_);
  if (out_q_) {
    out.push_back(&out_scale_);
    out.push_back(&out_zero_);
  }
}

Tensor QuantizedLayer::requantize_counting(const Tensor& acc, int64_t channels, int64_t inner) const {
  const Tensor host = acc.to(Device::cpu()).contiguous();
  Tensor y = Tensor::empty(host.shape(), DType::u8);
  const int32_t* a = host.data<int32_t>();
  uint8_t* dst = y.data<uint8_t>();
  const int32_t* mult = out_.multiplier.data<int32_t>();
  const int32_t* shift = out_.shift.data<int32_t>();
  const int32_t zp = out_.zero_point;
  const int32_t lo = relu_ ? zp : 0;
  const int64_t n = host.numel();
  for (int64_t i = 0; i < n; ++i) {
    const int64_t c = (i / inner) % channels;
    // Unclamped value first (wide bounds), then the real clamp, so clamps can be counted.
    const int32_t v = kernels::requantize(a[i], mult[c], shift[c], zp, INT32_MIN, INT32_MAX);
    if (stats_) {
      stats_->low += !relu_ && v < 0;  // under a fused ReLU the clamp at the zero point is the ReLU
      stats_->high += v > 255;
    }
    dst[i] = static_cast<uint8_t>(v < lo ? lo : (v > 255 ? 255 : v));
  }
  if (stats_) stats_->values += n;
  return y.to(acc.device());
}

}  // namespace tinyopt::quant
