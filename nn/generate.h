// Autoregressive generation from a GPT: greedy, temperature and top-k
// sampling with a seed, for a batch of equal-length prompts, with the KV
// cache (one prefill pass over the prompt, then one token per step: each step
// costs O(context) attention) or without it (the baseline: the whole context
// is run through the model again for every new token, O(context^2) per step).
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "core/tensor.h"
#include "nn/gpt.h"

namespace tinyopt::nn {

struct GenerateOptions {
  int64_t max_new_tokens = 64;
  bool use_cache = true;
  bool greedy = true;          // argmax; otherwise sample from softmax(logits / temperature)
  double temperature = 1.0;    // > 0 (sampling only)
  int64_t top_k = 0;           // 0 = whole vocabulary (sampling only)
  uint64_t seed = 0;
  // Called with the logits [B, vocab] that chose the step's tokens (tests
  // compare cached and uncached logits with it). Optional.
  std::function<void(int64_t step, const Tensor& logits)> on_logits;
};

struct GenerateResult {
  std::vector<std::vector<int32_t>> tokens;  // per batch row: the new tokens only
  double seconds = 0;                        // wall time of the whole generation (prefill included)
  size_t cache_bytes = 0;                    // the KV cache's memory (0 without cache)
  int64_t new_tokens() const { return tokens.empty() ? 0 : static_cast<int64_t>(tokens[0].size() * tokens.size()); }
  double tokens_per_second() const { return seconds > 0 ? double(new_tokens()) / seconds : 0.0; }
};

// prompts: one row per batch entry, all the same non-zero length; prompt
// length + max_new_tokens must not exceed the model's block_size. Throws
// tinyopt::Error for bad input (empty/unequal prompts, ids outside the
// vocabulary, non-positive counts/temperature, negative top_k, context overflow).
GenerateResult generate(GPT& model, const std::vector<std::vector<int32_t>>& prompts, const GenerateOptions& options);

}  // namespace tinyopt::nn
