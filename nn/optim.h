// Optimizers with PyTorch's update rules (torch.optim.SGD with momentum,
// torch.optim.AdamW). Parameters with a pruning mask keep their masked
// weights at exactly zero: the mask is applied to the gradient and the update.
#pragma once

#include <vector>

#include "nn/module.h"

namespace tinyopt::nn {

class Optimizer {
 public:
  explicit Optimizer(std::vector<Parameter*> params) : params_(std::move(params)) {}
  virtual ~Optimizer() = default;
  virtual void step() = 0;
  void set_lr(double lr) { lr_ = lr; }
  double lr() const { return lr_; }

 protected:
  std::vector<Parameter*> params_;
  double lr_ = 1e-3;
};

class SGD : public Optimizer {
 public:
  SGD(std::vector<Parameter*> params, double lr, double momentum = 0.9, double weight_decay = 0);
  void step() override;

 private:
  double momentum_, weight_decay_;
  std::vector<Tensor> velocity_;
};

class AdamW : public Optimizer {
 public:
  AdamW(std::vector<Parameter*> params, double lr, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
        double weight_decay = 0.01);
  void step() override;
  // Parameters (by pointer) that get no weight decay (biases, norms, as nanoGPT does).
  void set_no_decay(const std::vector<Parameter*>& params);

 private:
  double beta1_, beta2_, eps_, weight_decay_;
  int64_t t_ = 0;
  std::vector<Tensor> m_, v_;
  std::vector<bool> decay_;
};

}  // namespace tinyopt::nn
