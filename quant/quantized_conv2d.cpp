#include "quant/quantized_conv2d.h"

namespace tinyopt::quant {

QuantizedConv2d::QuantizedConv2d(const std::string& name, QuantizedLayerData data, const Conv2dGeometry& geometry)
    : QuantizedLayer(name, std::move(data)), g_(geometry) {
  TINYOPT_CHECK(weight().ndim() == 4 && weight().size(2) == weight().size(3),
                "{}.weight: a quantized conv2d weight is [out, in, k, k], found {}", name, weight().describe());
}

Tensor QuantizedConv2d::forward(const Tensor& x) {
  const int64_t c = weight().size(1), o = weight().size(0), k = weight().size(2);
  TINYOPT_CHECK(x.dtype() == DType::u8 && x.ndim() == 4 && x.size(1) == c,
                "{}: expected a u8 input [N, {}, H, W], found {}", name(), c, x.describe());
  const int64_t oh = Conv2dGeometry::out_size(x.size(2), k, g_.stride_h, g_.pad_h);
  const int64_t ow = Conv2dGeometry::out_size(x.size(3), k, g_.stride_w, g_.pad_w);
  const DType out_dtype = stats_ || !u8_output() ? (u8_output() ? DType::i32 : DType::f32) : DType::u8;
  QConv2dArgs args{x.contiguous(),
                   weight(),
                   bias_tensor(),
                   Tensor::empty({x.size(0), o, oh, ow}, out_dtype, x.device()),
                   g_,
                   input_qparams().zero_point,
                   output_mode(out_dtype == DType::i32, x.device())};
  ops::qconv2d(args);
  if (u8_output() && stats_) return requantize_counting(args.y, o, oh * ow);
  return args.y;
}

}  // namespace tinyopt::quant
