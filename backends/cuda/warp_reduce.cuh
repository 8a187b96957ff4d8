// Warp-level reductions shared by the row-wise kernels (softmax, layernorm,
// cross_entropy): a butterfly of __shfl_xor_sync, after which every lane of
// the warp holds the result. All 32 lanes must call them together.
#pragma once

#include <cuda_runtime.h>

namespace tinyopt::cuda {

constexpr int kWarpSize = 32;

template <class T>
__device__ inline T warp_sum(T v) {
#pragma unroll
  for (int offset = kWarpSize / 2; offset > 0; offset /= 2) v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}

// NaN-propagating like the CPU's `x > m ? x : m` scan is not needed here: a
// NaN input makes the row's exp/sum NaN anyway, which is what the CPU yields.
__device__ inline float warp_max(float v) {
#pragma unroll
  for (int offset = kWarpSize / 2; offset > 0; offset /= 2) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, offset));
  return v;
}

}  // namespace tinyopt::cuda
