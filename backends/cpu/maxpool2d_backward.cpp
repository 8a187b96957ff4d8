// cpu.simd maxpool2d_backward: dx = zeros, then dx[argmax] += dy, plane by
// plane. Planes are independent (argmax indexes within its own (n, c) plane),
// so OpenMP splits the N*C planes across threads with no atomics; overlapping
// windows that picked the same input add into it within one thread.
//
// argmax comes from the caller, so every index is checked against the plane
// before it is used as an address: a bad one is skipped, remembered, and
// reported as a tinyopt::Error after the parallel loop (an exception must not
// leave an OpenMP region).
#include <algorithm>
#include <cstdint>
#include <limits>

#include "backends/cpu/cpu_kernels_cnn.h"

namespace tinyopt::cpu {

bool maxpool2d_backward_supports(const MaxPool2dBackwardArgs& args) {
  return args.dy.is_contiguous() && args.argmax.is_contiguous() && args.dx.is_contiguous();
}

void maxpool2d_backward_run(const MaxPool2dBackwardArgs& args) {
  const int64_t planes = args.dy.size(0) * args.dy.size(1);
  const int64_t in_plane = args.dx.size(2) * args.dx.size(3);
  const int64_t out_plane = args.dy.size(2) * args.dy.size(3);
  const float* dy = args.dy.data<float>();
  const int32_t* argmax = args.argmax.data<int32_t>();
  float* dx = args.dx.data<float>();

  int64_t bad_at = std::numeric_limits<int64_t>::max();  // first (lowest) flat position of a bad index
#pragma omp parallel for schedule(static) if (planes * (in_plane + out_plane) >= 65536)
  for (int64_t plane = 0; plane < planes; ++plane) {
    float* dxp = dx + plane * in_plane;
    const float* dyp = dy + plane * out_plane;
    const int32_t* ap = argmax + plane * out_plane;
    std::fill(dxp, dxp + in_plane, 0.0f);
    int64_t my_bad = -1;
    for (int64_t i = 0; i < out_plane; ++i) {
      const int64_t at = ap[i];
      if (at < 0 || at >= in_plane) {
        if (my_bad < 0) my_bad = plane * out_plane + i;
        continue;
      }
      dxp[at] += dyp[i];
    }
    if (my_bad >= 0) {
#pragma omp critical(tinyopt_maxpool2d_backward_bad)
      bad_at = std::min(bad_at, my_bad);
    }
  }
  TINYOPT_CHECK(bad_at == std::numeric_limits<int64_t>::max(),
                "maxpool2d_backward: argmax {} at flat position {} is outside its {}x{} plane (expected 0 <= index < {})",
                argmax[bad_at], bad_at, args.dx.size(2), args.dx.size(3), in_plane);
}

}  // namespace tinyopt::cpu
