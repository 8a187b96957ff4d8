// Parameter initialisation, seeded and deterministic. Linear and Conv2d follow
// PyTorch's defaults (kaiming_uniform with a = sqrt(5), i.e. U(-1/sqrt(fan_in),
// 1/sqrt(fan_in)) for weights and biases); the GPT follows nanoGPT (normal
// with std 0.02, residual projections scaled by 1/sqrt(2 * n_layer)).
#pragma once

#include <cstdint>
#include <random>

#include "core/tensor.h"

namespace tinyopt::nn {

class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(seed) {}
  std::mt19937_64& engine() { return engine_; }
  double uniform(double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(engine_); }
  double normal(double mean, double std) { return std::normal_distribution<double>(mean, std)(engine_); }
  uint64_t next() { return engine_(); }

 private:
  std::mt19937_64 engine_;
};

void init_uniform(Tensor& t, double bound, Rng& rng);  // U(-bound, bound), f32 CPU tensor
void init_normal(Tensor& t, double std, Rng& rng);     // N(0, std)

}  // namespace tinyopt::nn
