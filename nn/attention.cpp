#include "nn/attention.h"

#include <algorithm>
#include <cmath>

#include "core/ops_nn.h"
#include "nn/kv_cache.h"

namespace tinyopt::nn {

CausalSelfAttention::CausalSelfAttention(const std::string& name, int64_t n_embd, int64_t n_head, bool bias,
                                         int64_t n_layer, Rng* rng)
    : c_attn(name + ".c_attn", n_embd, 3 * n_embd, bias, nullptr),
      c_proj(name + ".c_proj", n_embd, n_embd, bias, nullptr),
      n_head_(n_head) {
  TINYOPT_CHECK(n_head > 0 && n_embd % n_head == 0, "{}: n_embd {} is not divisible by n_head {}", name, n_embd, n_head);
  if (rng) {
    // nanoGPT: N(0, 0.02) weights, zero biases, residual projection scaled by 1/sqrt(2 n_layer).
    init_normal(c_attn.weight.value, 0.02, *rng);
    init_normal(c_proj.weight.value, 0.02 / std::sqrt(2.0 * n_layer), *rng);
    if (bias) {
      c_attn.bias.value.fill(0.0);
      c_proj.bias.value.fill(0.0);
    }
  }
}

void CausalSelfAttention::collect_parameters(std::vector<Parameter*>& out) {
  c_attn.collect_parameters(out);
  c_proj.collect_parameters(out);
}

void CausalSelfAttention::set_training(bool on) {
  Module::set_training(on);
  c_attn.set_training(on);
  c_proj.set_training(on);
}

Tensor CausalSelfAttention::forward(const Tensor& x) {
  TINYOPT_CHECK(x.ndim() == 3, "attention: expected input [B, T, C], found {}", x.describe());
  const int64_t b = x.size(0), t = x.size(1), c = x.size(2);
  Tensor qkv = c_attn.forward(x);
  AttentionArgs args{qkv, Tensor::empty({b, t, c}, DType::f32, x.device()),
                     training_ ? Tensor::empty({b, n_head_, t, t}, DType::f32, x.device()) : Tensor(), n_head_};
  ops::attention(args);
  if (training_) {
    qkv_ = qkv;
    probs_ = args.probs;
  }
  return c_proj.forward(args.out);
}

Tensor CausalSelfAttention::forward(const Tensor& x, KVCache& past_kv, int64_t layer) {
  TINYOPT_CHECK(x.ndim() == 3, "attention: expected input [B, T, C], found {}", x.describe());
  const int64_t b = x.size(0), t = x.size(1), c = x.size(2), hd = c / n_head_;
  TINYOPT_CHECK(past_kv.batch() == b && past_kv.n_head() == n_head_ && past_kv.head_dim() == hd,
                "attention: kv cache [{}, {}, {}, {}] does not match input {} with {} heads", past_kv.batch(),
                past_kv.n_head(), past_kv.max_seq(), past_kv.head_dim(), x.describe(), n_head_);
  const int64_t pos = past_kv.length();
  Tensor qkv = c_attn.forward(x).contiguous();
  past_kv.update_from_qkv(layer, qkv, pos);
  Tensor out = Tensor::empty({b, t, c}, DType::f32, x.device());
  if (pos == 0) {
    AttentionArgs args{qkv, out, Tensor(), n_head_};
    ops::attention(args);
  } else {
    // One decode call per new token: q [B, H, hd] gathered from the token's
    // qkv row, its output [B, H, hd] scattered into out[:, i, :].
    Tensor q = Tensor::empty({b, n_head_, hd}, DType::f32, x.device());
    Tensor o = t == 1 ? out.reshape({b, n_head_, hd}) : Tensor::empty({b, n_head_, hd}, DType::f32, x.device());
    for (int64_t i = 0; i < t; ++i) {
      for (int64_t bb = 0; bb < b; ++bb)
        std::copy_n(qkv.data<float>() + (bb * t + i) * 3 * c, c, q.data<float>() + bb * c);
      AttentionDecodeArgs args{q, past_kv.keys(layer), past_kv.values(layer), o, pos + i + 1};
      ops::attention_decode(args);
      if (t != 1)
        for (int64_t bb = 0; bb < b; ++bb)
          std::copy_n(o.data<float>() + bb * c, c, out.data<float>() + (bb * t + i) * c);
    }
  }
  return c_proj.forward(out);
}

Tensor CausalSelfAttention::backward(const Tensor& dy) {
  TINYOPT_CHECK(qkv_.defined(), "attention: backward called without a training-mode forward");
  Tensor dout = c_proj.backward(dy);
  AttentionBackwardArgs args{qkv_, probs_, dout.contiguous(), Tensor::empty(qkv_.shape(), DType::f32, qkv_.device()),
                             n_head_};
  ops::attention_backward(args);
  return c_attn.backward(args.dqkv);
}

}  // namespace tinyopt::nn
