// Sequential: layers applied in order, named by position like
// torch.nn.Sequential's state_dict ("0.weight", "3.bias", ...).
#pragma once

#include <vector>

#include "nn/module.h"

namespace tinyopt::nn {

class Sequential : public Module {
 public:
  void append(ModulePtr layer) { layers_.push_back(std::move(layer)); }
  Tensor forward(const Tensor& x) override;
  Tensor backward(const Tensor& dy) override;
  std::string type() const override { return "sequential"; }
  void collect_parameters(std::vector<Parameter*>& out) override;
  void set_training(bool on) override;
  size_t size() const { return layers_.size(); }
  Module& layer(size_t i) { return *layers_[i]; }
  std::vector<ModulePtr>& layers() { return layers_; }

 private:
  std::vector<ModulePtr> layers_;
};

}  // namespace tinyopt::nn
