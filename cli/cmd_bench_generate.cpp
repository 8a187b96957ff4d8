// `tinyopt bench generate [--model FILE]`: tokens/s of greedy generation with
// the KV cache against the full-recompute baseline, for 64, 128, 256 and 512
// total positions (a 1-token prompt plus positions-1 new tokens), the speedup
// and the cache's memory. The two contenders run interleaved in one process
// (Timer::compare: A B, B A, ...), so the speedup is the median of per-pair
// ratios and machine drift cancels. Lengths beyond the model's block_size use
// a randomly initialised model of the same widths with a block_size that fits
// (the speed of a forward pass does not depend on the weights' values).
// Without --model, a random model of the reference GPT's shape is used.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <sstream>

#include "cli/bench_lists.h"
#include "cli/commands.h"
#include "cli/measured.h"
#include "cli/numeric_range.h"
#include "cli/progress.h"
#include "core/threads.h"
#include "models/model_file.h"
#include "nn/generate.h"
#include "nn/model.h"
#include "nn/reference_models.h"
#include "profiler/timer.h"

namespace tinyopt::cli {

namespace {

struct Options {
  std::string model;
  std::string lengths = "64,128,256,512";
  double seconds = 8.0;  // budget per length (both contenders together)
  int runs = 5;          // pairs wanted per length (the budget may cut it short)
  bool json = false;
};
Options g_options;
constexpr int kMinPairs = 5;  // fewer interleaved pairs than this give no trustworthy speedup

std::vector<int64_t> parse_lengths(const std::string& text) {
  return parse_int_list(text, "--lengths", 2, 4096, "number of positions", "64,128,256,512");
}

}  // namespace

void run_bench_generate() {
  const Options& o = g_options;
  const std::vector<int64_t> lengths = parse_lengths(o.lengths);
  nn::Model loaded;
  std::string source;
  if (!o.model.empty()) {
    loaded = models::load_model(o.model);
    TINYOPT_CHECK(loaded.kind == nn::ModelKind::gpt, "{}: bench generate needs a GPT model file", o.model);
    source = o.model;
  } else {
    nn::Rng rng(1);
    loaded = nn::build_model(nn::gpt_config(96), &rng);
    source = "random reference-shape GPT";
  }
  const nn::GPTConfig base = loaded.gpt().config();
  // One random model with a long enough context serves every length beyond the loaded one's.
  std::unique_ptr<nn::GPT> long_model;
  const int64_t longest = *std::max_element(lengths.begin(), lengths.end());
  if (longest > base.block_size) {
    nn::GPTConfig c = base;
    c.block_size = longest;
    nn::Rng rng(2);
    long_model = std::make_unique<nn::GPT>(c, true, &rng);
  }

  TimerOptions topt;
  topt.warmup = 1;
  topt.min_runs = o.runs;
  topt.max_runs = o.runs;
  topt.min_seconds = 0;
  topt.max_seconds = o.seconds;
  const Timer timer(topt);

  nlohmann::json rows = nlohmann::json::array();
  MeasuredUnder measured;
  if (!o.json)
    std::printf("greedy generation, batch 1, 1-token prompt, %d threads; cached vs full recompute timed interleaved\n"
                "(speedup: median of per-pair ratios; noise: their IQR / median)\n"
                "%9s %10s %14s %14s %9s %7s %6s %12s %-9s  %s\n",
                num_threads(), "positions", "new tokens", "uncached tok/s", "cached tok/s", "speedup", "noise", "pairs",
                "cache KiB", "measured", "model");
  for (size_t li = 0; li < lengths.size(); ++li) {
    const int64_t positions = lengths[li];
    progress("bench generate", "{} positions ({} of {}): cached and uncached generation, interleaved, up to {} pairs "
             "or {:.0f} s", positions, li + 1, lengths.size(), o.runs, o.seconds);
    nn::GPT& model = positions <= base.block_size ? loaded.gpt() : *long_model;
    const std::string which = positions <= base.block_size
                                  ? source
                                  : fmt::format("random, same widths, block_size {}", model.config().block_size);
    const std::vector<std::vector<int32_t>> prompt = {{0}};
    nn::GenerateOptions g;
    g.max_new_tokens = positions - 1;
    nn::GenerateResult cached, uncached;
    const Comparison cmp = timer.compare(
        [&] {
          g.use_cache = false;
          uncached = nn::generate(model, prompt, g);
        },
        [&] {
          g.use_cache = true;
          cached = nn::generate(model, prompt, g);
        });
    const double n = double(g.max_new_tokens);
    const double tps_uncached = n / cmp.a.p50, tps_cached = n / cmp.b.p50;
    const bool identical = cached.tokens == uncached.tokens;
    measured.add(cmp.ratio);
    // A speedup from a handful of pairs is an anecdote: say so.
    std::string few;
    if (cmp.ratio.runs < kMinPairs)
      few = fmt::format("only {} pair(s), {}: a speedup from fewer than {} pairs is not reliable", cmp.ratio.runs,
                        cmp.ratio.runs < o.runs ? "all the --seconds budget allowed" : "as --runs asked", kMinPairs);
    if (o.json) {
      rows.push_back({{"positions", positions},
                      {"prompt_tokens", 1},
                      {"new_tokens", g.max_new_tokens},
                      {"uncached_tokens_per_second", tps_uncached},
                      {"cached_tokens_per_second", tps_cached},
                      {"uncached_seconds_p50", cmp.a.p50},
                      {"cached_seconds_p50", cmp.b.p50},
                      {"speedup", cmp.speedup()},
                      {"speedup_iqr", cmp.ratio.iqr},
                      {"pairs", cmp.ratio.runs},
                      {"cache_bytes", cached.cache_bytes},
                      {"identical_tokens", identical},
                      {"model", which},
                      {"conditions", cmp.ratio.conditions.to_json()},
                      {"warning", few.empty() ? cmp.ratio.warning : few}});
    } else {
      std::printf("%9lld %10lld %14.1f %14.1f %8.2fx %6.1f%% %6d %12.1f %-9s  %s%s\n", (long long)positions,
                  (long long)g.max_new_tokens, tps_uncached, tps_cached, cmp.speedup(), 100 * cmp.ratio.spread(),
                  cmp.ratio.runs, cached.cache_bytes / 1024.0, verdict_name(cmp.ratio.conditions.verdict),
                  which.c_str(), identical ? "" : "  [tokens differ!]");
      if (!few.empty()) std::printf("          warning: %s\n", few.c_str());
      if (!cmp.ratio.warning.empty()) std::printf("          note: %s\n", cmp.ratio.warning.c_str());
    }
  }
  if (!o.json) std::printf("%s\n", measured.line().c_str());
  if (o.json)
    print_json({{"bench", "generate"},
                {"conditions", measured.worst().to_json()},
                {"timing", "interleaved (Timer::compare), median of per-pair ratios"},
                {"batch", 1},
                {"sampling", "greedy"},
                {"threads", num_threads()},
                {"machine", machine_json()},
                {"rows", rows}});
}

CLI::App* add_bench_generate_command(CLI::App& bench) {
  CLI::App* sub = bench.add_subcommand("generate", "Generation tokens/s with and without the KV cache, side by side");
  Options& o = g_options;
  sub->add_option("-m,--model", o.model, "GPT model file (default: a random model of the reference shape)");
  sub->add_option("--lengths", o.lengths, "Total positions (prompt + new tokens), comma list")->capture_default_str();
  sub->add_option("--seconds", o.seconds, "Time budget per length")->capture_default_str()->check(finite_range(0.1, 600.0));
  sub->add_option("--runs", o.runs, "Interleaved pairs per length")->capture_default_str()->check(CLI::Range(1, 1000));
  sub->add_flag("--json", o.json, "Print JSON");
  return sub;
}

}  // namespace tinyopt::cli
