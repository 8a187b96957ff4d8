// Elementwise activations: ReLU and GELU (exact erf form, as torch.nn.GELU()).
#pragma once

#include "nn/module.h"

namespace tinyopt::nn {

class ReLU : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  Tensor backward(const Tensor& dy) override;
  std::string type() const override { return "relu"; }

 private:
  Tensor x_;
};

class GELU : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  Tensor backward(const Tensor& dy) override;
  std::string type() const override { return "gelu"; }

 private:
  Tensor x_;
};

}  // namespace tinyopt::nn
