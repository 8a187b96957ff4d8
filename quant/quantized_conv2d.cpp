#include "quant/quantized_conv2d.h"

#include "quant/quantize_module.h"

namespace tinyopt::quant {

QuantizedConv2d::QuantizedConv2d(const std::string& name, QuantizedLayerData data, const Conv2dGeometry& geometry)
    : QuantizedLayer(name, std::move(data)), g_(geometry) {
  TINYOPT_CHECK(weight().ndim() == 4 && weight().size(2) == weight().size(3),
                "{}.weight: a quantized conv2d weight is [out, in, k, k], found {}", name, weight().describe());
}

void QuantizedConv2d::fuse_max_pool(int64_t k) {
  TINYOPT_CHECK(k == 0 || (k >= 1 && u8_output()), "{}: a max-pool fuses into a u8-output conv only (k = {})", name(),
                k);
  pool_ = k;
}

Tensor QuantizedConv2d::forward(const Tensor& x) {
  const int64_t c = weight().size(1), o = weight().size(0), k = weight().size(2);
  TINYOPT_CHECK(x.dtype() == DType::u8 && x.ndim() == 4 && x.size(1) == c,
                "{}: expected a u8 input [N, {}, H, W], found {}", name(), c, x.describe());
  const int64_t oh = Conv2dGeometry::out_size(x.size(2), k, g_.stride_h, g_.pad_h);
  const int64_t ow = Conv2dGeometry::out_size(x.size(3), k, g_.stride_w, g_.pad_w);
  const DType out_dtype = stats_ || !u8_output() ? (u8_output() ? DType::i32 : DType::f32) : DType::u8;
  // The kernel pools when it can (host data, final u8 output); the statistics
  // pass (i32 out) and GPU runs pool afterwards, with the same result.
  const bool fused = pool_ > 0 && out_dtype == DType::u8 && x.device().is_cpu();
  const int64_t pool = fused ? pool_ : 0;
  QConv2dArgs args{x.contiguous(),
                   weight(),
                   bias_tensor(),
                   Tensor::empty({x.size(0), o, fused ? oh / pool : oh, fused ? ow / pool : ow}, out_dtype, x.device()),
                   g_,
                   input_qparams().zero_point,
                   output_mode(out_dtype == DType::i32, x.device()),
                   pool};
  ops::qconv2d(args);
  Tensor y = args.y;
  if (u8_output() && stats_) y = requantize_counting(y, o, oh * ow);
  if (pool_ > 0 && !fused) y = max_pool_u8(y, pool_, pool_, 0);
  return y;
}

}  // namespace tinyopt::quant
