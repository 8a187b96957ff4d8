// cuda.simt embedding: out[i, :] = table[ids[i], :], ids i32 or i64 of any
// shape, flattened (the twin of backends/cpu/embedding.cpp).
//
// A gather: one block per id (grid-stride over ids), its threads copy the
// D floats of the row (coalesced reads and writes). The ids live on the
// device, so they cannot be checked on the host before the launch as the CPU
// kernel does: each block checks its id instead, and an id outside [0, V)
// reads nothing (the output row is zero-filled) and lowers a device-side
// "first bad position" flag with atomicMin. After the launch the host reads
// the flag back (one small synchronizing copy) and throws tinyopt::Error
// naming the first bad position and its value, like the CPU.
#include "backends/cuda/cuda_common.cuh"
#include "backends/cuda/cuda_kernels_nn.h"
#include "backends/cuda/cuda_scratch.cuh"

namespace tinyopt::cuda {

namespace {

constexpr int kThreadsPerBlock = 128;
constexpr int64_t kMaxBlocks = int64_t{1} << 20;

template <class Index>
__global__ void embedding_f32_kernel(const Index* __restrict__ ids, const float* __restrict__ table,
                                     float* __restrict__ out, int64_t n, int64_t vocab, int64_t d,
                                     unsigned long long* first_bad) {
  for (int64_t i = blockIdx.x; i < n; i += gridDim.x) {
    const int64_t id = static_cast<int64_t>(ids[i]);
    float* dst = out + i * d;
    if (id < 0 || id >= vocab) {
      if (threadIdx.x == 0) atomicMin(first_bad, static_cast<unsigned long long>(i));
      for (int64_t j = threadIdx.x; j < d; j += blockDim.x) dst[j] = 0.0f;
      continue;
    }
    const float* src = table + id * d;
    for (int64_t j = threadIdx.x; j < d; j += blockDim.x) dst[j] = src[j];
  }
}

}  // namespace

bool embedding_supports(const EmbeddingArgs& args) {
  const Tensor& ids = args.ids;
  return (ids.dtype() == DType::i32 || ids.dtype() == DType::i64) && ids.is_contiguous() && ids.device().is_cuda() &&
         is_cuda_f32(args.table) && is_cuda_f32(args.out);
}

void embedding_run(const EmbeddingArgs& args) {
  const int64_t n = args.ids.numel();
  const int64_t vocab = args.table.size(0), d = args.table.size(1);
  if (n == 0) return;
  const int device = args.out.device().index;
  ScratchLease scratch(device, sizeof(unsigned long long));
  auto* first_bad = scratch.as<unsigned long long>();
  bad_index_reset(first_bad);
  const auto blocks = static_cast<unsigned int>(n < kMaxBlocks ? n : kMaxBlocks);
  const bool i32 = args.ids.dtype() == DType::i32;
  if (i32) {
    embedding_f32_kernel<int32_t><<<blocks, kThreadsPerBlock>>>(args.ids.data<int32_t>(), args.table.data<float>(),
                                                                args.out.data<float>(), n, vocab, d, first_bad);
  } else {
    embedding_f32_kernel<int64_t><<<blocks, kThreadsPerBlock>>>(args.ids.data<int64_t>(), args.table.data<float>(),
                                                                args.out.data<float>(), n, vocab, d, first_bad);
  }
  CUDA_CHECK_LAUNCH("embedding_f32_kernel");
  const unsigned long long bad = bad_index_read(first_bad);
  if (bad != kNoBadIndex) {
    const int64_t value = read_index_value(args.ids.raw_data(), i32 ? 4 : 8, bad);
    fail("embedding: id {} at index {} is outside the vocabulary of {} rows [0, {})", value, bad, vocab, vocab);
  }
}

}  // namespace tinyopt::cuda
