#include "nn/gpt.h"

#include <optional>

#include "core/dispatch_observer.h"
#include "core/ops.h"
#include "core/ops_nn.h"
#include "nn/kv_cache.h"

namespace tinyopt::nn {

void GPTConfig::validate() const {
  TINYOPT_CHECK(vocab_size > 0 && vocab_size <= 1'000'000, "gpt config: vocab_size {} out of range (1..1e6)", vocab_size);
  TINYOPT_CHECK(n_layer > 0 && n_layer <= 256, "gpt config: n_layer {} out of range (1..256)", n_layer);
  TINYOPT_CHECK(n_head > 0 && n_embd > 0 && n_embd <= 65536 && n_embd % n_head == 0,
                "gpt config: n_embd {} must be positive and divisible by n_head {}", n_embd, n_head);
  TINYOPT_CHECK(block_size > 0 && block_size <= 1'000'000, "gpt config: block_size {} out of range", block_size);
}

GPT::GPT(const GPTConfig& config, bool tied_lm_head, Rng* rng)
    : wte("transformer.wte", (config.validate(), config.vocab_size), config.n_embd, 0.02, rng),
      wpe("transformer.wpe", config.block_size, config.n_embd, 0.02, rng),
      ln_f("transformer.ln_f", config.n_embd, config.bias),
      config_(config),
      tied_(tied_lm_head) {
  for (int64_t i = 0; i < config.n_layer; ++i) {
    blocks.push_back(std::make_unique<TransformerBlock>("transformer.h." + std::to_string(i), config.n_embd,
                                                        config.n_head, config.bias, config.n_layer, rng));
  }
  if (tied_) {
    lm_head = {"lm_head.weight", wte.weight.value, {}, {}};
  } else {
    lm_head = {"lm_head.weight", Tensor::empty({config.vocab_size, config.n_embd}, DType::f32), {}, {}};
    if (rng) init_normal(lm_head.value, 0.02, *rng);
  }
}

void GPT::collect_parameters(std::vector<Parameter*>& out) {
  wte.collect_parameters(out);
  wpe.collect_parameters(out);
  for (auto& b : blocks) b->collect_parameters(out);
  ln_f.collect_parameters(out);
  if (!tied_) out.push_back(&lm_head);
}

void GPT::set_training(bool on) {
  Module::set_training(on);
  wte.set_training(on);
  wpe.set_training(on);
  for (auto& b : blocks) b->set_training(on);
  ln_f.set_training(on);
}

Tensor GPT::forward(const Tensor& ids) {
  TINYOPT_CHECK(ids.ndim() == 2, "gpt: expected token ids [B, T], found {}", ids.describe());
  const int64_t b = ids.size(0), t = ids.size(1);
  TINYOPT_CHECK(t >= 1 && t <= config_.block_size, "gpt: sequence length {} must be in 1..block_size {}", t,
                config_.block_size);
  const bool observed = dispatch_observer() != nullptr;  // profiler layer scopes, named only when observed
  std::optional<LayerScope> scope(std::in_place, "embedding", observed ? "embeddings" : "");
  Tensor pos = Tensor::empty({t}, DType::i32);
  for (int64_t i = 0; i < t; ++i) pos.data<int32_t>()[i] = static_cast<int32_t>(i);
  Tensor tok = wte.forward(ids);  // [B, T, C]
  Tensor pe = wpe.forward(pos.to(ids.device()));  // [T, C]
  // x[b, t, :] = tok[b, t, :] + pe[t, :]: a bias add over rows of length T*C.
  Tensor x = Tensor::empty(tok.shape(), DType::f32, tok.device());
  BiasAddArgs add_pos{tok.reshape({b, t * config_.n_embd}), pe.reshape({t * config_.n_embd}),
                      x.reshape({b, t * config_.n_embd})};
  ops::bias_add(add_pos);
  for (size_t i = 0; i < blocks.size(); ++i) {
    scope.reset();
    scope.emplace("transformer_block", observed ? "transformer.h." + std::to_string(i) : "");
    x = blocks[i]->forward(x);
  }
  scope.reset();
  scope.emplace("layernorm", observed ? "transformer.ln_f" : "");
  Tensor h = ln_f.forward(x);
  if (training_) {
    h_final_ = h;
    ids_shape_ = ids.shape();
  }
  scope.reset();
  scope.emplace("linear", observed ? "lm_head" : "");
  Tensor logits = matmul(h.reshape({b * t, config_.n_embd}), lm_head.value, false, true);
  return logits.reshape({b, t, config_.vocab_size});
}

Tensor GPT::forward_cached(const Tensor& ids, KVCache& past_kv) {
  TINYOPT_CHECK(ids.ndim() == 2, "gpt: expected token ids [B, T], found {}", ids.describe());
  const int64_t b = ids.size(0), t = ids.size(1), c = config_.n_embd, pos = past_kv.length();
  TINYOPT_CHECK(t >= 1 && pos + t <= config_.block_size,
                "gpt: positions {}..{} exceed the context (block_size {})", pos, pos + t - 1, config_.block_size);
  TINYOPT_CHECK(past_kv.n_layer() == config_.n_layer && past_kv.batch() == b,
                "gpt: kv cache has {} layers and batch {}; the model has {} layers and the ids batch {}",
                past_kv.n_layer(), past_kv.batch(), config_.n_layer, b);
  Tensor positions = Tensor::empty({t}, DType::i32);
  for (int64_t i = 0; i < t; ++i) positions.data<int32_t>()[i] = static_cast<int32_t>(pos + i);
  Tensor tok = wte.forward(ids);
  Tensor pe = wpe.forward(positions.to(ids.device()));
  Tensor x = Tensor::empty(tok.shape(), DType::f32, tok.device());
  BiasAddArgs add_pos{tok.reshape({b, t * c}), pe.reshape({t * c}), x.reshape({b, t * c})};
  ops::bias_add(add_pos);
  for (size_t i = 0; i < blocks.size(); ++i) x = blocks[i]->forward(x, past_kv, static_cast<int64_t>(i));
  past_kv.advance(t);
  Tensor h = ln_f.forward(x);
  Tensor logits = matmul(h.reshape({b * t, c}), lm_head.value, false, true);
  return logits.reshape({b, t, config_.vocab_size});
}

Tensor GPT::backward(const Tensor& dlogits) {
  TINYOPT_CHECK(h_final_.defined(), "gpt: backward called without a training-mode forward");
  const int64_t b = ids_shape_[0], t = ids_shape_[1], c = config_.n_embd;
  Tensor dl = dlogits.contiguous().reshape({b * t, config_.vocab_size});
  Tensor h = h_final_.reshape({b * t, c});
  // lm_head: dW = dl^T h (accumulated into wte's grad when tied), dh = dl W.
  accumulate(tied_ ? wte.weight.grad : lm_head.grad, matmul(dl, h, true, false));
  Tensor dx = ln_f.backward(matmul(dl, lm_head.value).reshape({b, t, c}));
  for (auto it = blocks.rbegin(); it != blocks.rend(); ++it) dx = (*it)->backward(dx);
  wte.backward(dx);
  // Position gradient: sum over the batch of dx[b, t, :].
  Tensor dpe = Tensor::empty({t * c}, DType::f32, dx.device());
  SumRowsArgs sum{dx.reshape({b, t * c}), dpe};
  ops::sum_rows(sum);
  wpe.backward(dpe.reshape({t, c}));
  return Tensor();
}

}  // namespace tinyopt::nn
