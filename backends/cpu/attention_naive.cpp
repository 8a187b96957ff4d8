// cpu.naive attention: the textbook loops, the bottom rung of the speedup
// ladder. For every (batch, head, query t): scores s_j = q_t . k_j / sqrt(hd)
// for the keys j <= t (the causal mask), a max-subtracted softmax over them,
// then out_t = sum_j p_j v_j. One thread, scalar libm exp, k and v read
// straight out of the strided qkv rows: nothing fused, blocked or vectorised
// on purpose, so the ladder shows what cpu.blocked buys.
#include <cmath>
#include <vector>

#include "backends/cpu/cpu_kernels_transformer.h"

namespace tinyopt::cpu {

bool attention_naive_supports(const AttentionArgs& args) {
  return args.qkv.is_contiguous() && args.out.is_contiguous() && (!args.probs.defined() || args.probs.is_contiguous());
}

void attention_naive_run(const AttentionArgs& args) {
  const int64_t B = args.qkv.size(0), T = args.qkv.size(1), C = args.qkv.size(2) / 3, H = args.n_head;
  const int64_t hd = C / H;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  const float* qkv = args.qkv.data<float>();
  float* out = args.out.data<float>();
  float* probs = args.probs.defined() ? args.probs.data<float>() : nullptr;
  std::vector<float> p(static_cast<size_t>(T));
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t h = 0; h < H; ++h) {
      for (int64_t t = 0; t < T; ++t) {
        const float* q = qkv + (b * T + t) * 3 * C + h * hd;
        float m = -INFINITY;
        for (int64_t j = 0; j <= t; ++j) {
          const float* k = qkv + (b * T + j) * 3 * C + C + h * hd;
          float s = 0;
          for (int64_t d = 0; d < hd; ++d) s += q[d] * k[d];
          p[j] = s * scale;
          if (p[j] > m) m = p[j];
        }
        float sum = 0;
        for (int64_t j = 0; j <= t; ++j) {
          p[j] = std::exp(p[j] - m);
          sum += p[j];
        }
        for (int64_t j = 0; j <= t; ++j) p[j] /= sum;
        float* o = out + (b * T + t) * C + h * hd;
        for (int64_t d = 0; d < hd; ++d) {
          float acc = 0;
          for (int64_t j = 0; j <= t; ++j) acc += p[j] * qkv[(b * T + j) * 3 * C + 2 * C + h * hd + d];
          o[d] = acc;
        }
        if (probs != nullptr) {
          float* row = probs + ((b * H + h) * T + t) * T;
          for (int64_t j = 0; j < T; ++j) row[j] = j <= t ? p[j] : 0.0f;
        }
      }
    }
  }
}

}  // namespace tinyopt::cpu
