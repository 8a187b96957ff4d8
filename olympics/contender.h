// A contender: one recipe's prepared model with its run-time settings, as
// the scenarios run it. The harness measures all contenders of an event
// together, interleaved (olympics/interleaved.h).
#pragma once

#include <string>

#include "olympics/recipe.h"
#include "olympics/technique.h"

namespace tinyopt::olympics {

struct Contender {
  std::string label;        // recipe name, or an ablation step ("fp32-best+prune")
  Recipe recipe;
  RecipeSettings settings;  // the recipe's settings for this event
  PreparedModel prepared;

  // Routes ops and sets threads for batch-1 queries / for batched work (untimed, before each slice).
  void apply_single_stream() const;
  void apply_batched() const;
};

}  // namespace tinyopt::olympics
