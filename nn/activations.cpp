#include "nn/activations.h"

#include "core/ops.h"
#include "core/ops_nn.h"

namespace tinyopt::nn {

namespace {
Tensor activation_backward(Op<ActivationBackwardArgs>& op, const Tensor& x, const Tensor& dy, const char* name) {
  TINYOPT_CHECK(x.defined(), "{}: backward called without a training-mode forward", name);
  ActivationBackwardArgs args{x, dy.contiguous(), Tensor::empty(x.shape(), DType::f32, x.device())};
  op(args);
  return args.dx;
}
}  // namespace

Tensor ReLU::forward(const Tensor& x) {
  Tensor in = x.contiguous();
  if (training_) x_ = in;
  return relu(in);
}

Tensor ReLU::backward(const Tensor& dy) { return activation_backward(ops::relu_backward, x_, dy, "relu"); }

Tensor GELU::forward(const Tensor& x) {
  Tensor in = x.contiguous();
  if (training_) x_ = in;
  UnaryArgs args{in, Tensor::empty(in.shape(), DType::f32, in.device())};
  ops::gelu(args);
  return args.out;
}

Tensor GELU::backward(const Tensor& dy) { return activation_backward(ops::gelu_backward, x_, dy, "gelu"); }

}  // namespace tinyopt::nn
