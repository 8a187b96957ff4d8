// KVCache: the keys and values of every layer for the positions a GPT has
// already processed (PyTorch/HuggingFace's `past_key_values`), so each decode
// step computes q/k/v for the new token only and attends over cache + new.
//
// Per layer, K and V are preallocated once as [batch, n_head, max_seq,
// head_dim] (HuggingFace's layout: one head's positions are contiguous, which
// is what the attention_decode kernels stream through). Positions
// 0 .. length()-1 are valid. The cache never grows: writing past max_seq is a
// tinyopt::Error naming both numbers.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace tinyopt::nn {

class GPT;

class KVCache {
 public:
  KVCache(int64_t n_layer, int64_t batch, int64_t n_head, int64_t max_seq, int64_t head_dim,
          Device device = Device::cpu());
  // A cache for `model` (max_seq 0 = the model's block_size).
  static KVCache for_model(const GPT& model, int64_t batch, int64_t max_seq = 0);

  // Writes k and v ([batch, n_head, T, head_dim]) of `layer` at positions
  // position .. position+T-1. Does not move length(); advance() does.
  void update(int64_t layer, const Tensor& k, const Tensor& v, int64_t position);
  // The same from nanoGPT's fused c_attn output qkv [batch, T, 3C]: its k and
  // v thirds are scattered into the cache's per-head layout.
  void update_from_qkv(int64_t layer, const Tensor& qkv, int64_t position);
  // Copies of the first `positions` keys and values of `layer`: [batch, n_head, positions, head_dim].
  std::pair<Tensor, Tensor> get(int64_t layer, int64_t positions) const;
  // The whole preallocated K / V of a layer (for the attention_decode op).
  const Tensor& keys(int64_t layer) const;
  const Tensor& values(int64_t layer) const;

  void advance(int64_t n);  // length() += n, within max_seq
  void reset() { length_ = 0; }
  int64_t length() const { return length_; }

  int64_t n_layer() const { return static_cast<int64_t>(k_.size()); }
  int64_t batch() const { return batch_; }
  int64_t n_head() const { return n_head_; }
  int64_t max_seq() const { return max_seq_; }
  int64_t head_dim() const { return head_dim_; }
  size_t bytes_per_layer() const;  // K and V of one layer
  size_t bytes() const;            // all layers

 private:
  void check_layer(int64_t layer) const;
  void check_room(int64_t position, int64_t t) const;

  int64_t batch_, n_head_, max_seq_, head_dim_;
  int64_t length_ = 0;
  std::vector<Tensor> k_, v_;
};

}  // namespace tinyopt::nn
