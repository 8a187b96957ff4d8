// Embedding: rows of a [num_embeddings, dim] table looked up by integer ids
// (torch.nn.Embedding). forward takes ids of any shape and returns [..., dim].
#pragma once

#include "nn/init.h"
#include "nn/module.h"

namespace tinyopt::nn {

class Embedding : public Module {
 public:
  Embedding(const std::string& name, int64_t num_embeddings, int64_t dim, double init_std, Rng* rng);
  Tensor forward(const Tensor& ids) override;
  Tensor backward(const Tensor& dy) override;  // accumulates the table's grad; returns an undefined tensor
  std::string type() const override { return "embedding"; }
  void collect_parameters(std::vector<Parameter*>& out) override;
  int64_t num_embeddings() const { return weight.value.size(0); }
  int64_t dim() const { return weight.value.size(1); }
  Parameter weight;

 private:
  Tensor ids_;
};

}  // namespace tinyopt::nn
