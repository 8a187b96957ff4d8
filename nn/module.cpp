#include "nn/module.h"

#include "core/ops.h"

namespace tinyopt::nn {

std::vector<Parameter*> Module::parameters() {
  std::vector<Parameter*> out;
  collect_parameters(out);
  return out;
}

void Module::zero_grad() {
  for (Parameter* p : parameters()) {
    if (!p->grad.defined() || p->grad.shape() != p->value.shape()) {
      p->grad = Tensor::zeros(p->value.shape(), p->value.dtype(), p->value.device());
    } else {
      p->grad.fill(0.0);
    }
  }
}

int64_t Module::parameter_count() {
  int64_t n = 0;
  for (Parameter* p : parameters()) n += p->value.numel();
  return n;
}

void accumulate(Tensor& dst, const Tensor& src) {
  BinaryArgs args{dst, src, dst};
  ops::add(args);
}

}  // namespace tinyopt::nn
