#include "nn/layernorm.h"

#include "core/ops_nn.h"

namespace tinyopt::nn {

LayerNorm::LayerNorm(const std::string& name, int64_t dim, bool bias, float eps)
    : dim_(dim), has_bias_(bias), eps_(eps) {
  TINYOPT_CHECK(dim > 0, "{}: layernorm needs a positive size, found {}", name, dim);
  weight = {name + ".weight", Tensor::empty({dim}, DType::f32), {}, {}};
  weight.value.fill(1.0);
  if (has_bias_) {
    this->bias = {name + ".bias", Tensor::zeros({dim}, DType::f32), {}, {}};
  } else {
    zero_bias_ = Tensor::zeros({dim}, DType::f32);
  }
}

void LayerNorm::collect_parameters(std::vector<Parameter*>& out) {
  out.push_back(&weight);
  if (has_bias_) out.push_back(&bias);
}

Tensor LayerNorm::forward(const Tensor& x) {
  TINYOPT_CHECK(x.ndim() >= 1 && x.size(-1) == dim_, "{}: expected input [..., {}], found {}", weight.name, dim_,
                x.describe());
  Tensor in = x.contiguous();
  const int64_t rows = in.numel() / dim_;
  const Tensor& beta = has_bias_ ? bias.value : zero_bias_;
  LayerNormArgs args{in, weight.value, beta, Tensor::empty(in.shape(), DType::f32, in.device()),
                     training_ ? Tensor::empty({rows}, DType::f32, in.device()) : Tensor(),
                     training_ ? Tensor::empty({rows}, DType::f32, in.device()) : Tensor(), eps_};
  ops::layernorm(args);
  if (training_) {
    x_ = in;
    mean_ = args.mean;
    rstd_ = args.rstd;
  }
  return args.y;
}

Tensor LayerNorm::backward(const Tensor& dy) {
  TINYOPT_CHECK(x_.defined(), "{}: backward called without a training-mode forward", weight.name);
  LayerNormBackwardArgs args{x_,
                             weight.value,
                             mean_,
                             rstd_,
                             dy.contiguous(),
                             Tensor::empty(x_.shape(), DType::f32, x_.device()),
                             Tensor::empty({dim_}, DType::f32, x_.device()),
                             Tensor::empty({dim_}, DType::f32, x_.device())};
  ops::layernorm_backward(args);
  accumulate(weight.grad, args.dgamma);
  if (has_bias_) accumulate(bias.grad, args.dbeta);
  return args.dx;
}

}  // namespace tinyopt::nn
