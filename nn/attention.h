// CausalSelfAttention as in nanoGPT: c_attn (C -> 3C) produces q|k|v, the
// fused causal attention op mixes positions per head, c_proj (C -> C) projects.
// Input and output [B, T, C].
#pragma once

#include "nn/linear.h"

namespace tinyopt::nn {

class KVCache;

class CausalSelfAttention : public Module {
 public:
  CausalSelfAttention(const std::string& name, int64_t n_embd, int64_t n_head, bool bias, int64_t n_layer, Rng* rng);
  Tensor forward(const Tensor& x) override;
  // Cached path (inference only): x [B, T, C] holds the tokens at positions
  // past_kv.length() .. +T-1. Their k/v are written into layer `layer` of the
  // cache; an empty cache (prefill) runs the causal attention op over the T
  // tokens in one pass, otherwise each new token attends over cache + itself
  // with attention_decode. Does not advance the cache (GPT::forward_cached does).
  Tensor forward(const Tensor& x, KVCache& past_kv, int64_t layer);
  Tensor backward(const Tensor& dy) override;
  std::string type() const override { return "causal_self_attention"; }
  void collect_parameters(std::vector<Parameter*>& out) override;
  void set_training(bool on) override;
  int64_t n_head() const { return n_head_; }

  Linear c_attn, c_proj;

 private:
  int64_t n_head_;
  Tensor qkv_, probs_;
};

}  // namespace tinyopt::nn
