// CompetitionSubmission::validate() on the real MLP and real test images:
// quality is recomputed (a claimed figure is not taken), a declared technique
// that is not in the model makes the entry invalid, a backend that did not
// run is caught, non-closed conditions move an entry to the open division,
// and an implausible speedup is flagged.
#include <gtest/gtest.h>

#include <memory>

#include "models/model_file.h"
#include "olympics/event.h"
#include "olympics/sha256.h"
#include "olympics/submission.h"

using namespace tinyopt;
using namespace tinyopt::olympics;

namespace {

struct Fixture {
  const Event& event = find_event("mlp");
  EventInputs inputs;
  ReferenceQuality reference;
  QualityCache cache;
  Fixture() {
    inputs.event = &event;
    inputs.images = std::make_shared<const FashionMnist>(load_fashion_mnist());
  }
  std::unique_ptr<Contender> contender(const std::string& recipe) {
    auto c = std::make_unique<Contender>();
    c->recipe = load_recipe(recipe);
    c->label = c->recipe.name;
    c->settings = c->recipe.for_event(event);
    c->prepared.model_path = reference_model_path(event);
    c->prepared.model = models::load_model(c->prepared.model_path);
    c->prepared.input_sha256 = sha256_file(c->prepared.model_path);
    c->prepared.model_sha256 = model_digest(c->prepared.model);
    return c;
  }
  BenchmarkResult result(size_t index) {
    BenchmarkResult r;
    r.run_id = 7;
    r.index = index;
    r.single_stream.runs = 64;
    r.single_stream.p50 = 1e-4;
    r.single_stream_rounds = {1e-4};
    r.offline.p50 = 1e-3;
    r.offline_rounds = {1e-3};
    r.offline_items = 256;
    r.model_bytes = 437000;
    return r;
  }
};

}  // namespace

TEST(OlympicsValidation, RecomputesQualityAndAcceptsAnHonestBaseline) {
  Fixture f;
  auto c = f.contender("baseline");
  f.reference.fp32 = classifier_quality(c->prepared.model, *f.inputs.images);
  EXPECT_NEAR(f.reference.fp32.value, 0.8887, 0.0005);  // the model's documented 88.87% on all 10,000 images
  EXPECT_EQ(f.reference.fp32.samples, 10000);
  BenchmarkResult r = f.result(0);
  r.variants = {{"matmul", "cpu.naive"}};
  CompetitionSubmission sub(f.event, "t", *c, r, compute_speedup(r, r), f.inputs, f.reference, f.cache);
  const ValidationResult& v = sub.validate();
  EXPECT_TRUE(v.valid) << (v.errors.empty() ? "" : v.errors[0]);
  EXPECT_EQ(v.division, "closed");
  EXPECT_NEAR(v.quality_ratio, 1.0, 1e-12);
  EXPECT_NEAR(sub.compute_score().value, 100, 1e-9);
  const LeaderboardEntry e = sub.to_entry();
  EXPECT_EQ(e.model_sha256.size(), 64u);
  EXPECT_EQ(e.event, "mlp");
}

TEST(OlympicsValidation, DeclaredTechniquesMustBePresent) {
  Fixture f;
  auto base = f.contender("baseline");
  f.reference.fp32 = classifier_quality(base->prepared.model, *f.inputs.images);
  // Declares pruning, but the model is the dense reference.
  auto liar = f.contender("prune");
  liar->prepared.applied = {"prune"};
  BenchmarkResult r = f.result(1);
  CompetitionSubmission sub(f.event, "t", *liar, r, compute_speedup(f.result(0), r), f.inputs, f.reference, f.cache);
  const ValidationResult& v = sub.validate();
  EXPECT_FALSE(v.valid);
  ASSERT_FALSE(v.errors.empty());
  EXPECT_NE(v.errors[0].find("sparsity"), std::string::npos) << v.errors[0];
  EXPECT_EQ(sub.compute_score().value, 0);

  // Declares cpu.naive but the profiled query ran cpu.blocked.
  auto wrong_backend = f.contender("baseline");
  BenchmarkResult rb = f.result(2);
  rb.variants = {{"matmul", "cpu.blocked"}};
  CompetitionSubmission sb(f.event, "t", *wrong_backend, rb, compute_speedup(f.result(0), rb), f.inputs, f.reference,
                           f.cache);
  EXPECT_FALSE(sb.validate().valid);
}

TEST(OlympicsValidation, OpenDivisionReasonsAndImplausibleSpeedFlag) {
  Fixture f;
  auto base = f.contender("baseline");
  f.reference.fp32 = classifier_quality(base->prepared.model, *f.inputs.images);
  f.cache.put(quality_key(base->prepared), f.reference.fp32);  // as the harness does for the baseline
  f.reference.fp32.value = 0.95;  // pretend the reference were much better: the MLP falls below 99% of it
  auto c = f.contender("fp32-best");
  c->prepared.own_model = true;
  BenchmarkResult r = f.result(1);
  r.flops_per_query = 1e12;  // a batch-1 forward "doing" a TFLOP in 100 us
  r.threads_single_stream = 1;
  CompetitionSubmission sub(f.event, "t", *c, r, compute_speedup(f.result(0), r), f.inputs, f.reference, f.cache);
  const ValidationResult& v = sub.validate();
  EXPECT_EQ(v.division, "open");
  EXPECT_EQ(v.division_reasons.size(), 2u);  // own model, quality ratio below 0.99
  bool flagged = false;
  for (const auto& flag : v.flags) flagged = flagged || flag.find("implausible") != std::string::npos;
  EXPECT_TRUE(flagged);
  EXPECT_TRUE(v.quality_shared);  // same model file and techniques as the baseline: computed once
  EXPECT_LT(sub.compute_score().quality_factor, 0.6);
}
