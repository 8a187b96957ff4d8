// A contender: one recipe's prepared model with its run-time settings, as
// the scenarios run it. The harness measures all contenders of an event
// together, interleaved (olympics/interleaved.h).
#pragma once

#include <string>

#include "core/dispatcher.h"
#include "core/threads.h"
#include "olympics/recipe.h"
#include "olympics/technique.h"

namespace tinyopt::olympics {

// What a contender's work runs under: its kernels and its threads, in force
// while this object lives, on this thread only; nothing process-wide changes.
class ContenderScope {
 public:
  ContenderScope(const BackendChoice& kernels, int threads) : kernels_(kernels), threads_(threads) {}

 private:
  ScopedBackendChoice kernels_;
  ScopedThreads threads_;
};

struct Contender {
  std::string label;        // recipe name, or an ablation step ("fp32-best+prune")
  Recipe recipe;
  RecipeSettings settings;  // the recipe's settings for this event
  BackendChoice kernels;    // settings.backend, parsed once
  PreparedModel prepared;

  // Kernels and threads for batch-1 queries / for batched work.
  ContenderScope single_stream_scope() const;
  ContenderScope batched_scope() const;
};

}  // namespace tinyopt::olympics
