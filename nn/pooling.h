// MaxPool2d: torch.nn.MaxPool2d with square kernel, stride (defaults to the
// kernel size, as in PyTorch) and padding.
#pragma once

#include "nn/module.h"

namespace tinyopt::nn {

class MaxPool2d : public Module {
 public:
  MaxPool2d(int64_t kernel_size, int64_t stride, int64_t padding);
  Tensor forward(const Tensor& x) override;
  Tensor backward(const Tensor& dy) override;
  std::string type() const override { return "maxpool2d"; }
  int64_t kernel_size() const { return kernel_; }
  int64_t stride() const { return stride_; }
  int64_t padding() const { return pad_; }

 private:
  int64_t kernel_, stride_, pad_;
  Tensor argmax_;
  Shape x_shape_;
};

}  // namespace tinyopt::nn
