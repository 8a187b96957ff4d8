#include "quant/quantize_module.h"

#include "core/ops_nn.h"
#include "core/ops_quant.h"

namespace tinyopt::quant {

Tensor quantize_tensor(const Tensor& x, QParams p) {
  QuantizeArgs args{x.contiguous(), Tensor::empty(x.shape(), DType::u8, x.device()), p.scale, p.zero_point};
  ops::quantize(args);
  return args.y;
}

Tensor dequantize_tensor(const Tensor& x, QParams p) {
  DequantizeArgs args{x.contiguous(), Tensor::empty(x.shape(), DType::f32, x.device()), p.scale, p.zero_point};
  ops::dequantize(args);
  return args.y;
}

Tensor Quantize::forward(const Tensor& x) {
  TINYOPT_CHECK(x.dtype() == DType::f32, "quantize: expected an f32 input, found {}", x.describe());
  if (stats_) {
    const Tensor host = x.to(Device::cpu()).contiguous();
    const float* v = host.data<float>();
    for (int64_t i = 0; i < host.numel(); ++i) {
      const float q = std::nearbyint(v[i] / p_.scale) + static_cast<float>(p_.zero_point);
      stats_->low += q < 0.0f;
      stats_->high += q > 255.0f;
    }
    stats_->values += host.numel();
  }
  return quantize_tensor(x, p_);
}

Tensor Dequantize::forward(const Tensor& x) {
  TINYOPT_CHECK(x.dtype() == DType::u8, "dequantize: expected a u8 input, found {}", x.describe());
  return dequantize_tensor(x, p_);
}

Tensor QuantizedReLU::forward(const Tensor& x) {
  TINYOPT_CHECK(x.dtype() == DType::u8, "quantized_relu: expected a u8 input, found {}", x.describe());
  const Tensor host = x.to(Device::cpu()).contiguous();
  Tensor y = Tensor::empty(host.shape(), DType::u8);
  const uint8_t* src = host.data<uint8_t>();
  uint8_t* dst = y.data<uint8_t>();
  const uint8_t zp = static_cast<uint8_t>(p_.zero_point);
  for (int64_t i = 0; i < host.numel(); ++i) dst[i] = src[i] < zp ? zp : src[i];
  return y.to(x.device());
}

Tensor max_pool_u8(const Tensor& x, int64_t kernel, int64_t stride, int64_t pad) {
  TINYOPT_CHECK(x.ndim() == 4 && x.dtype() == DType::u8, "quantized_maxpool2d: expected a u8 input [N, C, H, W], found {}",
                x.describe());
  const int64_t oh = Conv2dGeometry::out_size(x.size(2), kernel, stride, pad);
  const int64_t ow = Conv2dGeometry::out_size(x.size(3), kernel, stride, pad);
  MaxPool2dArgs args{x.contiguous(), Tensor::empty({x.size(0), x.size(1), oh, ow}, DType::u8, x.device()), Tensor(),
                     kernel, stride, pad};
  ops::maxpool2d(args);
  return args.y;
}

Tensor QuantizedMaxPool2d::forward(const Tensor& x) {
  if (fused_) return x;
  return max_pool_u8(x, kernel_, stride_, pad_);
}

}  // namespace tinyopt::quant
