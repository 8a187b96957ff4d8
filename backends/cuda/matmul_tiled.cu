// cuda.tiled matmul: shared-memory tiling with 4x4 register blocking, the
// middle rung between cuda.naive and cuda.cublas (the twin of
// backends/cpu/matmul_blocked.cpp).
//
// Each block of 16x16 = 256 threads computes a 64x64 tile of C. It walks K in
// steps of 16: the block copies a 64x16 slab of op(A) and a 16x64 slab of
// op(B) into shared memory, synchronises, and every thread accumulates its
// 4x4 outputs from that copy. Why this is faster than cuda.naive:
//   * shared-memory reuse: each float loaded from global memory feeds 64 FMAs
//     of the block (one per row/column of the tile) instead of one, so the
//     kernel stops being limited by global/L2 bandwidth;
//   * register reuse: per k step a thread reads 4 values of A and 4 of B from
//     shared memory and does 16 FMAs, so shared-memory bandwidth is not the
//     limit either (1 load per 2 FMAs instead of 2 loads per FMA);
//   * coalescing: the slab copies are arranged so consecutive threads read
//     consecutive addresses of whichever layout A and B are stored in, and
//     the thread->output mapping (rows ty + 16r, columns tx + 16c) makes a
//     warp's stores to C runs of 16 consecutive floats.
// Any M, N, K works: slab elements outside the matrices are loaded as 0 (they
// add nothing to the dot products) and outputs outside C are not stored.
#include "backends/cuda/cuda_common.cuh"
#include "backends/cuda/cuda_kernels.h"

namespace tinyopt::cuda {

namespace {

constexpr int kTile = 64;     // rows and columns of C per block
constexpr int kTileK = 16;    // depth of one shared-memory slab
constexpr int kThreads = 16;  // threads per block along each dimension
constexpr int kPerThread = kTile / kThreads;  // 4x4 outputs per thread
constexpr int kBlockThreads = kThreads * kThreads;
// Row padding of the shared slabs. The copies that walk along K (A not
// transposed, B transposed) have a warp write slab[p][i] for p = 0..15 and two
// values of i; with a row stride of 66 floats those 32 writes land in 32
// distinct banks (2p + i covers 0..31), where an unpadded stride of 64 would
// serialise them 16 ways.
constexpr int kPad = 2;

__global__ void __launch_bounds__(kBlockThreads)
    matmul_tiled_kernel(const float* __restrict__ a, const float* __restrict__ b, float* __restrict__ c, int64_t m,
                        int64_t n, int64_t k, bool trans_a, bool trans_b) {
  // a_slab[p][i] = op(A)[row0 + i][p0 + p], b_slab[p][j] = op(B)[p0 + p][col0 + j].
  // Storing A's slab K-major lets the inner loop read a column of it as one
  // row of shared memory, exactly like B's.
  __shared__ float a_slab[kTileK][kTile + kPad];
  __shared__ float b_slab[kTileK][kTile + kPad];

  const int tx = static_cast<int>(threadIdx.x);
  const int ty = static_cast<int>(threadIdx.y);
  const int tid = ty * kThreads + tx;
  const int64_t col0 = static_cast<int64_t>(blockIdx.x) * kTile;
  const int64_t tiles_m = (m + kTile - 1) / kTile;

  // gridDim.y is at most 65535, so very tall matrices loop over row tiles.
  // The trip count depends only on blockIdx, so every thread of the block
  // reaches the same __syncthreads() calls.
  for (int64_t tile_row = blockIdx.y; tile_row < tiles_m; tile_row += gridDim.y) {
    const int64_t row0 = tile_row * kTile;
    float acc[kPerThread][kPerThread] = {};

    for (int64_t p0 = 0; p0 < k; p0 += kTileK) {
      // ---- copy op(A)'s 64x16 slab: 1024 floats, 4 per thread ----
      for (int r = 0; r < kPerThread; ++r) {
        int i, p;
        if (!trans_a) {
          // A is [M, K]: a row's 16 slab values are contiguous, so 16
          // consecutive threads take one row (64-byte runs).
          p = tid % kTileK;
          i = tid / kTileK + r * (kBlockThreads / kTileK);
        } else {
          // A is stored [K, M]: the slab's 64 values for one p are contiguous,
          // so 64 consecutive threads take one p (256-byte runs).
          i = tid % kTile;
          p = tid / kTile + r * (kBlockThreads / kTile);
        }
        const int64_t gi = row0 + i, gp = p0 + p;
        float v = 0.0f;
        if (gi < m && gp < k) v = trans_a ? a[gp * m + gi] : a[gi * k + gp];
        a_slab[p][i] = v;
      }
      // ---- copy op(B)'s 16x64 slab, the same way round ----
      for (int r = 0; r < kPerThread; ++r) {
        int j, p;
        if (!trans_b) {
          // B is [K, N]: one p's 64 values are contiguous.
          j = tid % kTile;
          p = tid / kTile + r * (kBlockThreads / kTile);
        } else {
          // B is stored [N, K]: one column's 16 values are contiguous.
          p = tid % kTileK;
          j = tid / kTileK + r * (kBlockThreads / kTileK);
        }
        const int64_t gj = col0 + j, gp = p0 + p;
        float v = 0.0f;
        if (gj < n && gp < k) v = trans_b ? b[gj * k + gp] : b[gp * n + gj];
        b_slab[p][j] = v;
      }
      __syncthreads();  // slabs complete before anyone reads them

      // ---- 16 rank-1 updates of the thread's 4x4 block from shared memory ----
      // a_slab reads: the two ty values of a warp mean two addresses (broadcast).
      // b_slab reads: 16 consecutive tx, 16 consecutive floats, no bank conflict.
#pragma unroll
      for (int p = 0; p < kTileK; ++p) {
        float av[kPerThread], bv[kPerThread];
#pragma unroll
        for (int r = 0; r < kPerThread; ++r) av[r] = a_slab[p][ty + r * kThreads];
#pragma unroll
        for (int q = 0; q < kPerThread; ++q) bv[q] = b_slab[p][tx + q * kThreads];
#pragma unroll
        for (int r = 0; r < kPerThread; ++r)
#pragma unroll
          for (int q = 0; q < kPerThread; ++q) acc[r][q] = fmaf(av[r], bv[q], acc[r][q]);
      }
      __syncthreads();  // everyone done reading before the next copy overwrites
    }

    // ---- store: for each (r, q) a warp writes two runs of 16 consecutive floats ----
#pragma unroll
    for (int r = 0; r < kPerThread; ++r) {
      const int64_t gi = row0 + ty + r * kThreads;
      if (gi >= m) continue;
#pragma unroll
      for (int q = 0; q < kPerThread; ++q) {
        const int64_t gj = col0 + tx + q * kThreads;
        if (gj < n) c[gi * n + gj] = acc[r][q];
      }
    }
  }
}

}  // namespace

void matmul_tiled_f32(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k, bool trans_a,
                      bool trans_b) {
  if (m == 0 || n == 0) return;  // empty output: nothing to launch (K == 0 stores zeros below)
  const int64_t tiles_m = (m + kTile - 1) / kTile;
  const dim3 block(kThreads, kThreads);
  const dim3 grid(static_cast<unsigned int>((n + kTile - 1) / kTile),
                  static_cast<unsigned int>(tiles_m < kMaxGridY ? tiles_m : kMaxGridY));
  matmul_tiled_kernel<<<grid, block>>>(a, b, c, m, n, k, trans_a, trans_b);
  CUDA_CHECK_LAUNCH("matmul_tiled_kernel");
}

bool matmul_tiled_supports(const MatmulArgs& args) { return all_contiguous_f32(args); }

void matmul_tiled_run(const MatmulArgs& args) {
  set_device(args.c.device().index);
  matmul_tiled_f32(args.a.data<float>(), args.b.data<float>(), args.c.data<float>(), args.m(), args.n(), args.k(),
                   args.trans_a, args.trans_b);
}

}  // namespace tinyopt::cuda
