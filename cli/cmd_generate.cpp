// `tinyopt generate --model FILE --prompt TEXT --tokens N`: text from a GPT
// model file, with the KV cache (default) or without it (--no-cache, the
// full-recompute baseline), greedy (default) or sampled with a temperature
// and top-k and a seed. Prints the prompt and its continuation and tokens/s;
// --json adds the token ids.
#include <cstdio>

#include "cli/commands.h"
#include "cli/measured.h"
#include "cli/numeric_range.h"
#include "core/threads.h"
#include "models/model_file.h"
#include "nn/char_tokenizer.h"
#include "nn/generate.h"
#include "nn/model.h"

namespace tinyopt::cli {

namespace {

struct Options {
  std::string model, prompt;
  int64_t tokens = 0;
  bool no_cache = false, greedy = false, json = false;
  double temperature = 1.0;
  int64_t top_k = 0;
  uint64_t seed = 0;
  bool sampled = false;  // --temperature or --top-k given
};

void run_generate(const Options& o) {
  TINYOPT_CHECK(!o.prompt.empty(), "--prompt is empty; give at least one character");
  nn::Model model = models::load_model(o.model);
  TINYOPT_CHECK(model.kind == nn::ModelKind::gpt, "{}: generate needs a GPT model file, this one is a {}", o.model,
                model.config.value("arch", std::string("sequential")));
  nn::CharTokenizer tokenizer(model.vocab);
  const std::vector<int32_t> prompt = tokenizer.encode(o.prompt);  // throws naming a character outside the vocab
  nn::GPT& gpt = model.gpt();
  const int64_t block = gpt.config().block_size;
  TINYOPT_CHECK(static_cast<int64_t>(prompt.size()) <= block,
                "--prompt has {} characters; the model's context (block_size) is {}", prompt.size(), block);
  TINYOPT_CHECK(o.tokens <= block - static_cast<int64_t>(prompt.size()),  // no overflow for any --tokens
                "--tokens {}: prompt ({} characters) + {} new tokens exceeds the context (block_size {}); at most {} "
                "new tokens fit",
                o.tokens, prompt.size(), o.tokens, block, block - static_cast<int64_t>(prompt.size()));
  nn::GenerateOptions g;
  g.max_new_tokens = o.tokens;
  g.use_cache = !o.no_cache;
  g.greedy = !o.sampled;
  g.temperature = o.temperature;
  g.top_k = o.top_k;
  g.seed = o.seed;
  nn::GenerateResult r;
  const MeasurementConditions measured = conditions_while([&] { r = nn::generate(gpt, {prompt}, g); });
  const std::string text = tokenizer.decode(r.tokens[0]);
  const std::string mode = o.sampled ? fmt::format("temperature {} top-k {} seed {}", o.temperature, o.top_k, o.seed)
                                     : std::string("greedy");
  if (o.json) {
    print_json({{"model", o.model},
                {"prompt", o.prompt},
                {"text", text},
                {"prompt_ids", prompt},
                {"token_ids", r.tokens[0]},
                {"tokens", r.new_tokens()},
                {"cache", g.use_cache},
                {"cache_bytes", r.cache_bytes},
                {"sampling", mode},
                {"seconds", r.seconds},
                {"tokens_per_second", r.tokens_per_second()},
                {"conditions", measured.to_json()},
                {"threads", num_threads()}});
  } else {
    std::printf("%s%s\n", o.prompt.c_str(), text.c_str());
    std::printf("-- %lld tokens in %.3f s: %.1f tokens/s (%s, %s, %d threads, %s)\n", (long long)r.new_tokens(),
                r.seconds, r.tokens_per_second(), g.use_cache ? "KV cache" : "no cache, full recompute", mode.c_str(),
                num_threads(), verdict_name(measured.verdict));
  }
}

}  // namespace

Command add_generate_command(CLI::App& app) {
  CLI::App* sub = app.add_subcommand("generate", "Generate text from a GPT model file (KV cache by default)");
  static Options o;
  sub->add_option("-m,--model", o.model, "GPT model file (.safetensors)")->required();
  sub->add_option("-p,--prompt", o.prompt, "Text to continue (characters of the model's vocabulary)")->required();
  sub->add_option("-n,--tokens", o.tokens, "New tokens to generate (prompt + tokens <= block_size)")
      ->required()
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 30));
  sub->add_flag("--no-cache", o.no_cache, "Recompute the whole context for every token (the O(N^2) baseline)");
  CLI::Option* greedy = sub->add_flag("--greedy", o.greedy, "Pick the most likely token (the default)");
  CLI::Option* temperature =
      sub->add_option("--temperature", o.temperature, "Sample from softmax(logits / T), T > 0")
          ->excludes(greedy)
          ->check(finite_range(1e-6, 1e6));
  CLI::Option* top_k = sub->add_option("--top-k", o.top_k, "Sample among the K most likely tokens (0 = all)")
                           ->excludes(greedy)
                           ->check(CLI::Range(int64_t{0}, int64_t{1} << 30));
  sub->add_option("--seed", o.seed, "Seed of the sampler")->capture_default_str();
  sub->add_flag("--json", o.json, "Print JSON (with the token ids)");
  return {sub, [temperature, top_k] {
            o.sampled = temperature->count() > 0 || top_k->count() > 0;
            run_generate(o);
          }};
}

}  // namespace tinyopt::cli
