#include "olympics/quality.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/dispatcher.h"
#include "core/error.h"
#include "nn/generate.h"
#include "nn/kv_cache.h"
#include "nn/train.h"
#include "profiler/timer.h"

namespace tinyopt::olympics {

namespace {

int64_t label_at(const Tensor& labels, int64_t i) {
  return labels.dtype() == DType::i64 ? labels.data<int64_t>()[i] : labels.data<int32_t>()[i];
}

Tensor test_batch(const nn::Model& model, const Tensor& all, int64_t first, int64_t n) {
  Tensor x = Tensor::empty(model.batch_shape(n), DType::f32);
  std::memcpy(x.raw_data(), static_cast<const char*>(all.raw_data()) + first * 784 * sizeof(float),
              size_t(n) * 784 * sizeof(float));
  return x;
}

int64_t argmax(const float* row, int64_t k) { return std::max_element(row, row + k) - row; }

int64_t count_nonfinite(const Tensor& t) {
  const float* p = t.data<float>();
  int64_t bad = 0;
  for (int64_t i = 0; i < t.numel(); ++i) bad += !std::isfinite(p[i]);
  return bad;
}

}  // namespace

QualityResult classifier_quality(nn::Model& model, const FashionMnist& data, int64_t batch_size) {
  QualityResult q;
  q.metric = "test_accuracy";
  const double t0 = steady_seconds();
  model.module->set_training(false);
  const int64_t n = data.test_images.size(0);
  int64_t correct = 0;
  for (int64_t first = 0; first < n; first += batch_size) {
    const int64_t b = std::min(batch_size, n - first);
    const Tensor logits = model.forward(test_batch(model, data.test_images, first, b)).to(Device::cpu());
    TINYOPT_CHECK(logits.ndim() == 2 && logits.size(0) == b && logits.size(1) == 10,
                  "quality: the model returned {} for {} images; expected [{}, 10]", logits.describe(), b, b);
    q.nonfinite_outputs += count_nonfinite(logits);
    for (int64_t i = 0; i < b; ++i) correct += argmax(logits.data<float>() + i * 10, 10) == label_at(data.test_labels, first + i);
  }
  q.samples = n;
  q.value = double(correct) / double(n);
  q.seconds = steady_seconds() - t0;
  return q;
}

std::vector<std::vector<int32_t>> reference_continuations(nn::Model& reference, const EventInputs& in) {
  nn::GenerateOptions g;
  g.max_new_tokens = in.sizes.agreement_tokens;
  g.use_cache = false;  // the reference path: full recompute
  std::vector<std::vector<int32_t>> out;
  for (const auto& prompt : in.prompts(in.sizes.agreement_prompts, in.sizes.agreement_prompt))
    out.push_back(nn::generate(reference.gpt(), {prompt}, g).tokens[0]);
  return out;
}

QualityResult gpt_quality(nn::Model& model, bool kv_cache, const EventInputs& in,
                          const std::vector<std::vector<int32_t>>& reference_tokens) {
  QualityResult q;
  q.metric = "heldout_loss";
  const double t0 = steady_seconds();
  nn::GPT& gpt = model.gpt();
  gpt.set_training(false);
  const nn::EvalResult loss = nn::evaluate_gpt(model, in.heldout_tokens, 0, in.sizes.quality_windows);
  q.value = loss.loss;
  q.samples = loss.samples;
  if (!std::isfinite(loss.loss)) q.nonfinite_outputs += 1;

  const auto prompts = in.prompts(in.sizes.agreement_prompts, in.sizes.agreement_prompt);
  TINYOPT_CHECK(prompts.size() == reference_tokens.size(), "quality: {} prompts but {} reference continuations",
                prompts.size(), reference_tokens.size());
  const int64_t vocab = gpt.config().vocab_size;
  int64_t agree = 0, positions = 0;
  for (size_t p = 0; p < prompts.size(); ++p) {
    const std::vector<int32_t>& ref = reference_tokens[p];
    std::vector<int32_t> seq = prompts[p];
    seq.insert(seq.end(), ref.begin(), ref.end() - 1);  // the last reference token is only predicted
    const int64_t prompt_len = int64_t(prompts[p].size());
    auto ids_of = [](const std::vector<int32_t>& v, size_t from, size_t to) {
      Tensor t = Tensor::empty({1, int64_t(to - from)}, DType::i32);
      std::copy(v.begin() + long(from), v.begin() + long(to), t.data<int32_t>());
      return t;
    };
    if (kv_cache) {
      // The recipe's decode path: prefill the prompt, then one token at a time through the cache.
      nn::KVCache cache = nn::KVCache::for_model(gpt, 1, int64_t(seq.size()));
      Tensor logits = gpt.forward_cached(ids_of(seq, 0, size_t(prompt_len)), cache);
      for (size_t k = 0; k < ref.size(); ++k) {
        const float* last = logits.data<float>() + (logits.size(1) - 1) * vocab;
        q.nonfinite_outputs += count_nonfinite(logits);
        agree += argmax(last, vocab) == ref[k];
        ++positions;
        if (k + 1 < ref.size()) logits = gpt.forward_cached(ids_of(seq, size_t(prompt_len) + k, size_t(prompt_len) + k + 1), cache);
      }
    } else {
      const Tensor logits = gpt.forward(ids_of(seq, 0, seq.size()));
      q.nonfinite_outputs += count_nonfinite(logits);
      for (size_t k = 0; k < ref.size(); ++k) {
        agree += argmax(logits.data<float>() + (prompt_len - 1 + int64_t(k)) * vocab, vocab) == ref[k];
        ++positions;
      }
    }
  }
  q.agreement = positions > 0 ? double(agree) / double(positions) : 0;
  q.agreement_positions = positions;
  q.seconds = steady_seconds() - t0;
  return q;
}

}  // namespace tinyopt::olympics
