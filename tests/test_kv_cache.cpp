// KV cache: the cache's own bookkeeping (update/get round trip, overflow
// errors) and the exactness target of generation with it: on fresh random
// prompts and random models, greedy generation with and without the cache
// gives identical tokens and the logits of every step agree within 1e-4
// relative (max |cached - uncached| over the row / max |uncached|).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>

#include "core/ops_nn.h"
#include "nn/generate.h"
#include "nn/gpt.h"
#include "nn/kv_cache.h"

using namespace tinyopt;
using namespace tinyopt::nn;

namespace {

Tensor random_f32(const Shape& shape, uint64_t seed) {
  Tensor t = Tensor::empty(shape, DType::f32);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> dist(-1, 1);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = dist(rng);
  return t;
}

uint64_t fresh_seed() {
  static std::random_device device;
  return (uint64_t(device()) << 32) ^ device();
}

std::vector<std::vector<int32_t>> random_prompts(int64_t batch, int64_t length, int64_t vocab, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int32_t> dist(0, static_cast<int32_t>(vocab - 1));
  std::vector<std::vector<int32_t>> prompts(static_cast<size_t>(batch));
  for (auto& p : prompts)
    for (int64_t i = 0; i < length; ++i) p.push_back(dist(rng));
  return prompts;
}

// Generates with and without the cache and checks tokens and per-step logits.
void expect_cached_matches_uncached(GPT& model, int64_t batch, int64_t prompt_len, int64_t new_tokens, uint64_t seed,
                                    bool greedy = true) {
  SCOPED_TRACE("seed " + std::to_string(seed) + " batch " + std::to_string(batch) + " prompt " +
               std::to_string(prompt_len));
  const auto prompts = random_prompts(batch, prompt_len, model.config().vocab_size, seed);
  std::vector<Tensor> logits[2];
  GenerateResult results[2];
  for (int cached = 0; cached < 2; ++cached) {
    GenerateOptions o;
    o.max_new_tokens = new_tokens;
    o.use_cache = cached == 1;
    o.greedy = greedy;
    o.temperature = 0.8;
    o.top_k = 5;
    o.seed = seed;
    o.on_logits = [&logits, cached](int64_t, const Tensor& l) { logits[cached].push_back(l.clone()); };
    results[cached] = generate(model, prompts, o);
  }
  ASSERT_EQ(results[0].tokens, results[1].tokens);
  ASSERT_EQ(logits[0].size(), static_cast<size_t>(new_tokens));
  ASSERT_EQ(logits[1].size(), static_cast<size_t>(new_tokens));
  double worst = 0;
  for (int64_t step = 0; step < new_tokens; ++step) {
    const Tensor& ref = logits[0][step];
    const Tensor& got = logits[1][step];
    const int64_t vocab = ref.size(1);
    for (int64_t r = 0; r < batch; ++r) {
      double max_ref = 0, max_diff = 0;
      for (int64_t i = 0; i < vocab; ++i) {
        const double a = ref.data<float>()[r * vocab + i], b = got.data<float>()[r * vocab + i];
        max_ref = std::max(max_ref, std::fabs(a));
        max_diff = std::max(max_diff, std::fabs(a - b));
      }
      const double rel = max_diff / std::max(max_ref, 1e-30);
      worst = std::max(worst, rel);
      ASSERT_LE(rel, 1e-4) << "step " << step << " row " << r;
    }
  }
  testing::Test::RecordProperty("worst_relative_logit_difference", std::to_string(worst));
}

GPTConfig small_config() {
  GPTConfig c;
  c.vocab_size = 37;
  c.n_layer = 2;
  c.n_head = 4;
  c.n_embd = 52;  // head_dim 13: not a vector width
  c.block_size = 48;
  return c;
}

// Larger weights than nanoGPT's 0.02 make attention and logits far from
// uniform, a harder test of the cached path than a near-flat random model.
void sharpen(GPT& model, uint64_t seed) {
  Rng rng(seed);
  for (Parameter* p : model.parameters())
    if (p->value.ndim() == 2) init_normal(p->value, 0.15, rng);
}

}  // namespace

TEST(KVCache, UpdateGetRoundTrip) {
  KVCache cache(2, 2, 3, 16, 5);
  EXPECT_EQ(cache.length(), 0);
  EXPECT_EQ(cache.bytes_per_layer(), size_t(2 * 2 * 3 * 16 * 5 * 4));
  EXPECT_EQ(cache.bytes(), 2 * cache.bytes_per_layer());
  const Tensor k1 = random_f32({2, 3, 4, 5}, 1), v1 = random_f32({2, 3, 4, 5}, 2);
  const Tensor k2 = random_f32({2, 3, 3, 5}, 3), v2 = random_f32({2, 3, 3, 5}, 4);
  cache.update(1, k1, v1, 0);
  cache.advance(4);
  cache.update(1, k2, v2, 4);
  cache.advance(3);
  EXPECT_EQ(cache.length(), 7);
  auto [k, v] = cache.get(1, 7);
  ASSERT_EQ(k.shape(), Shape({2, 3, 7, 5}));
  for (int64_t bh = 0; bh < 6; ++bh)
    for (int64_t t = 0; t < 7; ++t)
      for (int64_t d = 0; d < 5; ++d) {
        const float want_k = t < 4 ? k1.data<float>()[(bh * 4 + t) * 5 + d] : k2.data<float>()[(bh * 3 + t - 4) * 5 + d];
        const float want_v = t < 4 ? v1.data<float>()[(bh * 4 + t) * 5 + d] : v2.data<float>()[(bh * 3 + t - 4) * 5 + d];
        ASSERT_EQ(k.data<float>()[(bh * 7 + t) * 5 + d], want_k);
        ASSERT_EQ(v.data<float>()[(bh * 7 + t) * 5 + d], want_v);
      }
  // Layer 0 untouched (zeros).
  auto [k0, v0] = cache.get(0, 7);
  for (int64_t i = 0; i < k0.numel(); ++i) ASSERT_EQ(k0.data<float>()[i], 0.0f);
  cache.reset();
  EXPECT_EQ(cache.length(), 0);
}

TEST(KVCache, UpdateFromFusedQkvMatchesPerHeadLayout) {
  const int64_t b = 2, t = 3, h = 2, hd = 4, c = h * hd;
  KVCache cache(1, b, h, 8, hd);
  const Tensor qkv = random_f32({b, t, 3 * c}, 7);
  cache.update_from_qkv(0, qkv, 2);
  auto [k, v] = cache.get(0, 5);
  for (int64_t bb = 0; bb < b; ++bb)
    for (int64_t hh = 0; hh < h; ++hh)
      for (int64_t i = 0; i < t; ++i)
        for (int64_t d = 0; d < hd; ++d) {
          const float* row = qkv.data<float>() + (bb * t + i) * 3 * c;
          ASSERT_EQ(k.data<float>()[((bb * h + hh) * 5 + 2 + i) * hd + d], row[c + hh * hd + d]);
          ASSERT_EQ(v.data<float>()[((bb * h + hh) * 5 + 2 + i) * hd + d], row[2 * c + hh * hd + d]);
        }
}

TEST(KVCache, OverflowIsAClearError) {
  KVCache cache(1, 1, 2, 8, 4);
  const Tensor k = random_f32({1, 2, 9, 4}, 1);
  try {
    cache.update(0, k, k, 0);
    FAIL() << "expected an overflow error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("overflow"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("max_seq 8"), std::string::npos) << e.what();
  }
  cache.advance(6);
  EXPECT_THROW(cache.advance(3), Error);
  const Tensor k3 = random_f32({1, 2, 3, 4}, 2);
  EXPECT_THROW(cache.update(0, k3, k3, 6), Error);
  EXPECT_THROW(cache.update(1, k3, k3, 0), Error);  // no layer 1
  EXPECT_THROW(KVCache(1, 1, 2, 0, 4), Error);

  // Through the model: a cache sized for 10 positions refuses the 11th.
  Rng rng(3);
  GPT model(small_config(), true, &rng);
  KVCache small = KVCache::for_model(model, 1, 10);
  Tensor ids = Tensor::zeros({1, 10}, DType::i32);
  model.forward_cached(ids, small);
  Tensor one = Tensor::zeros({1, 1}, DType::i32);
  EXPECT_THROW(model.forward_cached(one, small), Error);
  EXPECT_THROW(KVCache::for_model(model, 1, 49), Error);  // beyond block_size
}

TEST(Generate, GreedyCachedMatchesUncachedOnRandomModels) {
  for (int trial = 0; trial < 3; ++trial) {
    const uint64_t seed = fresh_seed();
    Rng rng(seed);
    GPT model(small_config(), trial != 1, &rng);
    if (trial == 2) sharpen(model, seed + 1);
    expect_cached_matches_uncached(model, 1, 1 + int64_t(seed % 9), 48 - 10, seed);
    expect_cached_matches_uncached(model, 2, 5, 30, seed + 2);
  }
}

TEST(Generate, GreedyCachedMatchesUncachedOnReferenceGptShape) {
  const uint64_t seed = fresh_seed();
  Rng rng(seed);
  GPTConfig c;  // the reference GPT's widths (4 layers, 4 heads, 128 wide)
  c.vocab_size = 65;
  c.block_size = 256;
  GPT model(c, true, &rng);
  sharpen(model, seed + 1);
  expect_cached_matches_uncached(model, 1, 17, 48, seed);
}

TEST(Generate, SampledCachedMatchesUncachedAndIsSeeded) {
  const uint64_t seed = fresh_seed();
  Rng rng(seed);
  GPT model(small_config(), true, &rng);
  sharpen(model, seed);
  expect_cached_matches_uncached(model, 2, 6, 30, seed, /*greedy=*/false);
  GenerateOptions o;
  o.greedy = false;
  o.temperature = 1.3;
  o.top_k = 0;
  o.max_new_tokens = 20;
  o.seed = 42;
  const auto prompts = random_prompts(1, 4, 37, seed);
  const auto a = generate(model, prompts, o), b = generate(model, prompts, o);
  EXPECT_EQ(a.tokens, b.tokens);
  o.top_k = 1;  // top-1 sampling is greedy
  const auto top1 = generate(model, prompts, o);
  o.greedy = true;
  EXPECT_EQ(top1.tokens, generate(model, prompts, o).tokens);
}

TEST(Generate, BadInputIsAClearError) {
  Rng rng(5);
  GPT model(small_config(), true, &rng);
  GenerateOptions o;
  o.max_new_tokens = 10;
  EXPECT_THROW(generate(model, {}, o), Error);
  EXPECT_THROW(generate(model, {{}}, o), Error);
  EXPECT_THROW(generate(model, {{1, 2}, {3}}, o), Error);   // unequal lengths
  EXPECT_THROW(generate(model, {{1, 37}}, o), Error);       // id outside the vocabulary
  EXPECT_THROW(generate(model, {std::vector<int32_t>(49, 1)}, o), Error);  // prompt beyond block_size
  o.max_new_tokens = 48 - 5 + 1;
  try {
    generate(model, {std::vector<int32_t>(5, 1)}, o);
    FAIL() << "expected a context error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("block_size 48"), std::string::npos) << e.what();
  }
  o.max_new_tokens = 0;
  EXPECT_THROW(generate(model, {{1}}, o), Error);
  o.max_new_tokens = 3;
  o.greedy = false;
  o.temperature = 0;
  EXPECT_THROW(generate(model, {{1}}, o), Error);
  o.temperature = 1;
  o.top_k = -1;
  EXPECT_THROW(generate(model, {{1}}, o), Error);
  o.max_new_tokens = 48 - 5;  // exactly fills the context: fine
  o.top_k = 0;
  EXPECT_EQ(generate(model, {std::vector<int32_t>(5, 1)}, o).tokens[0].size(), size_t(43));
}

TEST(attention_decode, VariantsAgreeWithPrefillAttention) {
  // The decode op over a cache filled from qkv equals the last row of the
  // causal attention op on the same qkv.
  const int64_t b = 2, t = 70, h = 4, hd = 16, c = h * hd;
  const Tensor qkv = random_f32({b, t, 3 * c}, 11);
  Tensor full = Tensor::empty({b, t, c}, DType::f32);
  AttentionArgs attn{qkv, full, Tensor(), h};
  ops::attention(attn);
  KVCache cache(1, b, h, 80, hd);
  cache.update_from_qkv(0, qkv, 0);
  Tensor q = Tensor::empty({b, h, hd}, DType::f32);
  for (int64_t bb = 0; bb < b; ++bb)
    std::copy_n(qkv.data<float>() + (bb * t + t - 1) * 3 * c, c, q.data<float>() + bb * c);
  for (const auto& variant : ops::attention_decode.variants()) {
    if (variant.device != DeviceType::cpu) continue;  // CUDA variants run in the conformance table on a GPU
    Tensor out = Tensor::empty({b, h, hd}, DType::f32);
    AttentionDecodeArgs args{q, cache.keys(0), cache.values(0), out, t};
    ops::attention_decode.run_variant(variant, args);
    for (int64_t bb = 0; bb < b; ++bb)
      for (int64_t i = 0; i < c; ++i)
        ASSERT_NEAR(out.data<float>()[bb * c + i], full.data<float>()[(bb * t + t - 1) * c + i], 1e-5) << variant.name;
  }
}
