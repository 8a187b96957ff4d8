// Whole-model pruning with optional fine-tuning: the entry point of
// `tinyopt prune` and of the competition harness.
//
//   unstructured (default): magnitude masks on every linear/conv weight, per
//     layer or with one global threshold; fine-tuning keeps the pruned weights
//     at zero (masked updates). The result is a masked dense model; convert it
//     with to_sparse() for sparse storage and spmm.
//   structured: removes the `sparsity` fraction of the filters of every conv
//     layer and (unless structured_linear is off) of the neurons of every
//     hidden linear layer (never the output layer), shrinking their
//     consumers: a smaller dense model.
#pragma once

#include <string>
#include <vector>

#include "nn/model.h"
#include "nn/train.h"
#include "prune/magnitude_pruner.h"
#include "prune/structured.h"

namespace tinyopt::prune {

struct PruneOptions {
  double sparsity = 0.7;    // fraction of weights (unstructured) or filters/neurons (structured) removed, [0, 1)
  bool structured = false;
  bool global = false;      // unstructured: one threshold across layers
  bool structured_linear = true;  // structured: also shrink hidden linear layers (false: conv filters only)
  int finetune_epochs = 0;  // epochs of masked fine-tuning after pruning (needs training data)
  int gradual_steps = 1;    // unstructured: reach `sparsity` in this many prune + fine-tune rounds
  FilterNorm norm = FilterNorm::l1;  // structured: filter ranking
  double finetune_lr = 2e-3;         // AdamW, cosine decay to 0 over the fine-tuning (measured best of 5e-4..3e-3, docs/PRUNING.md)
  int64_t batch_size = 64;
  uint64_t seed = 1;
  bool progress = false;             // training progress line on stderr
};

struct PruneReport {
  PruneOptions options;
  int64_t params_before = 0;           // parameters of the model before (dense count)
  int64_t params_after = 0;            // parameters after (dense count; smaller only for structured)
  int64_t nonzero_before = 0, nonzero_after = 0;  // non-zero parameters
  double weight_sparsity_after = 0;    // zeros among prunable weights
  double sparsity_after = 0;           // zeros among all parameters
  std::vector<LayerPruneStats> layers;          // unstructured, last round
  std::vector<StructuredStats> structured_layers;
  std::vector<nn::EpochStats> finetune;         // per fine-tuning epoch
  double removed_fraction() const {             // of the original parameters, gone or zero
    return params_before > 0 ? 1.0 - double(nonzero_after) / double(params_before) : 0.0;
  }
};

// Throws unless `model` can be pruned: a sequential image model in FP32
// (dense or sparse; an INT8 model is refused: its weights are integers tied to
// calibrated scales). `what` names the model in the error, e.g. its file.
void check_prunable(const nn::Model& model, const std::string& what);

// Fine-tunes a pruned model for `epochs` (AdamW at options.finetune_lr with
// cosine decay; masked weights stay zero). Needs training data when epochs > 0.
std::vector<nn::EpochStats> finetune_model(nn::Model& model, const PruneOptions& options, int epochs,
                                           const Tensor& train_images, const Tensor& train_labels,
                                           const Tensor& val_images = {}, const Tensor& val_labels = {});

// Prunes `model` in place (structured pruning replaces it with a smaller
// model; a model with sparse_linear layers is first made dense, zeros kept,
// so a pruned model can be pruned further) and fine-tunes it for options.finetune_epochs on train_images /
// train_labels (Fashion-MNIST shaped for the model; required when epochs > 0),
// reporting each epoch's accuracy on val_images / val_labels when given.
PruneReport prune_model(nn::Model& model, const PruneOptions& options, const Tensor& train_images = {},
                        const Tensor& train_labels = {}, const Tensor& val_images = {}, const Tensor& val_labels = {});

}  // namespace tinyopt::prune
