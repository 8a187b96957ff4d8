#include "prune/magnitude_pruner.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "nn/conv2d.h"
#include "nn/linear.h"

namespace tinyopt::prune {

namespace {

int64_t count_nonzero(const Tensor& t) {
  const float* p = t.data<float>();
  int64_t n = 0;
  for (int64_t i = 0; i < t.numel(); ++i) n += p[i] != 0.0f;
  return n;
}

void check_weights(const Tensor& w, const std::string& what) {
  TINYOPT_CHECK(w.defined() && w.dtype() == DType::f32 && w.device().is_cpu() && w.is_contiguous(),
                "{}: pruning needs a contiguous f32 CPU tensor, found {}", what,
                w.defined() ? w.describe() : std::string("nothing"));
}

// Indices of the k smallest-magnitude entries of `mags` (exactly k; ties by position).
std::vector<int64_t> smallest(const std::vector<float>& mags, int64_t k) {
  std::vector<int64_t> order(mags.size());
  std::iota(order.begin(), order.end(), 0);
  if (k <= 0) return {};
  auto less = [&](int64_t a, int64_t b) { return mags[a] < mags[b] || (mags[a] == mags[b] && a < b); };
  std::nth_element(order.begin(), order.begin() + (k - 1), order.end(), less);
  order.resize(static_cast<size_t>(k));
  return order;
}

LayerPruneStats finish_stats(const std::string& name, const Tensor& w, double target, double threshold,
                             int64_t nonzero_before) {
  LayerPruneStats s;
  s.name = name;
  s.target_sparsity = target;
  s.threshold = threshold >= 0 ? threshold : std::numeric_limits<double>::quiet_NaN();  // NaN: nothing pruned
  s.params = w.numel();
  s.nonzero_before = nonzero_before;
  s.nonzero_after = count_nonzero(w);
  s.actual_sparsity = w.numel() > 0 ? 1.0 - double(s.nonzero_after) / double(w.numel()) : 0.0;
  return s;
}

}  // namespace

void check_sparsity(double sparsity, const std::string& what) {
  TINYOPT_CHECK(std::isfinite(sparsity) && sparsity >= 0.0 && sparsity < 1.0,
                "{}: sparsity must be in [0, 1) (the fraction of weights removed), found {}", what, sparsity);
}

MaskResult MagnitudePruner::prune(const Tensor& weights, double sparsity) {
  check_sparsity(sparsity, "MagnitudePruner::prune");
  check_weights(weights, "MagnitudePruner::prune");
  const int64_t n = weights.numel();
  const float* w = weights.data<float>();
  std::vector<float> mags(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) mags[i] = std::fabs(w[i]);
  const int64_t k = static_cast<int64_t>(std::llround(sparsity * double(n)));
  MaskResult r;
  r.mask = Tensor::empty(weights.shape(), DType::f32);
  float* m = r.mask.data<float>();
  std::fill(m, m + n, 1.0f);
  double threshold = -1;
  for (int64_t i : smallest(mags, k)) {
    m[i] = 0.0f;
    threshold = std::max(threshold, double(mags[i]));
  }
  Tensor pruned = weights.clone();
  float* pw = pruned.data<float>();
  for (int64_t i = 0; i < n; ++i) pw[i] *= m[i];
  r.stats = finish_stats("", pruned, sparsity, threshold, count_nonzero(weights));
  return r;
}

std::vector<LayerPruneStats> MagnitudePruner::prune_per_layer(const std::vector<nn::Parameter*>& params,
                                                              double sparsity) {
  check_sparsity(sparsity, "prune (per layer)");
  std::vector<LayerPruneStats> out;
  for (nn::Parameter* p : params) {
    check_weights(p->value, p->name);
    const int64_t before = count_nonzero(p->value);
    MaskResult r = prune(p->value, sparsity);
    apply_mask(*p, r.mask);
    out.push_back(finish_stats(p->name, p->value, sparsity, r.stats.threshold, before));
  }
  return out;
}

std::vector<LayerPruneStats> MagnitudePruner::prune_global(const std::vector<nn::Parameter*>& params,
                                                           double sparsity) {
  check_sparsity(sparsity, "prune (global)");
  std::vector<float> mags;
  std::vector<int64_t> offsets{0};
  for (nn::Parameter* p : params) {
    check_weights(p->value, p->name);
    const float* w = p->value.data<float>();
    for (int64_t i = 0; i < p->value.numel(); ++i) mags.push_back(std::fabs(w[i]));
    offsets.push_back(static_cast<int64_t>(mags.size()));
  }
  const int64_t k = static_cast<int64_t>(std::llround(sparsity * double(mags.size())));
  std::vector<char> pruned(mags.size(), 0);
  double threshold = -1;
  for (int64_t i : smallest(mags, k)) {
    pruned[i] = 1;
    threshold = std::max(threshold, double(mags[i]));
  }
  std::vector<LayerPruneStats> out;
  for (size_t j = 0; j < params.size(); ++j) {
    nn::Parameter* p = params[j];
    const int64_t before = count_nonzero(p->value);
    Tensor mask = Tensor::empty(p->value.shape(), DType::f32);
    float* m = mask.data<float>();
    for (int64_t i = 0; i < p->value.numel(); ++i) m[i] = pruned[offsets[j] + i] ? 0.0f : 1.0f;
    apply_mask(*p, mask);
    out.push_back(finish_stats(p->name, p->value, sparsity, threshold, before));
  }
  return out;
}

void apply_mask(nn::Parameter& p, const Tensor& mask) {
  TINYOPT_CHECK(mask.defined() && mask.dtype() == DType::f32 && mask.device().is_cpu(),
                "{}: the pruning mask must be an f32 CPU tensor, found {}", p.name,
                mask.defined() ? mask.describe() : std::string("nothing"));
  TINYOPT_CHECK(mask.shape() == p.value.shape(), "{}: the mask {} does not match the weights {}", p.name,
                mask.describe(), p.value.describe());
  check_weights(p.value, p.name);
  const Tensor m = mask.contiguous();
  const float* mp = m.data<float>();
  for (int64_t i = 0; i < m.numel(); ++i)
    TINYOPT_CHECK(mp[i] == 0.0f || mp[i] == 1.0f, "{}: the mask must hold only 0 and 1, found {} at element {}",
                  p.name, mp[i], i);
  float* w = p.value.data<float>();
  for (int64_t i = 0; i < m.numel(); ++i) w[i] *= mp[i];
  p.mask = m.clone();
}

double gradual_sparsity(double final_sparsity, int step, int steps) {
  check_sparsity(final_sparsity, "gradual pruning");
  TINYOPT_CHECK(steps >= 1 && step >= 0 && step <= steps, "gradual pruning: step {} of {} is out of range", step,
                steps);
  const double left = 1.0 - double(step) / double(steps);
  return final_sparsity * (1.0 - left * left * left);
}

std::vector<nn::Parameter*> prunable_weights(nn::Model& model) {
  std::vector<nn::Parameter*> out;
  for (auto& layer : model.sequential().layers()) {
    if (auto* l = dynamic_cast<nn::Linear*>(layer.get())) out.push_back(&l->weight);
    if (auto* c = dynamic_cast<nn::Conv2d*>(layer.get())) out.push_back(&c->weight);
  }
  return out;
}

}  // namespace tinyopt::prune
