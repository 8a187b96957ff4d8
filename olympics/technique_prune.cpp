// The pruning technique (prune/): magnitude pruning to the recipe's sparsity
// (global or per layer, unstructured or whole filters/neurons), optional
// masked fine-tuning on the training split (retraining: open division), then
// sparse storage (CSR, spmm) for linear layers sparse enough to gain from it.
#include "olympics/technique.h"

#include "core/error.h"
#include "prune/prune_model.h"
#include "prune/sparse_model.h"

namespace tinyopt::olympics {

namespace {
// Linear layers at least this sparse go to CSR (the default of `tinyopt prune --sparse-min`).
constexpr double kSparseMinSparsity = 0.5;
}  // namespace

std::string prune_not_available() { return ""; }

std::string prune_not_applicable(const Event& event) {
  if (!event.is_classifier()) return "not applicable (prune/ prunes the linear and conv2d layers of image models)";
  return "";
}

void apply_prune(TechniqueContext& c) {
  const PruneSettings& s = *c.settings.prune;
  TINYOPT_CHECK(c.data != nullptr, "pruning: no Fashion-MNIST data for event {}", c.event.key);
  prune::PruneOptions po;
  po.sparsity = s.sparsity;
  po.structured = s.structured;
  po.global = s.global;
  po.finetune_epochs = static_cast<int>(s.finetune_epochs);
  Tensor train_x, train_y;
  if (s.finetune_epochs > 0) {
    // Fine-tuning reads the training split only (never the test split the quality is measured on).
    train_x = c.data->train_images.reshape(c.model.batch_shape(c.data->train_images.size(0)));
    train_y = c.data->train_labels;
    if (c.progress) c.progress(fmt::format("    fine-tuning {} epoch(s) after pruning (open division)", s.finetune_epochs));
  }
  const prune::PruneReport report = prune::prune_model(c.model, po, train_x, train_y);
  // Sparse storage whatever follows: a later INT8 step quantizes CSR layers too
  // (back to dense INT8, every pruned zero kept), so pruning need not know what comes next.
  const bool to_csr = !s.structured;
  if (to_csr) c.model = prune::to_sparse(c.model, kSparseMinSparsity);
  c.model.module->set_training(false);
  if (c.progress)
    c.progress(fmt::format("    pruned: {:.1f}% of the prunable weights zero ({} {}), {} of {} parameters non-zero{}",
                           100 * report.weight_sparsity_after, s.structured ? "structured" : "unstructured",
                           s.global ? "global" : "per layer", report.nonzero_after, report.params_before,
                           to_csr ? ", sparse linear layers in CSR" : ""));
}

namespace {
// Zeros among the weight matrices and kernels the model stores densely (f32 or int8):
// a pruned model that was quantized afterwards keeps its zeros there.
double dense_weight_zero_fraction(nn::Model& model) {
  int64_t zeros = 0, total = 0;
  for (const auto& [name, t] : model.state_dict()) {
    if (t.ndim() < 2 || name.find("weight") == std::string::npos || name.find("scale") != std::string::npos ||
        name.find("zero_point") != std::string::npos)
      continue;
    if (t.dtype() == DType::f32) {
      for (int64_t i = 0; i < t.numel(); ++i) zeros += t.data<float>()[i] == 0.0f;
    } else if (t.dtype() == DType::i8) {
      for (int64_t i = 0; i < t.numel(); ++i) zeros += t.data<int8_t>()[i] == 0;
    } else {
      continue;
    }
    total += t.numel();
  }
  return total > 0 ? double(zeros) / double(total) : 0.0;
}
}  // namespace

std::string verify_prune(const TechniqueEvidence& e) {
  const PruneSettings& s = *e.settings.prune;
  nn::Model& model = e.model;
  if (s.structured) {
    // Structured pruning leaves a smaller dense model: what was removed is the parameter count, not zeros.
    if (!(e.size_reduction > 1.0))
      return "the model is not smaller than the baseline's (structured pruning removes parameters)";
    return "";
  }
  const double measured = std::max(prune::measured_weight_sparsity(model), dense_weight_zero_fraction(model));
  if (measured + 0.02 < s.sparsity)
    return fmt::format("measured weight sparsity {:.3f} is below the declared {:.3f}", measured, s.sparsity);
  return "";
}

}  // namespace tinyopt::olympics
