// Linear: y = x W^T + b, W is [out, in] as in torch.nn.Linear. x may have any
// leading dims ([N, in] or [B, T, in]); they are flattened into rows.
#pragma once

#include "nn/init.h"
#include "nn/module.h"

namespace tinyopt::nn {

class Linear : public Module {
 public:
  Linear(const std::string& name, int64_t in_features, int64_t out_features, bool bias, Rng* rng);
  Tensor forward(const Tensor& x) override;
  Tensor backward(const Tensor& dy) override;
  std::string type() const override { return "linear"; }
  void collect_parameters(std::vector<Parameter*>& out) override;
  // The first layer of a model does not need dx; skipping it saves a matmul.
  void set_needs_input_grad(bool on) { needs_input_grad_ = on; }

  int64_t in_features() const { return in_; }
  int64_t out_features() const override { return out_; }
  Parameter weight, bias;

 private:
  int64_t in_, out_;
  bool has_bias_;
  bool needs_input_grad_ = true;
  Tensor x_;  // cached input rows [rows, in] (training only)
  Shape x_shape_;
};

}  // namespace tinyopt::nn
