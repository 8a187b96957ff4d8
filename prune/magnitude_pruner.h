// Unstructured magnitude pruning (the plan's MagnitudePruner): the weights
// with the smallest |w| are set to zero and a 0/1 mask keeps them there while
// fine-tuning (nn::Parameter::mask, honoured by nn/optim.cpp's SGD and AdamW,
// which zero the masked gradients and re-zero the masked weights after every
// step).
//
// Per layer: every tensor loses the same fraction. Global: one threshold over
// all tensors, so layers with many small weights (the MLP's 784-wide first
// layer) give up more than small, critical ones (the 10-class output layer).
// Exactly round(sparsity * n) entries are pruned (ties broken by position),
// so the actual sparsity matches the target even when many weights tie (e.g.
// at zero after an earlier pruning round).
#pragma once

#include <string>
#include <vector>

#include "nn/model.h"

namespace tinyopt::prune {

struct LayerPruneStats {
  std::string name;             // parameter name, e.g. "0.weight"
  double target_sparsity = 0;   // asked for (per layer: the same for all; global: the overall target)
  double actual_sparsity = 0;   // zeros / elements after pruning
  double threshold = 0;         // largest |w| pruned (NaN, null in JSON, when nothing was pruned)
  int64_t params = 0;           // elements of the tensor
  int64_t nonzero_before = 0, nonzero_after = 0;
};

struct MaskResult {
  Tensor mask;  // f32 0/1, the weights' shape
  LayerPruneStats stats;
};

class MagnitudePruner {
 public:
  // The mask that zeroes the `sparsity` fraction of `weights` with the
  // smallest magnitude (weights themselves untouched). sparsity in [0, 1).
  static MaskResult prune(const Tensor& weights, double sparsity);
  // Prunes each parameter to `sparsity` on its own: sets its mask and zeroes its weights.
  static std::vector<LayerPruneStats> prune_per_layer(const std::vector<nn::Parameter*>& params, double sparsity);
  // One magnitude threshold across all `params` so that `sparsity` of all
  // their elements together are zero; sets masks and zeroes weights.
  static std::vector<LayerPruneStats> prune_global(const std::vector<nn::Parameter*>& params, double sparsity);
};

// Throws unless 0 <= sparsity < 1 (`what` names the flag or argument).
void check_sparsity(double sparsity, const std::string& what);

// Sets p.mask = mask and zeroes p's masked weights. The mask must be an f32
// CPU tensor of p's shape holding only 0 and 1, or the error names the parameter.
void apply_mask(nn::Parameter& p, const Tensor& mask);

// The gradual schedule of Zhu & Gupta (2017): sparsity after step `step` of
// `steps` rises as s_final * (1 - (1 - step/steps)^3): large cuts early, while
// many redundant weights remain, small ones at the end.
double gradual_sparsity(double final_sparsity, int step, int steps);

// What unstructured pruning touches: the weights of linear and conv2d layers
// (not biases, not layers already sparse).
std::vector<nn::Parameter*> prunable_weights(nn::Model& model);

}  // namespace tinyopt::prune
