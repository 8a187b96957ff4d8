// cuda.naive qgemm: one thread per output element, the CUDA twin of
// backends/cpu/qgemm_naive.cpp, with the K loop in 4-value groups on __dp4a
// (four s8 x s8 products added to an i32 in one instruction).
//
// __dp4a has no u8 x s8 form, so activations enter as a - 128 (the top bit
// flipped, an s8) and the thread also sums its weight row (dp4a against
// 0x01010101); then
//   acc = sum (a - 128) w + (128 - a_zero) * sum w + bias,
// exact in i32. Bytes are gathered one by one (rows need not be 4-byte
// aligned: K is arbitrary), the tail group padded with zero weights.
#include "backends/cuda/cuda_common.cuh"
#include "backends/cuda/cuda_kernels_quant.h"
#include "backends/cuda/quant_output.cuh"

namespace tinyopt::cuda {

namespace {

constexpr int kBlockX = 32, kBlockY = 8;

__global__ void qgemm_naive_kernel(const uint8_t* a, const int8_t* w, const int32_t* bias, QuantOutputDevice out,
                                   int64_t m, int64_t n, int64_t k, int32_t a_zero) {
  const int64_t col = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (col >= n) return;
  for (int64_t row = static_cast<int64_t>(blockIdx.y) * blockDim.y + threadIdx.y; row < m;
       row += static_cast<int64_t>(gridDim.y) * blockDim.y) {
    const uint8_t* ar = a + row * k;
    const int8_t* wr = w + col * k;
    int dot = 0, wsum = 0;
    for (int64_t p = 0; p < k; p += 4) {
      const uint8_t a0 = ar[p], a1 = p + 1 < k ? ar[p + 1] : 128, a2 = p + 2 < k ? ar[p + 2] : 128,
                    a3 = p + 3 < k ? ar[p + 3] : 128;
      const int8_t w0 = wr[p], w1 = p + 1 < k ? wr[p + 1] : 0, w2 = p + 2 < k ? wr[p + 2] : 0,
                   w3 = p + 3 < k ? wr[p + 3] : 0;
      const int wv = pack_s8(w0, w1, w2, w3);
      dot = __dp4a(pack_u8_as_s8(a0, a1, a2, a3), wv, dot);
      wsum = __dp4a(0x01010101, wv, wsum);
    }
    const int32_t acc = dot + (128 - a_zero) * wsum + (bias ? bias[col] : 0);
    out.store(acc, col, row * n + col);
  }
}

}  // namespace

bool qgemm_cuda_supports(const QGemmArgs& args) {
  const auto ok = [](const Tensor& t) { return !t.defined() || (t.is_contiguous() && t.device().is_cuda()); };
  return ok(args.a) && ok(args.w) && ok(args.bias) && ok(args.y) && ok(args.out.multiplier) && ok(args.out.shift) &&
         ok(args.out.scale);
}

void qgemm_naive_run(const QGemmArgs& args) {
  const int64_t m = args.m(), n = args.n(), k = args.k();
  if (m == 0 || n == 0) return;
  set_device(args.y.device().index);
  const dim3 block(kBlockX, kBlockY);
  const int64_t blocks_y = (m + kBlockY - 1) / kBlockY;
  const dim3 grid(static_cast<unsigned int>((n + kBlockX - 1) / kBlockX),
                  static_cast<unsigned int>(blocks_y < kMaxGridY ? blocks_y : kMaxGridY));
  qgemm_naive_kernel<<<grid, block>>>(args.a.data<uint8_t>(), args.w.data<int8_t>(),
                                      args.bias.defined() ? args.bias.data<int32_t>() : nullptr,
                                      QuantOutputDevice::of(args.out, args.y), m, n, k, args.a_zero);
  CUDA_CHECK_LAUNCH("qgemm_naive_kernel");
}

}  // namespace tinyopt::cuda
