#include "nn/linear.h"

#include <cmath>

#include "core/ops.h"
#include "core/ops_nn.h"

namespace tinyopt::nn {

Linear::Linear(const std::string& name, int64_t in_features, int64_t out_features, bool bias, Rng* rng)
    : in_(in_features), out_(out_features), has_bias_(bias) {
  TINYOPT_CHECK(in_features > 0 && out_features > 0, "{}: linear layer needs positive sizes, found in={} out={}", name,
                in_features, out_features);
  weight = {name + ".weight", Tensor::empty({out_features, in_features}, DType::f32), {}, {}};
  if (has_bias_) this->bias = {name + ".bias", Tensor::empty({out_features}, DType::f32), {}, {}};
  const double bound = 1.0 / std::sqrt(static_cast<double>(in_features));
  if (rng) {
    init_uniform(weight.value, bound, *rng);
    if (has_bias_) init_uniform(this->bias.value, bound, *rng);
  }
}

void Linear::collect_parameters(std::vector<Parameter*>& out) {
  out.push_back(&weight);
  if (has_bias_) out.push_back(&bias);
}

Tensor Linear::forward(const Tensor& x) {
  TINYOPT_CHECK(x.ndim() >= 1 && x.size(-1) == in_, "{}: expected input [..., {}], found {}", weight.name, in_,
                x.describe());
  const int64_t rows = x.numel() / in_;
  Tensor x2 = x.contiguous().reshape({rows, in_});
  Tensor y = matmul(x2, weight.value, false, true);
  if (has_bias_) {
    BiasAddArgs args{y, bias.value, y};
    ops::bias_add(args);
  }
  if (training_) {
    x_ = x2;
    x_shape_ = x.shape();
  }
  Shape out_shape = x.shape();
  out_shape[out_shape.size() - 1] = out_;
  return y.reshape(out_shape);
}

Tensor Linear::backward(const Tensor& dy) {
  TINYOPT_CHECK(x_.defined(), "{}: backward called without a training-mode forward", weight.name);
  const int64_t rows = x_.size(0);
  Tensor dy2 = dy.contiguous().reshape({rows, out_});
  // dW = dy^T x ; db = column sums of dy ; dx = dy W
  accumulate(weight.grad, matmul(dy2, x_, true, false));
  if (has_bias_) {
    Tensor db = Tensor::empty({out_}, DType::f32, dy.device());
    SumRowsArgs args{dy2, db};
    ops::sum_rows(args);
    accumulate(bias.grad, db);
  }
  if (!needs_input_grad_) return Tensor();
  return matmul(dy2, weight.value).reshape(x_shape_);
}

}  // namespace tinyopt::nn
