// The GPT of nanoGPT: token + position embeddings, n_layer pre-LN blocks,
// final LayerNorm and an lm_head (tied to the token embedding when the model
// file has no lm_head.weight). forward: ids [B, T] -> logits [B, T, vocab].
#pragma once

#include <memory>
#include <vector>

#include "nn/embedding.h"
#include "nn/layernorm.h"
#include "nn/transformer_block.h"

namespace tinyopt::nn {

struct GPTConfig {
  int64_t vocab_size = 0, n_layer = 4, n_head = 4, n_embd = 128, block_size = 256;
  bool bias = true;
  void validate() const;  // positive sizes, n_embd divisible by n_head, sane limits
};

class GPT : public Module {
 public:
  GPT(const GPTConfig& config, bool tied_lm_head, Rng* rng);
  Tensor forward(const Tensor& ids) override;
  // Incremental inference (PyTorch's past_key_values): ids [B, T] are the
  // tokens at positions past_kv.length() .. +T-1; returns their logits
  // [B, T, vocab] and advances the cache by T. The first call (empty cache)
  // is the prefill of the whole prompt; later calls usually pass T = 1.
  Tensor forward_cached(const Tensor& ids, KVCache& past_kv);
  Tensor backward(const Tensor& dlogits) override;
  std::string type() const override { return "gpt"; }
  void collect_parameters(std::vector<Parameter*>& out) override;
  void set_training(bool on) override;
  const GPTConfig& config() const { return config_; }
  bool tied() const { return tied_; }

  Embedding wte, wpe;
  std::vector<std::unique_ptr<TransformerBlock>> blocks;
  LayerNorm ln_f;
  Parameter lm_head;  // [vocab, n_embd]; shares wte's storage when tied

 private:
  GPTConfig config_;
  bool tied_;
  Tensor h_final_;  // ln_f output (training), input of lm_head
  Shape ids_shape_;
};

}  // namespace tinyopt::nn
