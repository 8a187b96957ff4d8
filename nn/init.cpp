#include "nn/init.h"

namespace tinyopt::nn {

void init_uniform(Tensor& t, double bound, Rng& rng) {
  float* p = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = static_cast<float>(rng.uniform(-bound, bound));
}

void init_normal(Tensor& t, double std, Rng& rng) {
  float* p = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = static_cast<float>(rng.normal(0.0, std));
}

}  // namespace tinyopt::nn
