#include "olympics/technique.h"

#include <algorithm>

#include "core/error.h"
#include "io/safetensors.h"
#include "models/model_file.h"
#include "olympics/sha256.h"

namespace tinyopt::olympics {

const std::vector<Technique>& techniques() {
  static const std::vector<Technique> table = {
      {"prune",
       [](const RecipeSettings& s) { return s.prune.has_value(); },
       [](RecipeSettings& step, const RecipeSettings* full) {
         if (full) step.prune = full->prune; else step.prune.reset();
       },
       prune_not_applicable, prune_not_available, apply_prune, verify_prune,
       [](const RecipeSettings& s) { return 1 / std::max(0.01, 1 - s.prune->sparsity); },
       [](const RecipeSettings& s) { return s.prune->finetune_epochs > 0; }},
      {"int8",
       [](const RecipeSettings& s) { return s.int8.has_value(); },
       [](RecipeSettings& step, const RecipeSettings* full) {
         if (full) step.int8 = full->int8; else step.int8.reset();
       },
       int8_not_applicable, int8_not_available, apply_int8, verify_int8,
       [](const RecipeSettings&) { return 4.0; },
       [](const RecipeSettings&) { return false; }},
      {"kv_cache",
       [](const RecipeSettings& s) { return s.kv_cache; },
       [](RecipeSettings& step, const RecipeSettings* full) { step.kv_cache = full && full->kv_cache; },
       kv_cache_not_applicable, [] { return std::string(); }, apply_kv_cache, verify_kv_cache,
       // Decoding's speed is not judged against the FP32 peak (only image events are).
       [](const RecipeSettings&) { return 1.0; },
       [](const RecipeSettings&) { return false; }},
  };
  return table;
}

void check_model_fits_event(nn::Model& model, const Event& event, const std::string& path) {
  if (event.is_classifier()) {
    TINYOPT_CHECK(model.kind == nn::ModelKind::sequential,
                  "{}: event {} ({}) needs an image classifier (sequential model), found a GPT", path, event.key,
                  event.name);
    TINYOPT_CHECK(model.sample_numel() == 784, "{}: event {} takes 28x28 Fashion-MNIST images, the model's input_shape "
                  "{} holds {} values", path, event.key, Shape(model.input_shape).str(), model.sample_numel());
    TINYOPT_CHECK(model.num_classes() == 10, "{}: event {} has 10 classes, the model has {} outputs", path, event.key,
                  model.num_classes());
  } else {
    TINYOPT_CHECK(model.kind == nn::ModelKind::gpt, "{}: event {} ({}) needs a GPT model, found a sequential model",
                  path, event.key, event.name);
  }
}

int64_t model_bytes(nn::Model& model) {
  int64_t bytes = 0;
  for (const auto& [name, tensor] : model.state_dict()) bytes += static_cast<int64_t>(tensor.nbytes());
  return bytes;
}

std::string model_digest(nn::Model& model) {
  return sha256_hex(serialize_safetensors(model.state_dict(), {{"config", model.config.dump()}}));
}

PreparedModel prepare_model(const Event& event, const Recipe& recipe, const RecipeSettings& settings,
                            const FashionMnist* data, const std::function<void(const std::string&)>& progress) {
  PreparedModel p;
  p.own_model = !settings.model_file.empty();
  p.model_path = p.own_model ? settings.model_file : reference_model_path(event);
  p.model = models::load_model(p.model_path);
  check_model_fits_event(p.model, event, p.model_path);
  p.input_sha256 = sha256_file(p.model_path);
  p.model.module->set_training(false);

  for (const Technique& t : techniques()) {
    if (!t.requested(settings)) continue;
    if (std::string why = t.not_applicable(event); !why.empty()) {
      p.skipped.push_back(t.name + ": " + why);
      continue;
    }
    if (std::string why = t.not_available(); !why.empty()) {
      TINYOPT_CHECK(recipe.skip_unavailable, "recipe {} asks for {} on event {}, which this build cannot do: {}",
                    recipe.name, t.name, event.key, why);
      p.skipped.push_back(t.name + ": " + why);
      continue;
    }
    TechniqueContext context{event, settings, data, p.model, p.kv_cache, progress};
    t.apply(context);
    p.applied.push_back(t.name);
    p.retrained = p.retrained || t.retrains(settings);
  }
  p.model.module->set_training(false);
  p.model_sha256 = model_digest(p.model);
  return p;
}

}  // namespace tinyopt::olympics
