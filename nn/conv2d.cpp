#include "nn/conv2d.h"

#include <cmath>

namespace tinyopt::nn {

Conv2d::Conv2d(const std::string& name, int64_t in_channels, int64_t out_channels, int64_t kernel_size,
               int64_t stride, int64_t padding, bool bias, Rng* rng)
    : in_(in_channels), out_(out_channels), k_(kernel_size), has_bias_(bias) {
  TINYOPT_CHECK(in_channels > 0 && out_channels > 0 && kernel_size > 0 && stride > 0 && padding >= 0,
                "{}: invalid conv2d (in {}, out {}, kernel {}, stride {}, padding {})", name, in_channels,
                out_channels, kernel_size, stride, padding);
  g_ = {stride, stride, padding, padding};
  weight = {name + ".weight", Tensor::empty({out_channels, in_channels, kernel_size, kernel_size}, DType::f32), {}, {}};
  if (has_bias_) this->bias = {name + ".bias", Tensor::empty({out_channels}, DType::f32), {}, {}};
  const double bound = 1.0 / std::sqrt(static_cast<double>(in_channels * kernel_size * kernel_size));
  if (rng) {
    init_uniform(weight.value, bound, *rng);
    if (has_bias_) init_uniform(this->bias.value, bound, *rng);
  }
}

void Conv2d::collect_parameters(std::vector<Parameter*>& out) {
  out.push_back(&weight);
  if (has_bias_) out.push_back(&bias);
}

Tensor Conv2d::forward(const Tensor& x) {
  TINYOPT_CHECK(x.ndim() == 4 && x.size(1) == in_, "{}: expected input [N, {}, H, W], found {}", weight.name, in_,
                x.describe());
  const int64_t oh = Conv2dGeometry::out_size(x.size(2), k_, g_.stride_h, g_.pad_h);
  const int64_t ow = Conv2dGeometry::out_size(x.size(3), k_, g_.stride_w, g_.pad_w);
  Conv2dArgs args{x.contiguous(), weight.value, has_bias_ ? bias.value : Tensor(),
                  Tensor::empty({x.size(0), out_, oh, ow}, DType::f32, x.device()), g_};
  ops::conv2d(args);
  if (training_) x_ = args.x;
  return args.y;
}

Tensor Conv2d::backward(const Tensor& dy) {
  TINYOPT_CHECK(x_.defined(), "{}: backward called without a training-mode forward", weight.name);
  Conv2dBackwardArgs args{x_,
                          weight.value,
                          dy.contiguous(),
                          needs_input_grad_ ? Tensor::empty(x_.shape(), DType::f32, x_.device()) : Tensor(),
                          Tensor::empty(weight.value.shape(), DType::f32, x_.device()),
                          has_bias_ ? Tensor::empty({out_}, DType::f32, x_.device()) : Tensor(),
                          g_};
  ops::conv2d_backward(args);
  accumulate(weight.grad, args.dw);
  if (has_bias_) accumulate(bias.grad, args.db);
  return args.dx;
}

}  // namespace tinyopt::nn
