// Causal multi-head self-attention on nanoGPT's fused layout, written once:
// the float64 references (the conformance oracle) and the cost formulas.
//
// qkv is [B, T, 3C]: q = qkv[..., 0:C], k = qkv[..., C:2C], v = qkv[..., 2C:3C],
// each split into H heads of hd = C / H columns (head h owns columns
// h*hd .. h*hd+hd-1 of its third). For every (b, h) and query position t:
//   s_j = (q_t . k_j) / sqrt(hd) for j <= t (the causal mask: no future keys)
//   p_j = softmax_j(s),  out[b, t, h*hd : h*hd+hd] = sum_j p_j v_j
// probs[b, h, t, j] = p_j, and 0 for j > t.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "kernels/cost.h"

namespace tinyopt::kernels {

// (query, key) pairs the causal mask keeps: T (T + 1) / 2 per (batch, head).
inline double attention_pairs(int64_t b, int64_t t, int64_t h) { return double(b) * h * t * (t + 1) / 2.0; }

// Forward: per pair a q.k dot and a p*v update (2 hd FMAs = 4 hd flops) plus
// ~20 for the exp, max and sum. Bytes: qkv and out once, plus probs if saved.
inline OpCost attention_cost(int64_t b, int64_t t, int64_t c, int64_t h, bool with_probs) {
  const double hd = double(c) / double(h);
  const double pairs = attention_pairs(b, t, h);
  const double bytes = 4.0 * (double(b) * t * 4 * c + (with_probs ? double(b) * h * t * t : 0.0));
  return {pairs * (4.0 * hd + 20.0), bytes};
}

// Backward: per pair four hd-long FMA chains (dP = dO.V, dQ += dS K, dK += dS Q,
// dV += P dO) = 8 hd flops, plus ~5 for dS. Reads qkv, probs and dout, writes dqkv.
inline OpCost attention_backward_cost(int64_t b, int64_t t, int64_t c, int64_t h) {
  const double hd = double(c) / double(h);
  const double pairs = attention_pairs(b, t, h);
  const double bytes = 4.0 * (double(b) * t * 7 * c + double(b) * h * t * t);
  return {pairs * (8.0 * hd + 5.0), bytes};
}

// probs may be null.
inline void attention_ref(const double* qkv, double* out, double* probs, int64_t B, int64_t T, int64_t C, int64_t H) {
  const int64_t hd = C / H;
  const double scale = 1.0 / std::sqrt(double(hd));
  std::vector<double> p(static_cast<size_t>(T));
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t h = 0; h < H; ++h) {
      for (int64_t t = 0; t < T; ++t) {
        const double* q = qkv + (b * T + t) * 3 * C + h * hd;
        double m = -INFINITY;
        for (int64_t j = 0; j <= t; ++j) {
          const double* k = qkv + (b * T + j) * 3 * C + C + h * hd;
          double s = 0;
          for (int64_t d = 0; d < hd; ++d) s += q[d] * k[d];
          p[j] = s * scale;
          m = std::max(m, p[j]);
        }
        double sum = 0;
        for (int64_t j = 0; j <= t; ++j) sum += p[j] = std::exp(p[j] - m);
        for (int64_t j = 0; j <= t; ++j) p[j] /= sum;
        double* o = out + (b * T + t) * C + h * hd;
        for (int64_t d = 0; d < hd; ++d) {
          double acc = 0;
          for (int64_t j = 0; j <= t; ++j) acc += p[j] * qkv[(b * T + j) * 3 * C + 2 * C + h * hd + d];
          o[d] = acc;
        }
        if (probs != nullptr) {
          double* row = probs + ((b * H + h) * T + t) * T;
          for (int64_t j = 0; j < T; ++j) row[j] = j <= t ? p[j] : 0.0;
        }
      }
    }
  }
}

// Analytic gradient (the conformance table checks the kernel against finite
// differences of attention_ref; this closed form lets tests check larger
// shapes, where finite differences would take too long):
//   dV_j += p_tj dO_t;  dP_tj = dO_t . V_j;  dS_tj = p_tj (dP_tj - sum_i p_ti dP_ti)
//   dQ_t += scale dS_tj K_j;  dK_j += scale dS_tj Q_t
inline void attention_backward_ref(const double* qkv, const double* dout, double* dqkv, int64_t B, int64_t T,
                                   int64_t C, int64_t H) {
  const int64_t hd = C / H;
  const double scale = 1.0 / std::sqrt(double(hd));
  std::vector<double> probs(static_cast<size_t>(B * H * T * T));
  std::vector<double> out(static_cast<size_t>(B * T * C));
  attention_ref(qkv, out.data(), probs.data(), B, T, C, H);
  std::fill(dqkv, dqkv + B * T * 3 * C, 0.0);
  std::vector<double> dp(static_cast<size_t>(T));
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t h = 0; h < H; ++h) {
      auto q = [&](int64_t t) { return qkv + (b * T + t) * 3 * C + h * hd; };
      auto dq = [&](int64_t t) { return dqkv + (b * T + t) * 3 * C + h * hd; };
      for (int64_t t = 0; t < T; ++t) {
        const double* p = probs.data() + ((b * H + h) * T + t) * T;
        const double* dot = dout + (b * T + t) * C + h * hd;
        double dsum = 0;
        for (int64_t j = 0; j <= t; ++j) {
          double s = 0;
          for (int64_t d = 0; d < hd; ++d) s += dot[d] * q(j)[2 * C + d];
          dp[j] = s;
          dsum += p[j] * s;
          for (int64_t d = 0; d < hd; ++d) dq(j)[2 * C + d] += p[j] * dot[d];
        }
        for (int64_t j = 0; j <= t; ++j) {
          const double ds = p[j] * (dp[j] - dsum) * scale;
          for (int64_t d = 0; d < hd; ++d) {
            dq(t)[d] += ds * q(j)[C + d];
            dq(j)[C + d] += ds * q(t)[d];
          }
        }
      }
    }
  }
}

}  // namespace tinyopt::kernels
