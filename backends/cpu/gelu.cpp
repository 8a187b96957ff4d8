// cpu.simd gelu and gelu_backward (exact erf form, as torch.nn.GELU()).
// The scalar math is kernels/activations.h, shared with CUDA; here it runs in
// one `omp simd` loop compiled per ISA (simd_clones.h), so the erf polynomial
// and exp run 16 lanes wide on AVX-512. GELU is ~25 flops per element, so it
// pays to use the second core from ~16K elements (add/relu wait for 64K).
#pragma GCC optimize("no-trapping-math")  // lets AVX2/SSE vectorise the selects (simd_clones.h)

#include <algorithm>

#include "backends/cpu/cpu_kernels_transformer.h"
#include "backends/cpu/simd_clones.h"
#include "kernels/activations.h"

namespace tinyopt::cpu {

namespace {

constexpr int64_t kChunk = 4096;          // elements per OpenMP work item (16 KiB of x)
constexpr int64_t kParallelMin = 16384;   // below this one core is faster than waking two

TINYOPT_SIMD_BODY void gelu_body(const float* x, float* y, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] = kernels::gelu_scalar(x[i]);
}
TINYOPT_SIMD_CLONES(gelu_chunk, gelu_body, (const float* x, float* y, int64_t n), (x, y, n))

TINYOPT_SIMD_BODY void gelu_backward_body(const float* x, const float* dy, float* dx, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) dx[i] = dy[i] * kernels::gelu_grad_scalar(x[i]);
}
TINYOPT_SIMD_CLONES(gelu_backward_chunk, gelu_backward_body, (const float* x, const float* dy, float* dx, int64_t n),
                    (x, dy, dx, n))

}  // namespace

bool gelu_supports(const UnaryArgs& args) {
  return args.x.dtype() == DType::f32 && args.x.is_contiguous() && args.out.is_contiguous();
}

void gelu_run(const UnaryArgs& args) {
  const float* x = args.x.data<float>();
  float* y = args.out.data<float>();  // may alias x: each element is read before it is written
  const int64_t n = args.x.numel();
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; i += kChunk) gelu_chunk(x + i, y + i, std::min(kChunk, n - i));
}

bool gelu_backward_supports(const ActivationBackwardArgs& args) {
  return args.x.is_contiguous() && args.dy.is_contiguous() && args.dx.is_contiguous();
}

void gelu_backward_run(const ActivationBackwardArgs& args) {
  const float* x = args.x.data<float>();
  const float* dy = args.dy.data<float>();
  float* dx = args.dx.data<float>();
  const int64_t n = args.x.numel();
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; i += kChunk) gelu_backward_chunk(x + i, dy + i, dx + i, std::min(kChunk, n - i));
}

}  // namespace tinyopt::cpu
