// The technique layer on the real MLP: pruning reaches the declared sparsity
// and verify() tells a pruned model from a dense one; INT8 either applies and
// verifies (when quant/ is in the build) or fails the recipe with a message
// naming it (and is skipped, said so, under skip_unavailable); techniques that
// do not apply to an event are skipped with the reason.
#include <gtest/gtest.h>

#include "core/error.h"
#include "models/model_file.h"
#include "olympics/sha256.h"
#include "olympics/submission.h"
#include "olympics/technique.h"

using namespace tinyopt;
using namespace tinyopt::olympics;

namespace {
const FashionMnist& data() {
  static const FashionMnist d = load_fashion_mnist();
  return d;
}
bool has(const std::vector<std::string>& v, const std::string& prefix) {
  for (const auto& s : v)
    if (s.rfind(prefix, 0) == 0) return true;
  return false;
}
}  // namespace

TEST(OlympicsTechniques, PruneReachesDeclaredSparsityAndVerifyTellsDenseFromPruned) {
  const Event& mlp = find_event("mlp");
  Recipe r = load_recipe("prune");
  const RecipeSettings s = r.for_event(mlp);
  PreparedModel p = prepare_model(mlp, r, s, &data(), {});
  ASSERT_EQ(p.applied, std::vector<std::string>{"prune"});
  EXPECT_FALSE(p.retrained);
  EXPECT_EQ(verify_prune({p.model, s}), "");
  nn::Model dense = models::load_model(reference_model_path(mlp));
  EXPECT_NE(verify_prune({dense, s}), "");
  EXPECT_LT(model_bytes(p.model), model_bytes(dense));  // sparse storage is smaller
  // The entry names what was measured (the pruned model) and what it was made from (the file).
  EXPECT_EQ(p.input_sha256, sha256_file(reference_model_path(mlp)));
  EXPECT_EQ(p.model_sha256, model_digest(p.model));
  EXPECT_NE(p.model_sha256, model_digest(dense));
  EXPECT_EQ(model_digest(dense), model_digest(dense));
}

TEST(OlympicsTechniques, EachTechniqueDeclaresEverythingTheDriverAsksOfIt) {
  const Event& mlp = find_event("mlp");
  const Event& gpt = find_event("gpt");
  RecipeSettings full = load_recipe("all").for_event(mlp);
  full.kv_cache = true;
  std::vector<std::string> names;
  for (const Technique& t : techniques()) {
    names.push_back(t.name);
    ASSERT_TRUE(t.requested && t.toggle && t.not_applicable && t.not_available && t.apply && t.verify &&
                t.speed_allowance && t.retrains)
        << t.name;
    // The toggle sets exactly this technique's part of the settings, and clears it.
    RecipeSettings step;
    EXPECT_FALSE(t.requested(step)) << t.name;
    t.toggle(step, &full);
    EXPECT_TRUE(t.requested(step)) << t.name;
    for (const Technique& other : techniques()) {
      if (other.name != t.name) {
        EXPECT_FALSE(other.requested(step)) << t.name << " set " << other.name;
      }
    }
    EXPECT_GE(t.speed_allowance(step), 1.0) << t.name;
    t.toggle(step, nullptr);
    EXPECT_FALSE(t.requested(step)) << t.name;
    // Each applies to one kind of event here, and says why not to the other.
    EXPECT_NE(t.not_applicable(mlp).empty(), t.not_applicable(gpt).empty()) << t.name;
  }
  EXPECT_EQ(names, (std::vector<std::string>{"prune", "int8", "kv_cache"}));  // prune before int8
  // Allowances the validation multiplies: INT8's 4 lanes, the work pruning removes.
  RecipeSettings pruned;
  pruned.prune = PruneSettings{};
  pruned.prune->sparsity = 0.75;
  EXPECT_DOUBLE_EQ(techniques()[0].speed_allowance(pruned), 4.0);
  EXPECT_DOUBLE_EQ(techniques()[1].speed_allowance(full), 4.0);
}

TEST(OlympicsTechniques, KvCacheAndStructuredPruningAreVerifiedFromWhatTheRunSaw) {
  nn::Model dense = models::load_model(reference_model_path(find_event("mlp")));
  RecipeSettings s;
  s.kv_cache = true;
  EXPECT_NE(verify_kv_cache({dense, s, /*kv_cache_bytes=*/0}), "");
  EXPECT_EQ(verify_kv_cache({dense, s, /*kv_cache_bytes=*/4096}), "");
  s.prune = PruneSettings{};
  s.prune->structured = true;
  s.prune->sparsity = 0.5;
  EXPECT_NE(verify_prune({dense, s, 0, /*size_reduction=*/1.0}), "");
  EXPECT_EQ(verify_prune({dense, s, 0, /*size_reduction=*/1.6}), "");
}

TEST(OlympicsTechniques, Int8AppliesAndVerifiesOrFailsClearly) {
  const Event& cnn = find_event("cnn");
  Recipe r = load_recipe("int8");
  const RecipeSettings s = r.for_event(cnn);
  if (!int8_not_available().empty()) {
    try {
      prepare_model(cnn, r, s, &data(), {});
      FAIL() << "a recipe asking for an unavailable technique must fail";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("int8"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("cannot do"), std::string::npos) << e.what();
    }
    r.skip_unavailable = true;
    const PreparedModel p = prepare_model(cnn, r, s, &data(), {});
    EXPECT_TRUE(p.applied.empty());
    EXPECT_TRUE(has(p.skipped, "int8: "));
    return;
  }
  PreparedModel p = prepare_model(cnn, r, s, &data(), {});
  ASSERT_EQ(p.applied, std::vector<std::string>{"int8"});
  EXPECT_EQ(verify_int8({p.model, s}), "");
  nn::Model dense = models::load_model(reference_model_path(cnn));
  EXPECT_NE(verify_int8({dense, s}), "");
  EXPECT_LT(model_bytes(p.model), model_bytes(dense));
}

TEST(OlympicsTechniques, NotApplicableTechniquesAreSkippedWithTheReason) {
  const Recipe all = load_recipe("all");
  const Event& mlp = find_event("mlp");
  const PreparedModel p = prepare_model(mlp, all, all.for_event(mlp), &data(), {});
  EXPECT_FALSE(p.kv_cache);
  EXPECT_TRUE(has(p.skipped, "kv_cache: not applicable"));
  const Event& gpt = find_event("gpt");
  const PreparedModel g = prepare_model(gpt, all, all.for_event(gpt), nullptr, {});
  EXPECT_TRUE(g.kv_cache);
  EXPECT_TRUE(has(g.skipped, "prune: not applicable"));
  EXPECT_TRUE(has(g.skipped, "int8: not applicable"));
  EXPECT_EQ(g.applied, std::vector<std::string>{"kv_cache"});
}

TEST(OlympicsTechniques, AModelThatDoesNotFitTheEventIsRefused) {
  const Event& gpt = find_event("gpt");
  nn::Model mlp = models::load_model(reference_model_path(find_event("mlp")));
  EXPECT_THROW(check_model_fits_event(mlp, gpt, "mlp.safetensors"), Error);
  nn::Model g = models::load_model(reference_model_path(gpt));
  EXPECT_THROW(check_model_fits_event(g, find_event("cnn"), "gpt.safetensors"), Error);
}

TEST(OlympicsTechniques, QualityIsSharedOnlyBetweenIdenticalModels) {
  // Quality is computed once per distinct model: two pruning settings are two models.
  const Event& mlp = find_event("mlp");
  Recipe r = load_recipe("prune");
  RecipeSettings half = r.for_event(mlp), most = half;
  half.prune->sparsity = 0.5;
  const PreparedModel a = prepare_model(mlp, r, half, &data(), {});
  const PreparedModel b = prepare_model(mlp, r, most, &data(), {});
  const PreparedModel c = prepare_model(mlp, r, most, &data(), {});
  EXPECT_NE(quality_key(a), quality_key(b));
  EXPECT_EQ(quality_key(b), quality_key(c));
  const Recipe base = load_recipe("baseline");
  EXPECT_NE(quality_key(prepare_model(mlp, base, base.for_event(mlp), &data(), {})), quality_key(b));
}
