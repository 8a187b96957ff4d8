// Structured pruning: whole conv filters (output channels) or linear neurons
// (output features) are removed for real, and the layer that consumes them
// loses the matching inputs, so the result is a smaller dense model in the
// normal file format, faster on every backend with no sparse kernel at all.
//
// Works on any sequential model in nn/model.h's format (PyTorch-built ones
// included): the consumer is the next conv2d or linear layer, reached through
// relu, gelu, dropout, maxpool2d (channel-wise, so channels pass through
// unchanged) and flatten. After a flatten the linear layer's inputs are
// NCHW-ordered, c * (H * W) + h * W + w, so removing channel c removes the
// H * W consecutive columns [c * HW, (c + 1) * HW). Filters are ranked by the
// L1 or L2 norm of their weights (bias not counted); the kept ones stay in
// their original order. Masks (from earlier unstructured pruning) are sliced
// along. Layers without a consumer (the output layer) cannot be pruned: their
// outputs are the model's outputs.
#pragma once

#include <string>

#include "nn/model.h"

namespace tinyopt::prune {

enum class FilterNorm { l1, l2 };

struct StructuredStats {
  std::string layer;         // "3 (conv2d)"
  std::string consumer;      // "6 (linear, after flatten)"
  int64_t units_before = 0;  // filters or neurons
  int64_t units_after = 0;
  int64_t params_before = 0, params_after = 0;  // whole model
};

// Removes round(sparsity * filters) filters of conv layer `layer` (index in
// the sequential model). `model` is replaced by the smaller model (pointers to
// its old parameters become invalid). Throws for sparsity outside [0, 1), a
// layer that is not conv2d, no consumer, or a cut that would leave no filter.
StructuredStats prune_conv_filters(nn::Model& model, size_t layer, double sparsity, FilterNorm norm = FilterNorm::l1);
// The same for the neurons (output features) of linear layer `layer`.
StructuredStats prune_linear_neurons(nn::Model& model, size_t layer, double sparsity,
                                     FilterNorm norm = FilterNorm::l1);

// Layers of a sequential model that structured pruning can shrink (conv2d and
// linear layers that have a consumer), in order.
std::vector<size_t> prunable_units_layers(nn::Model& model);

}  // namespace tinyopt::prune
