// From a pruned (masked dense) model to a sparse one, and how sparse a model is.
#pragma once

#include "nn/model.h"

namespace tinyopt::prune {

// A copy of `model` in which every linear layer whose weight is at least
// `min_sparsity` zeros becomes a sparse_linear layer (CSR, forward through
// spmm); other layers (conv2d, denser linears) are copied unchanged. Saved
// with nn::save_model, it loads with models::load_model like any model.
nn::Model to_sparse(nn::Model& model, double min_sparsity);

// The inverse: a copy of `model` in which every sparse_linear layer is a
// linear layer holding the same weight, zeros included, and the same bias
// (metadata and other layers copied). For the passes that work on dense
// weights: further pruning, and INT8 quantization, whose symmetric weight
// scheme maps 0 to 0 so the pruned zeros stay exact.
nn::Model to_dense(nn::Model& model);
// Whether any layer of a sequential model is stored in CSR (sparse_linear).
bool has_sparse_layers(nn::Model& model);

// Fraction of the model's parameters that are zero or not stored, over all
// parameters (weights and biases) counted at their dense size: a sparse_linear
// layer counts out*in weights of which out*in - (non-zero values) are zero.
double measured_sparsity(nn::Model& model);

// The same over the prunable weights only (linear/conv weights, sparse
// weights at their dense size), which is what a pruning target refers to.
double measured_weight_sparsity(nn::Model& model);

// Non-zero parameters (weights and biases): what a pruned model really needs.
int64_t nonzero_parameters(nn::Model& model);

}  // namespace tinyopt::prune
