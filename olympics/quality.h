// Quality on real held-out data, computed by the harness itself (never read
// from a submission): Fashion-MNIST test accuracy over all 10,000 test
// images, or for the GPT the held-out loss (nats/char) over evenly spaced
// 256-character windows of the held-out fortunes, plus greedy agreement with
// the FP32 reference.
//
// Greedy agreement (teacher-forced): the FP32 reference model continues each
// held-out prompt greedily; the candidate then reads prompt + those tokens
// (through its own decode path: the KV cache one token at a time when the
// recipe uses it, otherwise full forwards) and at every position its argmax
// is compared with the reference's next token. 1.0 = it would generate
// exactly the reference's text. Teacher forcing keeps one early difference
// from counting every later position as a miss.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "nn/model.h"
#include "olympics/leaderboard_entry.h"
#include "olympics/event_inputs.h"

namespace tinyopt::olympics {

struct QualityResult {
  std::string metric;              // "test_accuracy" or "heldout_loss"
  double value = 0;                // accuracy (fraction) or loss (nats/char)
  int64_t samples = 0;             // images or tokens scored
  int64_t nonfinite_outputs = 0;   // logits that were NaN or Inf
  double agreement = kNotApplicable;  // GPT: fraction in [0, 1]; NaN (null in JSON) for classifiers
  int64_t agreement_positions = 0;
  double seconds = 0;
};

// Classifier accuracy over every test image (automatic routing, batched).
QualityResult classifier_quality(nn::Model& model, const FashionMnist& data, int64_t batch_size = 500);

// The reference's greedy continuations used for agreement (FP32 model, no cache).
std::vector<std::vector<int32_t>> reference_continuations(nn::Model& reference, const EventInputs& inputs);

// GPT held-out loss and agreement with `reference_tokens` (prompts from inputs.prompts()).
QualityResult gpt_quality(nn::Model& model, bool kv_cache, const EventInputs& inputs,
                          const std::vector<std::vector<int32_t>>& reference_tokens);


}  // namespace tinyopt::olympics
