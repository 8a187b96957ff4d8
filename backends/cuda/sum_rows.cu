// cuda.simt sum_rows: out[c] = sum over rows of x[r, c], x viewed as
// [rows, cols] (the bias gradient; the twin of backends/cpu/sum_rows.cpp).
//
// A block of 32 x 8 threads owns 32 adjacent columns: thread (tx, ty) adds
// rows ty, ty + 8, ... of column tx in double (so a 60000-row column keeps
// float rounding, as on the CPU), then the 8 partial sums of a column are
// added in ty order through shared memory. A warp reads 32 consecutive floats
// of one row (coalesced), and the fixed summation order makes the result
// deterministic run to run. Columns beyond gridDim.x * 32 are covered by a
// grid-stride loop.
#include "backends/cuda/cuda_common.cuh"
#include "backends/cuda/cuda_kernels_nn.h"

namespace tinyopt::cuda {

namespace {

constexpr int kCols = 32;  // columns per block (one warp wide)
constexpr int kRowGroups = 8;

__global__ void sum_rows_f32_kernel(const float* __restrict__ x, float* __restrict__ out, int64_t rows,
                                    int64_t cols) {
  __shared__ double partial[kRowGroups][kCols];
  const int tx = static_cast<int>(threadIdx.x), ty = static_cast<int>(threadIdx.y);
  // The trip count depends only on blockIdx, so all threads reach __syncthreads together.
  for (int64_t c0 = static_cast<int64_t>(blockIdx.x) * kCols; c0 < cols; c0 += static_cast<int64_t>(gridDim.x) * kCols) {
    const int64_t c = c0 + tx;
    double acc = 0.0;
    if (c < cols)
      for (int64_t r = ty; r < rows; r += kRowGroups) acc += static_cast<double>(x[r * cols + c]);
    partial[ty][tx] = acc;
    __syncthreads();
    if (ty == 0 && c < cols) {
      double sum = 0.0;
      for (int g = 0; g < kRowGroups; ++g) sum += partial[g][tx];
      out[c] = static_cast<float>(sum);
    }
    __syncthreads();  // partial is reused by the next column block
  }
}

}  // namespace

bool sum_rows_supports(const SumRowsArgs& args) { return is_cuda_f32(args.x) && is_cuda_f32(args.out); }

void sum_rows_run(const SumRowsArgs& args) {
  const int64_t cols = args.x.size(-1);
  if (cols == 0) return;
  const int64_t rows = args.x.numel() / cols;
  set_device(args.out.device().index);
  const int64_t blocks = (cols + kCols - 1) / kCols;
  constexpr int64_t kMaxBlocks = int64_t{1} << 20;
  const dim3 block(kCols, kRowGroups);
  sum_rows_f32_kernel<<<static_cast<unsigned int>(blocks < kMaxBlocks ? blocks : kMaxBlocks), block>>>(
      args.x.data<float>(), args.out.data<float>(), rows, cols);
  CUDA_CHECK_LAUNCH("sum_rows_f32_kernel");
}

}  // namespace tinyopt::cuda
