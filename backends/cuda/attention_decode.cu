// CUDA attention_decode: one decode step of attention against the KV cache
// (the twin of backends/cpu/attention_decode_{naive,blocked}.cpp).
//
// q and out are [B, H, hd]; the cache K, V is [B, H, S, hd] (HuggingFace's
// layout), positions 0 .. L-1 attended. A decode step is memory-bound: every
// cached key and value is read once for ~4 flops per float, so what matters is
// reading K and V once, coalesced, with enough blocks in flight.
//
//   cuda.naive  one thread per (batch, head), two passes over the keys (max,
//               then exp/sum/accumulate into its output row). B*H threads in
//               all: at B=1, H=4 four threads do everything. The baseline.
//   cuda.tiled  one block of 4 warps per (batch, head). q sits in shared
//               memory; warp w takes keys w, w+4, w+8, ...: its 32 lanes read
//               one key row (hd floats, coalesced), reduce the dot product with
//               shuffles, and run an online softmax (running max m, sum l) with
//               the value row accumulated in registers (lane owns columns
//               lane, lane+32, ...; hd <= 256). The four warps' (m, l, acc)
//               are merged through shared memory at the end. K and V are each
//               read exactly once.
//
// Validated on the host only by compiling (this machine has no GPU); the
// conformance table runs both variants against the float64 reference on a
// machine with one.
#include <cmath>

#include "backends/cuda/attention_decode.h"
#include "backends/cuda/cuda_common.cuh"
#include "backends/cuda/warp_reduce.cuh"

namespace tinyopt::cuda {

namespace {

constexpr int kNaiveThreads = 128;
constexpr int kWarps = 4;
constexpr int kMaxPerLane = 8;  // hd <= 256 for cuda.tiled
constexpr int64_t kMaxHeadDim = kWarpSize * kMaxPerLane;

__global__ void attention_decode_naive_kernel(const float* __restrict__ q, const float* __restrict__ k,
                                              const float* __restrict__ v, float* __restrict__ out, int64_t BH,
                                              int64_t S, int64_t hd, int64_t L, float scale) {
  const int64_t bh = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (bh >= BH) return;
  const float* qr = q + bh * hd;
  const float* kb = k + bh * S * hd;
  const float* vb = v + bh * S * hd;
  float* o = out + bh * hd;
  float m = -INFINITY;
  for (int64_t j = 0; j < L; ++j) {
    float s = 0.0f;
    for (int64_t d = 0; d < hd; ++d) s += qr[d] * kb[j * hd + d];
    m = fmaxf(m, s * scale);
  }
  for (int64_t d = 0; d < hd; ++d) o[d] = 0.0f;
  float sum = 0.0f;
  for (int64_t j = 0; j < L; ++j) {
    float s = 0.0f;
    for (int64_t d = 0; d < hd; ++d) s += qr[d] * kb[j * hd + d];
    const float e = expf(s * scale - m);
    sum += e;
    for (int64_t d = 0; d < hd; ++d) o[d] += e * vb[j * hd + d];
  }
  const float inv = 1.0f / sum;
  for (int64_t d = 0; d < hd; ++d) o[d] *= inv;
}

// Dynamic shared memory: q [hd], then per warp m, l and acc [hd].
__global__ void attention_decode_tiled_kernel(const float* __restrict__ q, const float* __restrict__ k,
                                              const float* __restrict__ v, float* __restrict__ out, int64_t S,
                                              int64_t hd, int64_t L, float scale) {
  extern __shared__ float smem[];
  float* qs = smem;
  float* ms = qs + hd;
  float* ls = ms + kWarps;
  float* accs = ls + kWarps;  // [kWarps][hd]
  const int64_t bh = blockIdx.x;
  const int warp = threadIdx.x / kWarpSize, lane = threadIdx.x % kWarpSize;
  for (int64_t d = threadIdx.x; d < hd; d += blockDim.x) qs[d] = q[bh * hd + d];
  __syncthreads();
  const float* kb = k + bh * S * hd;
  const float* vb = v + bh * S * hd;

  float acc[kMaxPerLane];
#pragma unroll
  for (int i = 0; i < kMaxPerLane; ++i) acc[i] = 0.0f;
  float m = -INFINITY, l = 0.0f;
  for (int64_t j = warp; j < L; j += kWarps) {
    const float* kr = kb + j * hd;
    float dot = 0.0f;
#pragma unroll
    for (int i = 0; i < kMaxPerLane; ++i) {
      const int64_t d = lane + i * kWarpSize;
      if (d < hd) dot += qs[d] * kr[d];
    }
    const float s = warp_sum(dot) * scale;
    const float m_new = fmaxf(m, s);
    const float alpha = expf(m - m_new);  // 0 on the warp's first key (m = -inf)
    const float p = expf(s - m_new);
    l = l * alpha + p;
    m = m_new;
    const float* vr = vb + j * hd;
#pragma unroll
    for (int i = 0; i < kMaxPerLane; ++i) {
      const int64_t d = lane + i * kWarpSize;
      if (d < hd) acc[i] = acc[i] * alpha + p * vr[d];
    }
  }
  if (lane == 0) {
    ms[warp] = m;
    ls[warp] = l;
  }
#pragma unroll
  for (int i = 0; i < kMaxPerLane; ++i) {
    const int64_t d = lane + i * kWarpSize;
    if (d < hd) accs[warp * hd + d] = acc[i];
  }
  __syncthreads();
  // Merge: a warp that saw no key (L < kWarps) has m = -inf and weight 0.
  float m_all = -INFINITY;
  for (int w = 0; w < kWarps; ++w) m_all = fmaxf(m_all, ms[w]);
  float l_all = 0.0f;
  float weight[kWarps];
  for (int w = 0; w < kWarps; ++w) {
    weight[w] = ms[w] == -INFINITY ? 0.0f : expf(ms[w] - m_all);
    l_all += weight[w] * ls[w];
  }
  const float inv = 1.0f / l_all;
  for (int64_t d = threadIdx.x; d < hd; d += blockDim.x) {
    float o = 0.0f;
    for (int w = 0; w < kWarps; ++w) o += weight[w] * accs[w * hd + d];
    out[bh * hd + d] = o * inv;
  }
}

bool cuda_f32(const Tensor& t) { return t.dtype() == DType::f32 && t.is_contiguous() && t.device().is_cuda(); }

bool decode_supports(const AttentionDecodeArgs& a) {
  return cuda_f32(a.q) && cuda_f32(a.k_cache) && cuda_f32(a.v_cache) && cuda_f32(a.out);
}

bool decode_tiled_supports(const AttentionDecodeArgs& a) { return decode_supports(a) && a.q.size(2) <= kMaxHeadDim; }

void decode_naive_run(const AttentionDecodeArgs& a) {
  set_device(a.out.device().index);
  const int64_t BH = a.q.size(0) * a.q.size(1), hd = a.q.size(2);
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  const unsigned int blocks = static_cast<unsigned int>((BH + kNaiveThreads - 1) / kNaiveThreads);
  attention_decode_naive_kernel<<<blocks, kNaiveThreads>>>(a.q.data<float>(), a.k_cache.data<float>(),
                                                           a.v_cache.data<float>(), a.out.data<float>(), BH,
                                                           a.k_cache.size(2), hd, a.length, scale);
  CUDA_CHECK_LAUNCH("attention_decode_naive_kernel");
}

void decode_tiled_run(const AttentionDecodeArgs& a) {
  set_device(a.out.device().index);
  const int64_t BH = a.q.size(0) * a.q.size(1), hd = a.q.size(2);
  TINYOPT_CHECK(BH <= int64_t{2147483647}, "attention_decode cuda.tiled: B*H = {} is too many blocks", BH);
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  const size_t shared = sizeof(float) * static_cast<size_t>(hd + 2 * kWarps + kWarps * hd);
  attention_decode_tiled_kernel<<<static_cast<unsigned int>(BH), kWarps * kWarpSize, shared>>>(
      a.q.data<float>(), a.k_cache.data<float>(), a.v_cache.data<float>(), a.out.data<float>(), a.k_cache.size(2), hd,
      a.length, scale);
  CUDA_CHECK_LAUNCH("attention_decode_tiled_kernel");
}

}  // namespace

void register_attention_decode_variants() {
  ops::attention_decode.add({"cuda.naive", DeviceType::cuda, 10, decode_supports, decode_naive_run});
  ops::attention_decode.add({"cuda.tiled", DeviceType::cuda, 50, decode_tiled_supports, decode_tiled_run});
}

}  // namespace tinyopt::cuda
