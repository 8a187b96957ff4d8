#include "olympics/olympics_run.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "core/dispatcher.h"
#include "core/error.h"
#include "core/threads.h"
#include "data/text_corpus.h"
#include "models/model_file.h"
#include "nn/char_tokenizer.h"
#include "olympics/technique.h"
#include "profiler/memory_profiler.h"
#include "profiler/timer.h"

namespace tinyopt::olympics {

namespace {

std::string default_team() {
  if (const char* user = std::getenv("USER"); user && *user) return user;
  return "local";
}

// Largest |a - b| / max(1, |b|) over two logit tensors.
double max_relative_difference(const Tensor& a, const Tensor& b) {
  double worst = 0;
  for (int64_t i = 0; i < a.numel(); ++i) {
    const double x = a.data<float>()[i], y = b.data<float>()[i];
    worst = std::max(worst, std::abs(x - y) / std::max(1.0, std::abs(y)));
  }
  return worst;
}

// Quality does not depend on the kernels: shows it by running the reference
// model on a few real inputs under the baseline's backend and under auto.
std::string backend_check(nn::Model& model, const EventInputs& in, const std::string& baseline_backend) {
  Tensor x;
  if (in.event->is_classifier()) {
    const int64_t n = 64;
    x = Tensor::empty(model.batch_shape(n), DType::f32);
    std::memcpy(x.raw_data(), in.images->test_images.raw_data(), size_t(n) * 784 * sizeof(float));
  } else {
    const auto p = in.prompts(1, 64);
    x = Tensor::empty({1, 64}, DType::i32);
    std::copy(p[0].begin(), p[0].end(), x.data<int32_t>());
  }
  const OptimizedBackend& backend = OptimizedBackend::instance();
  const Tensor a = [&] {
    const ScopedBackendChoice kernels(backend.parse_choice(baseline_backend));
    return model.forward(x);
  }();
  const Tensor b = [&] {
    const ScopedBackendChoice automatic(BackendChoice{});
    return model.forward(x);
  }();
  const double diff = max_relative_difference(a, b);
  return fmt::format("{} and auto give logits within {:.1e} (relative) on {} real {}", baseline_backend, diff,
                     in.event->is_classifier() ? x.size(0) : x.size(1),
                     in.event->is_classifier() ? "test images" : "held-out tokens");
}

std::unique_ptr<Contender> make_contender(const std::string& label, const Recipe& recipe, RecipeSettings settings,
                                          const Event& event, const EventInputs& in,
                                          const std::function<void(const std::string&)>& say) {
  auto c = std::make_unique<Contender>();
  c->label = label;
  c->recipe = recipe;
  c->settings = std::move(settings);
  c->kernels = OptimizedBackend::instance().parse_choice(c->settings.backend);
  // Techniques that prepare the model (calibration, pruning) run with the fast kernels.
  const ScopedBackendChoice automatic(BackendChoice{});
  c->prepared = prepare_model(event, c->recipe, c->settings, in.images.get(), say);
  return c;
}

using Say = std::function<void(const std::string&)>;

// The baseline first (every speedup is measured against it), then the recipes asked for.
std::vector<const Recipe*> recipes_for_event(const std::vector<Recipe>& recipes, const Recipe& baseline,
                                             const Say& say) {
  std::vector<const Recipe*> wanted;
  const auto given = std::find_if(recipes.begin(), recipes.end(), [](const Recipe& r) { return r.name == "baseline"; });
  if (given == recipes.end()) say("  (adding recipe baseline: every speedup is measured against it)");
  wanted.push_back(given != recipes.end() ? &*given : &baseline);
  for (const Recipe& r : recipes)
    if (r.name != "baseline") wanted.push_back(&r);
  return wanted;
}

// The reference model (FP32, as the event defines it) and its quality, once;
// the GPT event's held-out tokens come from its vocabulary.
void measure_reference(EventOutcome& eo, EventInputs& in, const Recipe& baseline, const Say& say) {
  const Event& event = *eo.event;
  nn::Model reference = models::load_model(reference_model_path(event));
  check_model_fits_event(reference, event, reference_model_path(event));
  if (!event.is_classifier()) {
    const TextCorpus corpus = load_text_corpus();
    const std::vector<int32_t> ids = nn::CharTokenizer(reference.vocab).encode(corpus.heldout_text);
    in.heldout_tokens = Tensor::empty({int64_t(ids.size())}, DType::i32);
    std::copy(ids.begin(), ids.end(), in.heldout_tokens.data<int32_t>());
  }
  say(fmt::format("  reference quality ({}), FP32, computed once: quality does not depend on the backend",
                  event.quality_metric));
  const ScopedBackendChoice automatic(BackendChoice{});
  const ScopedThreads threads(default_threads());
  if (!event.is_classifier()) eo.reference.continuations = reference_continuations(reference, in);
  eo.reference.fp32 = event.is_classifier() ? classifier_quality(reference, *in.images)
                                            : gpt_quality(reference, false, in, eo.reference.continuations);
  eo.quality_note = fmt::format(
      "quality computed once per distinct model with automatic routing (it does not depend on the backend: {})",
      backend_check(reference, in, baseline.for_event(event).backend));
  say("  " + eo.quality_note);
}

// The ablation: the last recipe's techniques added one at a time, in the
// technique table's order, on top of its kernels. Steps that match a contender
// already there reuse it; the others become contenders that are measured but
// not submitted.
void add_ablation(EventOutcome& eo, const EventInputs& in, const Recipe& baseline, const Say& say) {
  const size_t final_index = eo.contenders.size() - 1;
  eo.ablation.push_back({"baseline", baseline.description.empty() ? "the vanilla run" : "FP32, naive kernels", 0});
  if (final_index == 0) return;
  const Contender& fin = *eo.contenders[final_index];
  RecipeSettings step = fin.settings;
  for (const Technique& t : techniques()) t.toggle(step, nullptr);
  std::vector<std::pair<std::string, RecipeSettings>> steps;
  steps.push_back({"kernels", step});
  for (const Technique& t : techniques()) {
    if (std::find(fin.prepared.applied.begin(), fin.prepared.applied.end(), t.name) == fin.prepared.applied.end())
      continue;
    t.toggle(step, &fin.settings);
    steps.push_back({"+" + t.name, step});
  }
  Recipe step_recipe = fin.recipe;
  step_recipe.skip_unavailable = true;
  for (size_t k = 0; k < steps.size(); ++k) {
    const auto& [label, settings] = steps[k];
    size_t index = eo.contenders.size();
    if (k + 1 == steps.size()) {
      index = final_index;  // the last step is the recipe itself
    } else {
      for (size_t c = 0; c < eo.contenders.size(); ++c)
        if (eo.contenders[c]->settings.to_json() == settings.to_json()) index = c;
      if (index == eo.contenders.size()) {
        say(fmt::format("  preparing ablation step {} {}", fin.recipe.name, label));
        eo.contenders.push_back(
            make_contender(fin.recipe.name + ":" + label, step_recipe, settings, *eo.event, in, say));
        eo.submitted.push_back(false);
      }
    }
    const std::string added =
        label == "kernels"
            ? fmt::format("backend {}, {} thread(s){}", settings.backend,
                          settings.threads == 0 ? "all" : std::to_string(settings.threads),
                          settings.single_stream_threads > 0
                              ? fmt::format(", {} at batch 1", settings.single_stream_threads)
                              : "")
            : label.substr(1);
    eo.ablation.push_back({label, added, index});
  }
}

// Each ablation step's speedup over the step before and over the baseline, from the measured results.
void ablation_speedups(EventOutcome& eo) {
  for (size_t k = 1; k < eo.ablation.size(); ++k) {
    AblationStep& s = eo.ablation[k];
    const BenchmarkResult& prev = eo.results[eo.ablation[k - 1].contender];
    const BenchmarkResult& cur = eo.results[s.contender];
    s.step_speedup = compute_speedup(prev, cur).latency;
    s.cumulative_speedup = compute_speedup(eo.results[0], cur).latency;
    s.step_decode = compute_speedup(prev, cur).decode;
    s.cumulative_decode = compute_speedup(eo.results[0], cur).decode;
  }
  if (!eo.ablation.empty()) eo.ablation[0].cumulative_speedup = eo.ablation[0].step_speedup = 1;
}

// Validates every submitted contender (quality on held-out data, techniques
// present, outputs finite) and enters it on the leaderboard when there is one.
void validate_and_submit(EventOutcome& eo, const EventInputs& in, const std::string& team, Leaderboard* board,
                         const Say& say) {
  QualityCache cache;
  cache.put(quality_key(eo.contenders[0]->prepared), eo.reference.fp32);  // baseline = the reference model
  for (size_t i = 0; i < eo.contenders.size(); ++i) {
    if (!eo.submitted[i]) continue;
    say(fmt::format("  validating {} (quality on held-out data, techniques present, outputs finite)",
                    eo.contenders[i]->label));
    auto sub = std::make_unique<CompetitionSubmission>(*eo.event, team, *eo.contenders[i], eo.results[i],
                                                       compute_speedup(eo.results[0], eo.results[i]), in,
                                                       eo.reference, cache);
    sub->validate();
    eo.entry_ids.push_back(board ? sub->submit_to_leaderboard(*board) : 0);
    eo.submissions.push_back(std::move(sub));
  }
}

EventOutcome run_event(const Event& event, const std::vector<Recipe>& recipes, const OlympicsOptions& o,
                       const std::string& team, Leaderboard* board, std::shared_ptr<const FashionMnist>& images,
                       const Say& say) {
  const double t_event = steady_seconds();
  say(fmt::format("== {} ({}) ==", event.name, event.key));
  EventOutcome eo;
  eo.event = &event;
  EventInputs in;
  in.event = &event;
  in.sizes = o.sizes;
  if (event.is_classifier()) {
    if (!images) images = std::make_shared<const FashionMnist>(load_fashion_mnist());
    in.images = images;
  }
  // The event's own allocations: models, activations, workspaces (the dataset, shared by events, is not counted).
  MemoryProfiler event_memory({Device::cpu()});

  const Recipe builtin_baseline = load_recipe("baseline");
  const std::vector<const Recipe*> wanted = recipes_for_event(recipes, builtin_baseline, say);
  measure_reference(eo, in, *wanted[0], say);
  for (const Recipe* r : wanted) {
    say(fmt::format("  preparing recipe {}", r->name));
    eo.contenders.push_back(make_contender(r->name, *r, r->for_event(event), event, in, say));
    eo.submitted.push_back(true);
    for (const std::string& s : eo.contenders.back()->prepared.skipped) say(fmt::format("    skipped {}", s));
  }
  add_ablation(eo, in, *wanted[0], say);

  std::vector<Contender*> all;
  for (auto& c : eo.contenders) all.push_back(c.get());
  BenchmarkProfiler profiler = o.profiler;
  profiler.progress = o.progress;
  eo.results = benchmark_models(all, in, profiler);
  ablation_speedups(eo);
  validate_and_submit(eo, in, team, board, say);

  const std::vector<MemoryReport>& mem = event_memory.stop();
  eo.event_peak_bytes = mem.empty() ? 0 : mem[0].peak_increase();
  eo.seconds = steady_seconds() - t_event;
  say(fmt::format("  {} done in {:.1f} s", event.name, eo.seconds));
  return eo;
}

}  // namespace

OlympicsOutcome run_olympics(const OlympicsOptions& o) {
  OlympicsOutcome out;
  const double t_start = steady_seconds();
  const Say say = [&](const std::string& line) {
    if (o.progress) o.progress(line);
  };
  out.team = o.team.empty() ? default_team() : o.team;
  TINYOPT_CHECK(out.team.size() <= 64, "--team: at most 64 characters");
  out.machine = machine_description();
  out.db_path = o.db_path.empty() ? Leaderboard::default_path() : o.db_path;

  // Resolve everything the user named before any slow work, so a typo fails at once.
  std::vector<const Event*> events;
  for (const std::string& name : o.events) events.push_back(&find_event(name));
  if (events.empty())
    for (const Event& e : all_events()) events.push_back(&e);
  std::vector<Recipe> recipes;
  for (const std::string& name : o.recipes.empty() ? std::vector<std::string>{"baseline", "all"} : o.recipes)
    recipes.push_back(load_recipe(name));
  for (size_t i = 0; i < recipes.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      TINYOPT_CHECK(recipes[i].name != recipes[j].name, "recipe '{}' given twice", recipes[i].name);
  std::unique_ptr<Leaderboard> board;
  if (o.submit) board = std::make_unique<Leaderboard>(out.db_path);  // a locked or corrupt file fails here, not at the end

  std::shared_ptr<const FashionMnist> images;  // loaded once, shared by the image events
  for (const Event* event : events)
    out.events.push_back(run_event(*event, recipes, o, out.team, board.get(), images, say));
  if (board)
    for (const Event* e : events) out.leaderboard.emplace_back(e->key, board->rankings(e->key));
  out.seconds = steady_seconds() - t_start;
  out.peak_rss_bytes = process_peak_rss_bytes();
  return out;
}

nlohmann::json to_json(const OlympicsOutcome& out) {
  nlohmann::json events = nlohmann::json::array();
  for (const EventOutcome& eo : out.events) {
    nlohmann::json contenders = nlohmann::json::array();
    for (size_t i = 0; i < eo.contenders.size(); ++i) {
      const Contender& c = *eo.contenders[i];
      const BenchmarkResult& r = eo.results[i];
      const Speedup s = compute_speedup(eo.results[0], r);
      contenders.push_back({{"label", c.label},
                            {"recipe", c.recipe.name},
                            {"submitted", bool(eo.submitted[i])},
                            {"settings", c.settings.to_json()},
                            {"applied", c.prepared.applied},
                            {"skipped", c.prepared.skipped},
                            {"single_stream", timing_json(r.single_stream)},
                            {"single_stream_items", r.single_stream_items},
                            {"offline", timing_json(r.offline)},
                            {"offline_batch", r.offline_batch},
                            {"offline_throughput", r.offline_throughput()},
                            {"throughput_unit", r.throughput_unit},
                            {"train_step", timing_json(r.train_step)},
                            {"train_samples_per_s", r.train_step.runs ? nlohmann::json(r.train_samples_per_s()) : nullptr},
                            {"decode", timing_json(r.decode)},
                            {"decode_tokens_per_s", r.decode.runs ? nlohmann::json(r.decode_tokens_per_s()) : nullptr},
                            {"kv_cache_bytes", r.kv_cache_bytes},
                            {"model_bytes", r.model_bytes},
                            {"peak_memory_bytes", r.peak_memory_bytes()},
                            {"working_set_bytes", r.working_set_bytes},
                            {"flops_per_query", r.flops_per_query},
                            {"variants", r.variants},
                            {"speedup_over_baseline", s.to_json()}});
    }
    nlohmann::json subs = nlohmann::json::array();
    for (size_t i = 0; i < eo.submissions.size(); ++i) {
      nlohmann::json e = olympics::to_json(eo.submissions[i]->to_entry());
      e["id"] = eo.entry_ids[i];
      e["quality_shared"] = eo.submissions[i]->validation().quality_shared;
      subs.push_back(e);
    }
    nlohmann::json ablation = nlohmann::json::array();
    for (const AblationStep& s : eo.ablation)
      ablation.push_back({{"step", s.label}, {"adds", s.added}, {"contender", eo.contenders[s.contender]->label},
                          {"step_speedup", s.step_speedup}, {"cumulative_speedup", s.cumulative_speedup},
                          {"step_decode_speedup", s.step_decode}, {"cumulative_decode_speedup", s.cumulative_decode}});
    events.push_back({{"event", eo.event->key},
                      {"name", eo.event->name},
                      {"quality_metric", eo.event->quality_metric},
                      {"reference_quality", eo.reference.fp32.value},
                      {"reference_agreement", eo.reference.fp32.agreement},
                      {"quality_note", eo.quality_note},
                      {"event_peak_bytes", eo.event_peak_bytes},
                      {"seconds", eo.seconds},
                      {"contenders", contenders},
                      {"submissions", subs},
                      {"ablation", ablation}});
  }
  nlohmann::json board = nlohmann::json::object();
  for (const auto& [event, entries] : out.leaderboard) {
    board[event] = nlohmann::json::array();
    for (const LeaderboardEntry& e : entries) board[event].push_back(olympics::to_json(e));
  }
  return {{"olympics", "TinyMLPerf"}, {"team", out.team}, {"machine", out.machine}, {"threads", num_threads()},
          {"db", out.db_path}, {"seconds", out.seconds}, {"peak_rss_bytes", out.peak_rss_bytes},
          {"events", events}, {"leaderboard", board}};
}

}  // namespace tinyopt::olympics
