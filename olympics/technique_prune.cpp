// The pruning technique: magnitude pruning (prune::prune_model) to the
// recipe's sparsity, optional masked fine-tuning, then sparse storage for
// layers sparse enough to gain from it (prune::to_sparse).
//
// HOOK (pruning, branch `sparse`): until prune/ is merged into main this
// technique reports itself unavailable, so a recipe asking for it fails with
// that message (or, with skip_unavailable, is skipped and says so).
#include "olympics/technique.h"

namespace tinyopt::olympics {

std::string prune_not_available() {
  return "pruning (prune/, branch sparse) is not merged into this build yet";
}

std::string prune_not_applicable(const Event& event) {
  (void)event;
  return "";
}

void apply_prune(TechniqueContext& context) {
  (void)context;
  fail("pruning: {}", prune_not_available());
}

std::string verify_prune(nn::Model& model, const RecipeSettings& settings) {
  (void)model;
  (void)settings;
  return "pruning is not in this build, so it cannot be present";
}

}  // namespace tinyopt::olympics
