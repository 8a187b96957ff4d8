// The technique layer: how a recipe's optimizations are applied to an
// event's model. Each technique is one entry of techniques() with the same
// functions (olympics/technique_prune.cpp, technique_int8.cpp,
// technique_kv_cache.cpp), run in the table's order. Kernel choice and
// threads are not techniques: they are the contender's settings, applied per
// query (olympics/contender.h).
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

// What a technique's apply() gets.
struct TechniqueContext {
  const Event& event;
  const RecipeSettings& settings;
  const FashionMnist* data;  // image events: calibration and training splits (never the test split)
  nn::Model& model;          // changed in place (or replaced)
  bool& decode_with_kv_cache;  // run-time techniques set how the model is run rather than change it
  std::function<void(const std::string&)> progress;  // one line per step, for the harness's progress output
};

// What a technique's verify() sees after the benchmark: the model measured and what running it did.
struct TechniqueEvidence {
  nn::Model& model;
  const RecipeSettings& settings;
  size_t kv_cache_bytes = 0;    // bytes the KV cache held while decoding (0: none allocated)
  double size_reduction = 0;    // baseline model bytes / this model's bytes
};

// Everything the driver (prepare_model, the ablation, validation) needs to
// know about a technique: a new technique is one entry in techniques() and
// one technique_<name>.cpp, and nothing else names it.
struct Technique {
  std::string name;  // "prune", "int8", "kv_cache", as listed in entries and the ablation
  bool (*requested)(const RecipeSettings&);
  // The ablation's toggle: this technique's part of `step` set from the
  // recipe's settings `full`, or cleared when `full` is null.
  void (*toggle)(RecipeSettings& step, const RecipeSettings* full);
  // "" when it can run on this event in this build; otherwise why not.
  std::string (*not_applicable)(const Event&);  // the event does not have what it optimizes
  std::string (*not_available)();               // this build lacks it
  void (*apply)(TechniqueContext&);
  // Validation: "" when the technique is really present, else what is missing.
  std::string (*verify)(const TechniqueEvidence&);
  // Validation's plausibility bound: how many times the dense FP32 work per
  // second this technique can honestly multiply (INT8: 4 lanes per FP32 lane;
  // pruning: the work it removes). A result faster than twice the product of
  // its techniques' allowances over the machine's FP32 peak is flagged.
  double (*speed_allowance)(const RecipeSettings&);
  // Changes weights by training, which puts the entry in the open division.
  bool (*retrains)(const RecipeSettings&);
};

// Every technique, in application order (prune before int8, so quantization
// sees the final weights; quant/ quantizes a pruned model's CSR layers too).
const std::vector<Technique>& techniques();

// The techniques (technique_*.cpp): each checks its own preconditions.
std::string prune_not_available();
std::string prune_not_applicable(const Event& event);
void apply_prune(TechniqueContext& context);
std::string verify_prune(const TechniqueEvidence& evidence);
std::string int8_not_available();
std::string int8_not_applicable(const Event& event);
void apply_int8(TechniqueContext& context);
std::string verify_int8(const TechniqueEvidence& evidence);
std::string kv_cache_not_applicable(const Event& event);
void apply_kv_cache(TechniqueContext& context);
std::string verify_kv_cache(const TechniqueEvidence& evidence);

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
