#include "prune/prune_model.h"

#include "prune/sparse_model.h"

namespace tinyopt::prune {

void check_prunable(const nn::Model& model, const std::string& what) {
  TINYOPT_CHECK(model.kind == nn::ModelKind::sequential, "{}: only sequential image models can be pruned (this is a GPT)",
                what);
  TINYOPT_CHECK(!model.is_quantized(), "{} is quantized (INT8); prune the FP32 model, then quantize the pruned "
                "model", what);
}

std::vector<nn::EpochStats> finetune_model(nn::Model& model, const PruneOptions& o, int epochs, const Tensor& images,
                                           const Tensor& labels, const Tensor& val_images, const Tensor& val_labels) {
  if (epochs <= 0) return {};
  TINYOPT_CHECK(images.defined() && labels.defined(), "prune: fine-tuning for {} epochs needs training data", epochs);
  nn::ClassifierTrainOptions t;
  t.epochs = epochs;
  t.batch_size = o.batch_size;
  t.lr = o.finetune_lr;
  t.min_lr = 0;
  t.optimizer = "adamw";  // honours Parameter::mask: pruned weights get no update and stay zero
  t.seed = o.seed;
  t.progress = o.progress;
  return nn::train_classifier(model, images, labels, t, val_images, val_labels);
}

PruneReport prune_model(nn::Model& model, const PruneOptions& o, const Tensor& train_images,
                        const Tensor& train_labels, const Tensor& val_images, const Tensor& val_labels) {
  check_sparsity(o.sparsity, "prune: --sparsity");
  TINYOPT_CHECK(o.finetune_epochs >= 0, "prune: fine-tuning epochs must be >= 0, found {}", o.finetune_epochs);
  TINYOPT_CHECK(o.gradual_steps >= 1, "prune: gradual steps must be >= 1, found {}", o.gradual_steps);
  check_prunable(model, "prune: the model");
  if (has_sparse_layers(model)) model = to_dense(model);  // CSR layers have no gradient to fine-tune
  PruneReport r;
  r.options = o;
  r.params_before = model.module->parameter_count();
  r.nonzero_before = nonzero_parameters(model);

  if (o.structured) {
    std::vector<size_t> layers;
    for (size_t i : prunable_units_layers(model))
      if (o.structured_linear || model.config["layers"][i]["type"] == "conv2d") layers.push_back(i);
    TINYOPT_CHECK(!layers.empty(), "prune --structured: the model has no {} to shrink",
                  o.structured_linear ? "conv2d or hidden linear layer" : "conv2d layer with a consumer");
    for (size_t i : layers) {
      const std::string type = model.config["layers"][i]["type"].get<std::string>();
      r.structured_layers.push_back(type == "conv2d" ? prune_conv_filters(model, i, o.sparsity, o.norm)
                                                     : prune_linear_neurons(model, i, o.sparsity, o.norm));
    }
    r.finetune = finetune_model(model, o, o.finetune_epochs, train_images, train_labels, val_images, val_labels);
  } else {
    const int steps = o.gradual_steps;
    for (int step = 1; step <= steps; ++step) {
      const double target = steps == 1 ? o.sparsity : gradual_sparsity(o.sparsity, step, steps);
      std::vector<nn::Parameter*> weights = prunable_weights(model);
      r.layers = o.global ? MagnitudePruner::prune_global(weights, target)
                          : MagnitudePruner::prune_per_layer(weights, target);
      // Spread the fine-tuning epochs over the rounds (round i gets its share, rounding down).
      const int epochs = o.finetune_epochs * step / steps - o.finetune_epochs * (step - 1) / steps;
      for (const nn::EpochStats& e :
           finetune_model(model, o, epochs, train_images, train_labels, val_images, val_labels))
        r.finetune.push_back(e);
    }
  }
  r.params_after = model.module->parameter_count();
  r.nonzero_after = nonzero_parameters(model);
  r.weight_sparsity_after = measured_weight_sparsity(model);
  r.sparsity_after = measured_sparsity(model);
  return r;
}

}  // namespace tinyopt::prune
