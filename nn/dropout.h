// Dropout: identity at inference; in training zeroes each element with
// probability p and scales the rest by 1/(1-p) (torch.nn.Dropout), seeded.
#pragma once

#include "nn/init.h"
#include "nn/module.h"

namespace tinyopt::nn {

class Dropout : public Module {
 public:
  Dropout(double p, uint64_t seed);
  Tensor forward(const Tensor& x) override;
  Tensor backward(const Tensor& dy) override;
  std::string type() const override { return "dropout"; }
  double p() const { return p_; }

 private:
  double p_;
  Rng rng_;
  Tensor mask_;  // scale factors (0 or 1/(1-p)) of the last training forward
};

}  // namespace tinyopt::nn
