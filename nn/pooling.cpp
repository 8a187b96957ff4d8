#include "nn/pooling.h"

#include "core/ops_nn.h"

namespace tinyopt::nn {

MaxPool2d::MaxPool2d(int64_t kernel_size, int64_t stride, int64_t padding)
    : kernel_(kernel_size), stride_(stride), pad_(padding) {
  TINYOPT_CHECK(kernel_size > 0 && stride > 0 && padding >= 0 && 2 * padding <= kernel_size,
                "maxpool2d: invalid kernel {} stride {} padding {}", kernel_size, stride, padding);
}

Tensor MaxPool2d::forward(const Tensor& x) {
  TINYOPT_CHECK(x.ndim() == 4, "maxpool2d: expected input [N, C, H, W], found {}", x.describe());
  const int64_t oh = Conv2dGeometry::out_size(x.size(2), kernel_, stride_, pad_);
  const int64_t ow = Conv2dGeometry::out_size(x.size(3), kernel_, stride_, pad_);
  const Shape out_shape{x.size(0), x.size(1), oh, ow};
  MaxPool2dArgs args{x.contiguous(), Tensor::empty(out_shape, DType::f32, x.device()),
                     training_ ? Tensor::empty(out_shape, DType::i32, x.device()) : Tensor(), kernel_, stride_, pad_};
  ops::maxpool2d(args);
  if (training_) {
    argmax_ = args.argmax;
    x_shape_ = x.shape();
  }
  return args.y;
}

Tensor MaxPool2d::backward(const Tensor& dy) {
  TINYOPT_CHECK(argmax_.defined(), "maxpool2d: backward called without a training-mode forward");
  MaxPool2dBackwardArgs args{dy.contiguous(), argmax_, Tensor::empty(x_shape_, DType::f32, dy.device())};
  ops::maxpool2d_backward(args);
  return args.dx;
}

}  // namespace tinyopt::nn
