// cpu.naive attention_decode: the plain two-pass loops. For every (batch,
// head): scores s_j = q . k_j / sqrt(hd) over the L cached keys, a
// max-subtracted softmax, then out = sum_j p_j v_j. One thread, libm exp.
#include <cmath>
#include <vector>

#include "backends/cpu/cpu_kernels_transformer.h"

namespace tinyopt::cpu {

bool attention_decode_naive_supports(const AttentionDecodeArgs&) { return true; }  // validate() checked contiguity

void attention_decode_naive_run(const AttentionDecodeArgs& args) {
  const int64_t B = args.q.size(0), H = args.q.size(1), hd = args.q.size(2);
  const int64_t S = args.k_cache.size(2), L = args.length;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  const float* q = args.q.data<float>();
  const float* k = args.k_cache.data<float>();
  const float* v = args.v_cache.data<float>();
  float* out = args.out.data<float>();
  std::vector<float> p(static_cast<size_t>(L));
  for (int64_t bh = 0; bh < B * H; ++bh) {
    const float* qr = q + bh * hd;
    const float* kb = k + bh * S * hd;
    const float* vb = v + bh * S * hd;
    float m = -INFINITY;
    for (int64_t j = 0; j < L; ++j) {
      float s = 0;
      for (int64_t d = 0; d < hd; ++d) s += qr[d] * kb[j * hd + d];
      p[j] = s * scale;
      if (p[j] > m) m = p[j];
    }
    float sum = 0;
    for (int64_t j = 0; j < L; ++j) {
      p[j] = std::exp(p[j] - m);
      sum += p[j];
    }
    float* o = out + bh * hd;
    for (int64_t d = 0; d < hd; ++d) {
      float acc = 0;
      for (int64_t j = 0; j < L; ++j) acc += p[j] * vb[j * hd + d];
      o[d] = acc / sum;
    }
  }
}

}  // namespace tinyopt::cpu
