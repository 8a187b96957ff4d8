#include "quant/quantized_linear.h"

namespace tinyopt::quant {

QuantizedLinear::QuantizedLinear(const std::string& name, QuantizedLayerData data) : QuantizedLayer(name, std::move(data)) {
  TINYOPT_CHECK(weight().ndim() == 2, "{}.weight: a quantized linear weight is [out, in], found {}", name,
                weight().describe());
}

Tensor QuantizedLinear::forward(const Tensor& x) {
  TINYOPT_CHECK(x.dtype() == DType::u8 && x.ndim() >= 1 && x.size(-1) == in_features(),
                "{}: expected a u8 input [..., {}], found {}", name(), in_features(), x.describe());
  const int64_t rows = x.numel() / in_features();
  Shape out_shape = x.shape();
  out_shape[out_shape.size() - 1] = out_features();
  const DType out_dtype = stats_ || !u8_output() ? (u8_output() ? DType::i32 : DType::f32) : DType::u8;
  // (A 2-D input, the usual case, needs no reshape either way.)
  const bool matrix = x.ndim() == 2;
  QGemmArgs args{matrix ? x.contiguous() : x.contiguous().reshape({rows, in_features()}), weight(), bias_tensor(),
                 Tensor::empty({rows, out_features()}, out_dtype, x.device()), input_qparams().zero_point,
                 output_mode(out_dtype == DType::i32, x.device())};
  ops::qgemm(args);
  Tensor y = args.y;
  if (u8_output() && stats_) y = requantize_counting(y, out_features(), 1);
  return matrix ? y : y.reshape(out_shape);
}

}  // namespace tinyopt::quant
