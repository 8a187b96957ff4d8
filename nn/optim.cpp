#include "nn/optim.h"

#include <algorithm>
#include <cmath>

namespace tinyopt::nn {

namespace {
void check_cpu_f32(const Parameter* p) {
  TINYOPT_CHECK(p->value.device().is_cpu() && p->value.dtype() == DType::f32 && p->grad.defined(),
                "optimizer: parameter {} must be an f32 CPU tensor with a gradient (call zero_grad first)", p->name);
  // A pruning mask is read element by element alongside the weights.
  TINYOPT_CHECK(!p->mask.defined() || (p->mask.dtype() == DType::f32 && p->mask.shape() == p->value.shape() &&
                                       p->mask.is_contiguous() && p->mask.device().is_cpu()),
                "optimizer: the mask of {} ({}) does not match its weights {}", p->name, p->mask.describe(),
                p->value.describe());
}
}  // namespace

SGD::SGD(std::vector<Parameter*> params, double lr, double momentum, double weight_decay)
    : Optimizer(std::move(params)), momentum_(momentum), weight_decay_(weight_decay) {
  lr_ = lr;
  for (Parameter* p : params_) velocity_.push_back(Tensor::zeros(p->value.shape(), DType::f32));
}

void SGD::step() {
  for (size_t i = 0; i < params_.size(); ++i) {
    Parameter* p = params_[i];
    check_cpu_f32(p);
    float* w = p->value.data<float>();
    const float* g = p->grad.data<float>();
    float* v = velocity_[i].data<float>();
    const float* mask = p->mask.defined() ? p->mask.data<float>() : nullptr;
    const float lr = float(lr_), mom = float(momentum_), wd = float(weight_decay_);
    const int64_t n = p->value.numel();
#pragma omp parallel for simd if (n > 32768)
    for (int64_t j = 0; j < n; ++j) {
      float grad = g[j] + wd * w[j];
      if (mask) grad *= mask[j];
      v[j] = mom * v[j] + grad;
      w[j] -= lr * v[j];
      if (mask) w[j] *= mask[j];
    }
  }
}

AdamW::AdamW(std::vector<Parameter*> params, double lr, double beta1, double beta2, double eps, double weight_decay)
    : Optimizer(std::move(params)), beta1_(beta1), beta2_(beta2), eps_(eps), weight_decay_(weight_decay) {
  lr_ = lr;
  for (Parameter* p : params_) {
    m_.push_back(Tensor::zeros(p->value.shape(), DType::f32));
    v_.push_back(Tensor::zeros(p->value.shape(), DType::f32));
    decay_.push_back(true);
  }
}

void AdamW::set_no_decay(const std::vector<Parameter*>& params) {
  for (size_t i = 0; i < params_.size(); ++i)
    if (std::find(params.begin(), params.end(), params_[i]) != params.end()) decay_[i] = false;
}

void AdamW::step() {
  ++t_;
  const double bias1 = 1.0 - std::pow(beta1_, double(t_));
  const double bias2 = 1.0 - std::pow(beta2_, double(t_));
  for (size_t i = 0; i < params_.size(); ++i) {
    Parameter* p = params_[i];
    check_cpu_f32(p);
    float* w = p->value.data<float>();
    const float* g = p->grad.data<float>();
    float* m = m_[i].data<float>();
    float* v = v_[i].data<float>();
    const float* mask = p->mask.defined() ? p->mask.data<float>() : nullptr;
    const float lr = float(lr_), b1 = float(beta1_), b2 = float(beta2_), eps = float(eps_);
    const float decay = decay_[i] ? float(1.0 - lr_ * weight_decay_) : 1.0f;
    const float step = float(lr_ / bias1), inv_sqrt_bias2 = float(1.0 / std::sqrt(bias2));
    (void)lr;
    const int64_t n = p->value.numel();
#pragma omp parallel for simd if (n > 32768)
    for (int64_t j = 0; j < n; ++j) {
      const float grad = mask ? g[j] * mask[j] : g[j];
      m[j] = b1 * m[j] + (1 - b1) * grad;
      v[j] = b2 * v[j] + (1 - b2) * grad * grad;
      w[j] = w[j] * decay - step * m[j] / (std::sqrt(v[j]) * inv_sqrt_bias2 + eps);
      if (mask) w[j] *= mask[j];
    }
  }
}

}  // namespace tinyopt::nn
