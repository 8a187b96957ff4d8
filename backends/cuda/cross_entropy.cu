// cuda.simt cross_entropy: mean over rows of logsumexp(x) - x[target] for
// logits [N, K] and i32/i64 targets [N], with the optional gradient
// dlogits = (softmax - onehot) / N (the twin of backends/cpu/cross_entropy.cpp).
//
// Two kernels:
//   1. one warp per row (8 rows per block): the row max and sum of
//      exp(x - max) by warp-stride loops and butterfly reductions, the row's
//      loss (max - x[t]) + log(sum) in double (the difference first, so a large
//      common offset cancels exactly, as on the CPU) into a scratch array, and
//      dlogits in the same pass when wanted;
//   2. one block adds the N row losses in a fixed order (strided per thread,
//      then a shared-memory tree) and writes loss[0] = total / N: deterministic,
//      no float atomics.
// Targets live on the device, so each row checks its own: a target outside
// [0, K) is never used as an index (the row's loss is 0 and dlogits gets no
// onehot), and it lowers a "first bad row" flag that the host reads back after
// the launch (one small synchronizing copy) to throw tinyopt::Error.
#include "backends/cuda/cuda_common.cuh"
#include "backends/cuda/cuda_kernels_nn.h"
#include "backends/cuda/cuda_scratch.cuh"
#include "backends/cuda/warp_reduce.cuh"
#include "kernels/fast_math.h"

namespace tinyopt::cuda {

namespace {

constexpr int kWarpsPerBlock = 8;
constexpr int kReduceThreads = 256;

template <class Index>
__global__ void cross_entropy_rows_kernel(const float* __restrict__ logits, const Index* __restrict__ targets,
                                          double* __restrict__ losses, float* __restrict__ dlogits, int64_t n,
                                          int64_t k, float inv_batch, unsigned long long* first_bad) {
  const int lane = static_cast<int>(threadIdx.x) % kWarpSize;
  const int64_t warp = static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + threadIdx.x / kWarpSize;
  const int64_t warps = static_cast<int64_t>(gridDim.x) * kWarpsPerBlock;
  for (int64_t row = warp; row < n; row += warps) {
    const float* x = logits + row * k;
    const int64_t t = static_cast<int64_t>(targets[row]);  // same address for all lanes: one broadcast load
    const bool valid = t >= 0 && t < k;
    float m = -INFINITY;
    for (int64_t j = lane; j < k; j += kWarpSize) m = fmaxf(m, x[j]);
    m = warp_max(m);
    float sum = 0.0f;
    for (int64_t j = lane; j < k; j += kWarpSize) sum += kernels::exp_f32(x[j] - m);
    sum = warp_sum(sum);
    if (dlogits != nullptr) {
      float* g = dlogits + row * k;
      const float scale = inv_batch / sum;  // softmax / N in one multiply
      for (int64_t j = lane; j < k; j += kWarpSize) {
        float v = kernels::exp_f32(x[j] - m) * scale;
        if (j == t) v -= inv_batch;
        g[j] = v;
      }
    }
    if (lane == 0) {
      if (valid) {
        losses[row] = static_cast<double>(m - x[t]) + log(static_cast<double>(sum));
      } else {
        losses[row] = 0.0;
        atomicMin(first_bad, static_cast<unsigned long long>(row));
      }
    }
  }
}

// One block: loss[0] = (sum of losses in a fixed order) / n.
__global__ void cross_entropy_mean_kernel(const double* __restrict__ losses, float* __restrict__ loss, int64_t n) {
  __shared__ double partial[kReduceThreads];
  double acc = 0.0;
  for (int64_t r = threadIdx.x; r < n; r += kReduceThreads) acc += losses[r];
  partial[threadIdx.x] = acc;
  __syncthreads();
  for (int half = kReduceThreads / 2; half > 0; half /= 2) {
    if (static_cast<int>(threadIdx.x) < half) partial[threadIdx.x] += partial[threadIdx.x + half];
    __syncthreads();
  }
  if (threadIdx.x == 0) loss[0] = static_cast<float>(partial[0] / static_cast<double>(n));
}

}  // namespace

bool cross_entropy_supports(const CrossEntropyArgs& args) {
  const Tensor& t = args.targets;
  return is_cuda_f32(args.logits) && (t.dtype() == DType::i32 || t.dtype() == DType::i64) && t.is_contiguous() &&
         t.device().is_cuda() && is_cuda_f32(args.loss) && is_cuda_f32_or_absent(args.dlogits);
}

void cross_entropy_run(const CrossEntropyArgs& args) {
  const int64_t n = args.logits.size(0), k = args.logits.size(1);  // validate() guarantees n > 0
  const int device = args.loss.device().index;
  const size_t flag_bytes = scratch_align(sizeof(unsigned long long));
  ScratchLease scratch(device, flag_bytes + static_cast<size_t>(n) * sizeof(double));
  auto* first_bad = scratch.as<unsigned long long>();
  auto* losses = scratch.as<double>(flag_bytes);
  bad_index_reset(first_bad);
  float* dlogits = args.dlogits.defined() ? args.dlogits.data<float>() : nullptr;
  const float inv_batch = 1.0f / static_cast<float>(n);
  const bool i32 = args.targets.dtype() == DType::i32;
  constexpr int kThreads = kWarpsPerBlock * kWarpSize;
  const unsigned int blocks = grid_size_1d(n, kWarpsPerBlock);
  if (i32) {
    cross_entropy_rows_kernel<int32_t><<<blocks, kThreads>>>(args.logits.data<float>(), args.targets.data<int32_t>(),
                                                             losses, dlogits, n, k, inv_batch, first_bad);
  } else {
    cross_entropy_rows_kernel<int64_t><<<blocks, kThreads>>>(args.logits.data<float>(), args.targets.data<int64_t>(),
                                                             losses, dlogits, n, k, inv_batch, first_bad);
  }
  CUDA_CHECK_LAUNCH("cross_entropy_rows_kernel");
  cross_entropy_mean_kernel<<<1, kReduceThreads>>>(losses, args.loss.data<float>(), n);
  CUDA_CHECK_LAUNCH("cross_entropy_mean_kernel");
  const unsigned long long bad = bad_index_read(first_bad);
  if (bad != kNoBadIndex) {
    const int64_t value = read_index_value(args.targets.raw_data(), i32 ? 4 : 8, bad);
    fail("cross_entropy: target {} at row {} is outside the {} classes [0, {})", value, bad, k, k);
  }
}

}  // namespace tinyopt::cuda
