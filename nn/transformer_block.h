// Pre-LayerNorm transformer block (nanoGPT's Block):
//   x = x + attn(ln_1(x));  x = x + mlp(ln_2(x)),  mlp = c_proj(gelu(c_fc(x))) with 4x width.
#pragma once

#include "nn/activations.h"
#include "nn/attention.h"
#include "nn/layernorm.h"
#include "nn/linear.h"

namespace tinyopt::nn {

class TransformerBlock : public Module {
 public:
  TransformerBlock(const std::string& name, int64_t n_embd, int64_t n_head, bool bias, int64_t n_layer, Rng* rng);
  Tensor forward(const Tensor& x) override;
  // Inference with a KV cache: attention reads and extends layer `layer` of past_kv.
  Tensor forward(const Tensor& x, KVCache& past_kv, int64_t layer);
  Tensor backward(const Tensor& dy) override;
  std::string type() const override { return "transformer_block"; }
  void collect_parameters(std::vector<Parameter*>& out) override;
  void set_training(bool on) override;

  LayerNorm ln_1;
  CausalSelfAttention attn;
  LayerNorm ln_2;
  Linear c_fc;
  GELU gelu;
  Linear mlp_c_proj;
};

}  // namespace tinyopt::nn
