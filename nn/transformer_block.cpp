#include "nn/transformer_block.h"

#include <cmath>

#include "core/ops.h"

namespace tinyopt::nn {

TransformerBlock::TransformerBlock(const std::string& name, int64_t n_embd, int64_t n_head, bool bias, int64_t n_layer,
                                   Rng* rng)
    : ln_1(name + ".ln_1", n_embd, bias),
      attn(name + ".attn", n_embd, n_head, bias, n_layer, rng),
      ln_2(name + ".ln_2", n_embd, bias),
      c_fc(name + ".mlp.c_fc", n_embd, 4 * n_embd, bias, nullptr),
      mlp_c_proj(name + ".mlp.c_proj", 4 * n_embd, n_embd, bias, nullptr) {
  if (rng) {
    init_normal(c_fc.weight.value, 0.02, *rng);
    init_normal(mlp_c_proj.weight.value, 0.02 / std::sqrt(2.0 * n_layer), *rng);
    if (bias) {
      c_fc.bias.value.fill(0.0);
      mlp_c_proj.bias.value.fill(0.0);
    }
  }
}

void TransformerBlock::collect_parameters(std::vector<Parameter*>& out) {
  ln_1.collect_parameters(out);
  attn.collect_parameters(out);
  ln_2.collect_parameters(out);
  c_fc.collect_parameters(out);
  mlp_c_proj.collect_parameters(out);
}

void TransformerBlock::set_training(bool on) {
  Module::set_training(on);
  for (Module* m : std::initializer_list<Module*>{&ln_1, &attn, &ln_2, &c_fc, &gelu, &mlp_c_proj}) m->set_training(on);
}

Tensor TransformerBlock::forward(const Tensor& x) {
  Tensor h = add(x, attn.forward(ln_1.forward(x)));
  return add(h, mlp_c_proj.forward(gelu.forward(c_fc.forward(ln_2.forward(h)))));
}

Tensor TransformerBlock::forward(const Tensor& x, KVCache& past_kv, int64_t layer) {
  Tensor h = add(x, attn.forward(ln_1.forward(x), past_kv, layer));
  return add(h, mlp_c_proj.forward(gelu.forward(c_fc.forward(ln_2.forward(h)))));
}

Tensor TransformerBlock::backward(const Tensor& dy) {
  // Residuals pass the gradient through unchanged and add the branch's.
  Tensor dh = dy.contiguous().clone();
  accumulate(dh, ln_2.backward(c_fc.backward(gelu.backward(mlp_c_proj.backward(dy)))));
  Tensor dx = dh.clone();
  accumulate(dx, ln_1.backward(attn.backward(dh)));
  return dx;
}

}  // namespace tinyopt::nn
