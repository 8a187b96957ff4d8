// Flatten: [N, C, H, W] -> [N, C*H*W] in NCHW order (torch.nn.Flatten()).
#pragma once

#include "nn/module.h"

namespace tinyopt::nn {

class Flatten : public Module {
 public:
  Tensor forward(const Tensor& x) override {
    TINYOPT_CHECK(x.ndim() >= 1, "flatten: input must have a batch dimension");
    shape_ = x.shape();
    return x.contiguous().reshape({x.size(0), x.size(0) == 0 ? 0 : x.numel() / x.size(0)});
  }
  Tensor backward(const Tensor& dy) override { return dy.contiguous().reshape(shape_); }
  std::string type() const override { return "flatten"; }

 private:
  Shape shape_;
};

}  // namespace tinyopt::nn
