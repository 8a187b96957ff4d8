// The technique layer: how a recipe's optimizations are applied to an
// event's model. Each model-changing technique is one function with the same
// signature (olympics/technique_prune.cpp, olympics/technique_int8.cpp), run
// in a fixed order: prune first (so quantization sees the final weights),
// then INT8. Run-time techniques (backend choice, threads, the KV cache) are
// settings the scenarios apply per query (olympics/execution.h).
//
// A technique this build does not have (not_available() says why) is an
// error naming it, unless the recipe sets skip_unavailable, in which case it
// is skipped and the skip is reported. (Both pruning and INT8 are in this
// build; the path stays for techniques to come and for builds without them.) A technique that does
// not apply to an event (KV cache on an image model, calibration-image INT8
// on the GPT) is skipped there with the reason. Only techniques really
// applied are listed, and validate() checks them in the model.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "data/fashion_mnist.h"
#include "nn/model.h"
#include "olympics/event.h"
#include "olympics/recipe.h"

namespace tinyopt::olympics {

// What a model-changing technique gets.
struct TechniqueContext {
  const Event& event;
  const RecipeSettings& settings;
  const FashionMnist* data;  // image events: calibration and training splits (never the test split)
  nn::Model& model;          // changed in place (or replaced)
  std::function<void(const std::string&)> progress;  // one line per step, for the harness's progress output
};

struct Technique {
  std::string name;  // "prune", "int8", as listed in entries and the ablation
  bool (*requested)(const RecipeSettings&);
  // "" when it can run on this event in this build; otherwise why not.
  std::string (*not_applicable)(const Event&);  // the event does not have what it optimizes
  std::string (*not_available)();               // this build lacks it
  void (*apply)(TechniqueContext&);
  // validate(): "" when the technique is really present in the model, else what is missing.
  std::string (*verify)(nn::Model&, const RecipeSettings&);
};

// Model-changing techniques, in application order.
const std::vector<Technique>& model_techniques();

// The techniques (technique_*.cpp): each checks its own preconditions.
std::string prune_not_available();
std::string prune_not_applicable(const Event& event);
void apply_prune(TechniqueContext& context);
std::string verify_prune(nn::Model& model, const RecipeSettings& settings);
std::string int8_not_available();
std::string int8_not_applicable(const Event& event);
void apply_int8(TechniqueContext& context);
std::string verify_int8(nn::Model& model, const RecipeSettings& settings);

// A model ready to benchmark: the recipe's techniques applied.
struct PreparedModel {
  nn::Model model;
  std::string model_path;       // the file it came from
  std::string input_sha256;     // of that file
  std::string model_sha256;     // of the prepared model itself (model_digest), what gets measured
  bool own_model = false;       // the recipe brought its own file (open division)
  bool retrained = false;       // fine-tuning happened (open division)
  bool kv_cache = false;        // GPT: decode with the KV cache
  std::vector<std::string> applied;  // techniques applied, in order ("prune", "int8", "kv_cache")
  std::vector<std::string> skipped;  // "<technique>: <why>"
  std::vector<std::string> notes;    // what the techniques reported (sparsity reached, calibration size, ...)
};

// Loads the event's model (or the recipe's own) and applies the recipe's techniques.
PreparedModel prepare_model(const Event& event, const Recipe& recipe, const RecipeSettings& settings,
                            const FashionMnist* data, const std::function<void(const std::string&)>& progress);

// Checks that a model file fits an event (a 10-class 28x28 classifier, or a GPT).
void check_model_fits_event(nn::Model& model, const Event& event, const std::string& path);

// Bytes of every tensor the model holds (its state_dict: int8 weights count 1 byte each).
int64_t model_bytes(nn::Model& model);
// SHA-256 of the model's config and every tensor (names, dtypes, shapes,
// bytes), as a safetensors file holding only those would be: two models with
// the same digest compute the same function, whatever file they came from.
std::string model_digest(nn::Model& model);

}  // namespace tinyopt::olympics
