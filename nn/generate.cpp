#include "nn/generate.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>
#include <random>

#include "core/error.h"
#include "nn/kv_cache.h"

namespace tinyopt::nn {

namespace {

// Picks one token from a row of logits.
int32_t pick(const float* logits, int64_t vocab, const GenerateOptions& o, std::mt19937_64& rng,
             std::vector<std::pair<float, int32_t>>& scratch) {
  if (o.greedy) return static_cast<int32_t>(std::max_element(logits, logits + vocab) - logits);
  scratch.clear();
  for (int64_t i = 0; i < vocab; ++i) scratch.push_back({logits[i], static_cast<int32_t>(i)});
  int64_t keep = vocab;
  if (o.top_k > 0 && o.top_k < vocab) {
    keep = o.top_k;
    // Largest first; ties broken by token id so the choice is deterministic.
    std::partial_sort(scratch.begin(), scratch.begin() + keep, scratch.end(),
                      [](const auto& a, const auto& b) { return a.first > b.first || (a.first == b.first && a.second < b.second); });
  }
  double m = -INFINITY;
  for (int64_t i = 0; i < keep; ++i) m = std::max(m, double(scratch[i].first));
  std::vector<double> w(static_cast<size_t>(keep));
  double sum = 0;
  for (int64_t i = 0; i < keep; ++i) sum += w[i] = std::exp((double(scratch[i].first) - m) / o.temperature);
  double r = std::uniform_real_distribution<double>(0.0, sum)(rng);
  for (int64_t i = 0; i < keep; ++i) {
    r -= w[i];
    if (r < 0) return scratch[i].second;
  }
  return scratch[keep - 1].second;
}

}  // namespace

GenerateResult generate(GPT& model, const std::vector<std::vector<int32_t>>& prompts, const GenerateOptions& o) {
  const GPTConfig& cfg = model.config();
  TINYOPT_CHECK(!prompts.empty(), "generate: no prompts given");
  const int64_t b = static_cast<int64_t>(prompts.size());
  const int64_t t0 = static_cast<int64_t>(prompts[0].size());
  TINYOPT_CHECK(t0 >= 1, "generate: the prompt is empty; give at least one token");
  for (const auto& p : prompts)
    TINYOPT_CHECK(static_cast<int64_t>(p.size()) == t0, "generate: batched prompts must have equal length ({} vs {})",
                  p.size(), t0);
  for (const auto& p : prompts)
    for (int32_t id : p)
      TINYOPT_CHECK(id >= 0 && id < cfg.vocab_size, "generate: token id {} outside the vocabulary (0..{})", id,
                    cfg.vocab_size - 1);
  TINYOPT_CHECK(o.max_new_tokens >= 1, "generate: the number of new tokens must be positive, got {}", o.max_new_tokens);
  TINYOPT_CHECK(t0 <= cfg.block_size, "generate: the prompt has {} tokens; the model's context (block_size) is {}", t0,
                cfg.block_size);
  TINYOPT_CHECK(t0 + o.max_new_tokens <= cfg.block_size,
                "generate: prompt ({} tokens) + {} new tokens = {} exceeds the context (block_size {}); ask for at "
                "most {} new tokens",
                t0, o.max_new_tokens, t0 + o.max_new_tokens, cfg.block_size, cfg.block_size - t0);
  if (!o.greedy) {
    TINYOPT_CHECK(o.temperature > 0 && std::isfinite(o.temperature), "generate: temperature must be positive, got {}",
                  o.temperature);
    TINYOPT_CHECK(o.top_k >= 0, "generate: top_k must be >= 0 (0 = whole vocabulary), got {}", o.top_k);
  }
  const bool was_training = model.training();
  model.set_training(false);

  const int64_t vocab = cfg.vocab_size;
  std::mt19937_64 rng(o.seed);
  std::vector<std::pair<float, int32_t>> scratch;
  GenerateResult result;
  result.tokens.assign(static_cast<size_t>(b), {});
  std::vector<std::vector<int32_t>> context = prompts;  // uncached path: the growing sequences

  const auto start = std::chrono::steady_clock::now();
  std::optional<KVCache> cache;
  if (o.use_cache) {
    cache.emplace(KVCache::for_model(model, b, t0 + o.max_new_tokens));
    result.cache_bytes = cache->bytes();
  }
  Tensor logits_last = Tensor::empty({b, vocab}, DType::f32);
  Tensor ids;
  for (int64_t step = 0; step < o.max_new_tokens; ++step) {
    // The ids this step feeds: the prompt (prefill or uncached), the whole context (uncached), or the last token.
    const int64_t t = o.use_cache ? (step == 0 ? t0 : 1) : t0 + step;
    ids = Tensor::empty({b, t}, DType::i32);
    for (int64_t r = 0; r < b; ++r) {
      const auto& src = o.use_cache && step > 0 ? result.tokens[r] : context[r];
      std::copy(src.end() - t, src.end(), ids.data<int32_t>() + r * t);
    }
    Tensor logits = (o.use_cache ? model.forward_cached(ids, *cache) : model.forward(ids)).contiguous();
    for (int64_t r = 0; r < b; ++r)
      std::copy_n(logits.data<float>() + (r * t + t - 1) * vocab, vocab, logits_last.data<float>() + r * vocab);
    if (o.on_logits) o.on_logits(step, logits_last);
    for (int64_t r = 0; r < b; ++r) {
      const int32_t next = pick(logits_last.data<float>() + r * vocab, vocab, o, rng, scratch);
      result.tokens[r].push_back(next);
      if (!o.use_cache) context[r].push_back(next);
    }
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  model.set_training(was_training);
  return result;
}

}  // namespace tinyopt::nn
