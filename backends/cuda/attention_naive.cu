// cuda.naive attention: causal multi-head self-attention on nanoGPT's fused
// qkv layout [B, T, 3C], one thread per (batch, head, query t), the bottom rung
// of the CUDA attention ladder (the twin of backends/cpu/attention_naive.cpp).
//
// Each thread runs a two-pass softmax over its keys j <= t (the causal mask):
//   pass 1: s_j = q_t . k_j / sqrt(hd), keeping only the running max m;
//   pass 2: recompute s_j, e_j = exp(s_j - m), sum += e_j and
//           out_t += e_j v_j, accumulated in place in the thread's own output row;
// then out_t /= sum. The scores are recomputed rather than stored because a
// thread has no room for T of them; with probs wanted, a third pass writes
// e_j / sum for j <= t and 0 beyond. Threads are ordered with t fastest, so a
// warp walks the same keys k_j, v_j in step (broadcast loads) until the shorter
// rows finish; its output writes are C floats apart (uncoalesced), and
// nothing is staged in shared memory: this is the baseline, not the fast path.
#include <cmath>

#include "backends/cuda/cuda_common.cuh"
#include "backends/cuda/cuda_kernels_nn.h"

namespace tinyopt::cuda {

namespace {

constexpr int kThreadsPerBlock = 128;

// probs may be null.
__global__ void attention_naive_f32_kernel(const float* __restrict__ qkv, float* __restrict__ out,
                                           float* __restrict__ probs, int64_t B, int64_t T, int64_t C, int64_t H,
                                           float scale) {
  const int64_t hd = C / H;
  const int64_t total = B * H * T;
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; idx < total; idx += step) {
    const int64_t t = idx % T;
    const int64_t h = (idx / T) % H;
    const int64_t b = idx / (T * H);
    const float* q = qkv + (b * T + t) * 3 * C + h * hd;
    const float* keys = qkv + b * T * 3 * C + C + h * hd;        // key j at keys + j * 3C
    const float* values = qkv + b * T * 3 * C + 2 * C + h * hd;  // value j at values + j * 3C
    float* o = out + (b * T + t) * C + h * hd;

    float m = -INFINITY;
    for (int64_t j = 0; j <= t; ++j) {
      const float* k = keys + j * 3 * C;
      float s = 0.0f;
      for (int64_t d = 0; d < hd; ++d) s += q[d] * k[d];
      m = fmaxf(m, s * scale);
    }

    for (int64_t d = 0; d < hd; ++d) o[d] = 0.0f;
    float sum = 0.0f;
    for (int64_t j = 0; j <= t; ++j) {
      const float* k = keys + j * 3 * C;
      float s = 0.0f;
      for (int64_t d = 0; d < hd; ++d) s += q[d] * k[d];
      const float e = expf(s * scale - m);
      sum += e;
      const float* v = values + j * 3 * C;
      for (int64_t d = 0; d < hd; ++d) o[d] += e * v[d];
    }
    const float inv = 1.0f / sum;
    for (int64_t d = 0; d < hd; ++d) o[d] *= inv;

    if (probs != nullptr) {
      float* row = probs + ((b * H + h) * T + t) * T;
      for (int64_t j = 0; j <= t; ++j) {
        const float* k = keys + j * 3 * C;
        float s = 0.0f;
        for (int64_t d = 0; d < hd; ++d) s += q[d] * k[d];
        row[j] = expf(s * scale - m) * inv;
      }
      for (int64_t j = t + 1; j < T; ++j) row[j] = 0.0f;
    }
  }
}

}  // namespace

bool attention_naive_supports(const AttentionArgs& args) {
  return is_cuda_f32(args.qkv) && is_cuda_f32(args.out) && is_cuda_f32_or_absent(args.probs);
}

void attention_naive_run(const AttentionArgs& args) {
  const int64_t B = args.qkv.size(0), T = args.qkv.size(1), C = args.qkv.size(2) / 3, H = args.n_head;
  if (B == 0 || T == 0) return;
  set_device(args.out.device().index);
  const float scale = 1.0f / std::sqrt(static_cast<float>(C / H));
  float* probs = args.probs.defined() ? args.probs.data<float>() : nullptr;
  attention_naive_f32_kernel<<<grid_size_1d(B * H * T, kThreadsPerBlock), kThreadsPerBlock>>>(
      args.qkv.data<float>(), args.out.data<float>(), probs, B, T, C, H, scale);
  CUDA_CHECK_LAUNCH("attention_naive_f32_kernel");
}

}  // namespace tinyopt::cuda
