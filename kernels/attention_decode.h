// One decode step of attention against a KV cache, written once: the float64
// reference (the conformance oracle) and the cost formula.
//
// q and out are [B, H, hd]; k and v are the cache [B, H, S, hd] (HuggingFace's
// past_key_values layout) of which positions 0 .. L-1 are attended:
//   s_j = (q . k_j) / sqrt(hd),  p = softmax(s),  out = sum_j p_j v_j.
// The causal rule is implicit: the cache holds only the past and the new token.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "kernels/cost.h"

namespace tinyopt::kernels {

// Per (batch, head, key): a q.k dot and a p*v update (4 hd flops) plus ~20 for
// the exp and the softmax bookkeeping. Bytes: the L keys and values read once,
// q read and out written.
inline OpCost attention_decode_cost(int64_t b, int64_t h, int64_t hd, int64_t length) {
  const double keys = double(b) * h * length;
  return {keys * (4.0 * hd + 20.0), 4.0 * (2.0 * keys * hd + 2.0 * double(b) * h * hd)};
}

inline void attention_decode_ref(const double* q, const double* k, const double* v, double* out, int64_t B,
                                 int64_t H, int64_t S, int64_t hd, int64_t L) {
  const double scale = 1.0 / std::sqrt(double(hd));
  std::vector<double> p(static_cast<size_t>(L));
  for (int64_t bh = 0; bh < B * H; ++bh) {
    const double* qr = q + bh * hd;
    const double* kb = k + bh * S * hd;
    const double* vb = v + bh * S * hd;
    double m = -INFINITY;
    for (int64_t j = 0; j < L; ++j) {
      double s = 0;
      for (int64_t d = 0; d < hd; ++d) s += qr[d] * kb[j * hd + d];
      p[j] = s * scale;
      m = std::max(m, p[j]);
    }
    double sum = 0;
    for (int64_t j = 0; j < L; ++j) sum += p[j] = std::exp(p[j] - m);
    for (int64_t d = 0; d < hd; ++d) {
      double acc = 0;
      for (int64_t j = 0; j < L; ++j) acc += p[j] * vb[j * hd + d];
      out[bh * hd + d] = acc / sum;
    }
  }
}

}  // namespace tinyopt::kernels
