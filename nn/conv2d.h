// Conv2d: torch.nn.Conv2d with square kernel, stride and padding
// (dilation 1, groups 1). Weight [out, in, k, k], NCHW activations.
#pragma once

#include "core/ops_nn.h"
#include "nn/init.h"
#include "nn/module.h"

namespace tinyopt::nn {

class Conv2d : public Module {
 public:
  Conv2d(const std::string& name, int64_t in_channels, int64_t out_channels, int64_t kernel_size, int64_t stride,
         int64_t padding, bool bias, Rng* rng);
  Tensor forward(const Tensor& x) override;
  Tensor backward(const Tensor& dy) override;
  std::string type() const override { return "conv2d"; }
  void collect_parameters(std::vector<Parameter*>& out) override;
  void set_needs_input_grad(bool on) { needs_input_grad_ = on; }

  int64_t in_channels() const { return in_; }
  int64_t out_channels() const { return out_; }
  int64_t kernel_size() const { return k_; }
  const Conv2dGeometry& geometry() const { return g_; }
  Parameter weight, bias;

 private:
  int64_t in_, out_, k_;
  bool has_bias_;
  Conv2dGeometry g_;
  bool needs_input_grad_ = true;
  Tensor x_;
};

}  // namespace tinyopt::nn
