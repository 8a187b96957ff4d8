#include "nn/kv_cache.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "nn/gpt.h"

namespace tinyopt::nn {

KVCache::KVCache(int64_t n_layer, int64_t batch, int64_t n_head, int64_t max_seq, int64_t head_dim, Device device)
    : batch_(batch), n_head_(n_head), max_seq_(max_seq), head_dim_(head_dim) {
  TINYOPT_CHECK(n_layer > 0 && batch > 0 && n_head > 0 && max_seq > 0 && head_dim > 0,
                "kv cache: n_layer {}, batch {}, n_head {}, max_seq {}, head_dim {} must all be positive", n_layer,
                batch, n_head, max_seq, head_dim);
  TINYOPT_CHECK(device.is_cpu(), "kv cache: only CPU caches are implemented (asked for {})", device.str());
  for (int64_t i = 0; i < n_layer; ++i) {
    k_.push_back(Tensor::zeros({batch, n_head, max_seq, head_dim}, DType::f32, device));
    v_.push_back(Tensor::zeros({batch, n_head, max_seq, head_dim}, DType::f32, device));
  }
}

KVCache KVCache::for_model(const GPT& model, int64_t batch, int64_t max_seq) {
  const GPTConfig& c = model.config();
  if (max_seq == 0) max_seq = c.block_size;
  TINYOPT_CHECK(max_seq >= 1 && max_seq <= c.block_size, "kv cache: max_seq {} must be in 1..block_size {}", max_seq,
                c.block_size);
  return KVCache(c.n_layer, batch, c.n_head, max_seq, c.n_embd / c.n_head);
}

void KVCache::check_layer(int64_t layer) const {
  TINYOPT_CHECK(layer >= 0 && layer < n_layer(), "kv cache: layer {} out of range (the cache has {} layers)", layer,
                n_layer());
}

void KVCache::check_room(int64_t position, int64_t t) const {
  TINYOPT_CHECK(position >= 0 && t >= 0, "kv cache: position {} and count {} must be non-negative", position, t);
  TINYOPT_CHECK(position + t <= max_seq_,
                "kv cache overflow: positions {}..{} do not fit a cache of max_seq {} (length {})", position,
                position + t - 1, max_seq_, length_);
}

void KVCache::update(int64_t layer, const Tensor& k, const Tensor& v, int64_t position) {
  check_layer(layer);
  TINYOPT_CHECK(k.ndim() == 4 && k.size(0) == batch_ && k.size(1) == n_head_ && k.size(3) == head_dim_,
                "kv cache: k must be [{}, {}, T, {}], found {}", batch_, n_head_, head_dim_, k.describe());
  check_same_shape(k, v, "kv cache update (k vs v)");
  check_dtype(k, DType::f32, "kv cache update k");
  check_dtype(v, DType::f32, "kv cache update v");
  const int64_t t = k.size(2);
  check_room(position, t);
  const Tensor kc = k.to(Device::cpu()).contiguous(), vc = v.to(Device::cpu()).contiguous();
  const size_t row = static_cast<size_t>(t * head_dim_) * sizeof(float);
  for (int64_t bh = 0; bh < batch_ * n_head_; ++bh) {
    std::memcpy(k_[layer].data<float>() + (bh * max_seq_ + position) * head_dim_, kc.data<float>() + bh * t * head_dim_,
                row);
    std::memcpy(v_[layer].data<float>() + (bh * max_seq_ + position) * head_dim_, vc.data<float>() + bh * t * head_dim_,
                row);
  }
}

void KVCache::update_from_qkv(int64_t layer, const Tensor& qkv, int64_t position) {
  check_layer(layer);
  const int64_t c = n_head_ * head_dim_;
  TINYOPT_CHECK(qkv.ndim() == 3 && qkv.size(0) == batch_ && qkv.size(2) == 3 * c,
                "kv cache: qkv must be [{}, T, {}], found {}", batch_, 3 * c, qkv.describe());
  check_dtype(qkv, DType::f32, "kv cache update qkv");
  const int64_t t = qkv.size(1);
  check_room(position, t);
  const Tensor src = qkv.to(Device::cpu()).contiguous();
  const float* p = src.data<float>();
  float* kd = k_[layer].data<float>();
  float* vd = v_[layer].data<float>();
  const size_t row = static_cast<size_t>(head_dim_) * sizeof(float);
  for (int64_t b = 0; b < batch_; ++b)
    for (int64_t i = 0; i < t; ++i) {
      const float* r = p + (b * t + i) * 3 * c;
      for (int64_t h = 0; h < n_head_; ++h) {
        const int64_t dst = ((b * n_head_ + h) * max_seq_ + position + i) * head_dim_;
        std::memcpy(kd + dst, r + c + h * head_dim_, row);
        std::memcpy(vd + dst, r + 2 * c + h * head_dim_, row);
      }
    }
}

std::pair<Tensor, Tensor> KVCache::get(int64_t layer, int64_t positions) const {
  check_layer(layer);
  TINYOPT_CHECK(positions >= 0 && positions <= max_seq_, "kv cache: get of {} positions from a cache of max_seq {}",
                positions, max_seq_);
  Tensor k = Tensor::empty({batch_, n_head_, positions, head_dim_}, DType::f32);
  Tensor v = Tensor::empty({batch_, n_head_, positions, head_dim_}, DType::f32);
  const size_t row = static_cast<size_t>(positions * head_dim_) * sizeof(float);
  for (int64_t bh = 0; bh < batch_ * n_head_; ++bh) {
    std::memcpy(k.data<float>() + bh * positions * head_dim_, k_[layer].data<float>() + bh * max_seq_ * head_dim_, row);
    std::memcpy(v.data<float>() + bh * positions * head_dim_, v_[layer].data<float>() + bh * max_seq_ * head_dim_, row);
  }
  return {k, v};
}

const Tensor& KVCache::keys(int64_t layer) const {
  check_layer(layer);
  return k_[layer];
}
const Tensor& KVCache::values(int64_t layer) const {
  check_layer(layer);
  return v_[layer];
}

void KVCache::advance(int64_t n) {
  check_room(length_, n);
  length_ += n;
}

size_t KVCache::bytes_per_layer() const { return k_.empty() ? 0 : k_[0].nbytes() + v_[0].nbytes(); }
size_t KVCache::bytes() const { return bytes_per_layer() * k_.size(); }

}  // namespace tinyopt::nn
