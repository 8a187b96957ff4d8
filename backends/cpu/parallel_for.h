// A loop that is split across the OpenMP team only when it is worth it.
//
// Why not `#pragma omp parallel for if (parallel)`: with the condition false
// OpenMP still opens a one-thread region, which (1) costs ~0.4 us of team
// set-up, a lot next to a batch-1 layer of a few microseconds, and (2) makes
// any parallel region the body opens a *nested* one, for which libgomp starts
// new OS threads on every call instead of reusing its pool: a batch-1 conv
// whose GEMM threads itself took ~30 us instead of ~7 us at 2 threads.
// Here the serial case never touches OpenMP.
#pragma once

#include <cstdint>

namespace tinyopt::cpu {

template <class Body>
void parallel_for_if(bool parallel, int64_t n, const Body& body) {
  if (parallel) {
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; ++i) body(i);
  } else {
    for (int64_t i = 0; i < n; ++i) body(i);
  }
}

}  // namespace tinyopt::cpu
