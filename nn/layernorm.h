// LayerNorm over the last dimension (torch.nn.LayerNorm(D), eps 1e-5), with
// optional bias (nanoGPT's `bias=False` configs have none).
#pragma once

#include "nn/module.h"

namespace tinyopt::nn {

class LayerNorm : public Module {
 public:
  LayerNorm(const std::string& name, int64_t dim, bool bias, float eps = 1e-5f);
  Tensor forward(const Tensor& x) override;
  Tensor backward(const Tensor& dy) override;
  std::string type() const override { return "layernorm"; }
  void collect_parameters(std::vector<Parameter*>& out) override;
  Parameter weight, bias;

 private:
  int64_t dim_;
  bool has_bias_;
  float eps_;
  Tensor zero_bias_;  // used when the layer has no bias
  Tensor x_, mean_, rstd_;
};

}  // namespace tinyopt::nn
