// The real data every scenario and the validation read, loaded once per run:
// Fashion-MNIST (test split for quality and queries, calibration split for
// INT8, training split for training steps) and the held-out fortunes text
// for the GPT (prompts, held-out loss).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/tensor.h"
#include "data/fashion_mnist.h"
#include "olympics/event.h"

namespace tinyopt::olympics {

// Sizes of the scenarios' queries (documented in docs/OLYMPICS.md).
struct QuerySizes {
  int64_t single_stream_images = 256;  // distinct test images cycled through by batch-1 queries
  int64_t train_batch = 64;            // one training step (the reference models trained at 64)
  int64_t gpt_prompt = 8;              // GPT SingleStream: prompt characters (held-out text)...
  int64_t gpt_new_tokens = 8;          // ...and greedy tokens generated per query
  int64_t decode_positions = 64;       // GPT decode tokens/s: 1-token prompt + 63 new tokens
  int64_t quality_windows = 128;       // GPT held-out loss: evenly spaced 256-char windows (of 1026)
  int64_t agreement_prompts = 8;       // GPT agreement: held-out prompts...
  int64_t agreement_prompt = 32;       // ...of 32 characters...
  int64_t agreement_tokens = 32;       // ...each continued by 32 greedy tokens
};

struct EventInputs {
  const Event* event = nullptr;
  std::shared_ptr<const FashionMnist> images;  // classifier events
  Tensor heldout_tokens;                       // GPT: i32 [n], in the reference model's vocabulary
  QuerySizes sizes;

  // GPT: `count` prompts of `length` held-out tokens, evenly spaced through the text.
  std::vector<std::vector<int32_t>> prompts(int64_t count, int64_t length) const;
};

}  // namespace tinyopt::olympics
