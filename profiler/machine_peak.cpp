#include "profiler/machine_peak.h"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>

#include "backends/cpu/cpu_info.h"
#include "profiler/timer.h"

namespace tinyopt {

namespace {

// 12 independent accumulators hide the 4-cycle FMA latency on two FMA pipes
// (needs >= 8 in flight); the loop body has no loads or stores.
__attribute__((target("avx512f"))) double fma_loop_avx512(long iterations) {
  __m512 acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm512_set1_ps(1.0f + 0.01f * i);
  const __m512 mul = _mm512_set1_ps(0.999999f), add = _mm512_set1_ps(1e-7f);
  for (long it = 0; it < iterations; ++it)
    for (int i = 0; i < 12; ++i) acc[i] = _mm512_fmadd_ps(acc[i], mul, add);
  __m512 sum = acc[0];
  for (int i = 1; i < 12; ++i) sum = _mm512_add_ps(sum, acc[i]);
  // Summed through memory: GCC 12 warns inside _mm512_reduce_add_ps.
  float lanes[16];
  _mm512_storeu_ps(lanes, sum);
  double total = 0;
  for (float v : lanes) total += v;
  return total;  // returned and summed by the caller, so the loop is not removed
}

__attribute__((target("avx2,fma"))) double fma_loop_avx2(long iterations) {
  __m256 acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm256_set1_ps(1.0f + 0.01f * i);
  const __m256 mul = _mm256_set1_ps(0.999999f), add = _mm256_set1_ps(1e-7f);
  for (long it = 0; it < iterations; ++it)
    for (int i = 0; i < 12; ++i) acc[i] = _mm256_fmadd_ps(acc[i], mul, add);
  __m256 sum = acc[0];
  for (int i = 1; i < 12; ++i) sum = _mm256_add_ps(sum, acc[i]);
  float lanes[8];
  _mm256_storeu_ps(lanes, sum);
  double total = 0;
  for (float v : lanes) total += v;
  return total;
}

double fma_loop_scalar(long iterations) {
  float acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = 1.0f + 0.01f * i;
  for (long it = 0; it < iterations; ++it)
    for (int i = 0; i < 12; ++i) acc[i] = acc[i] * 0.999999f + 1e-7f;
  double total = 0;
  for (float v : acc) total += v;
  return total;
}

int lanes() {
  const auto& cpu = cpu::cpu_info();
  if (cpu.avx512f) return 16;
  if (cpu.avx2 && cpu.fma) return 8;
  return 1;
}

double run_loop(long iterations) {
  const int l = lanes();
  if (l == 16) return fma_loop_avx512(iterations);
  if (l == 8) return fma_loop_avx2(iterations);
  return fma_loop_scalar(iterations);
}

volatile double g_sink = 0;

}  // namespace

const char* fp32_peak_isa() {
  const int l = lanes();
  return l == 16 ? "avx512" : l == 8 ? "avx2" : "scalar";
}

double measure_fp32_peak_gflops(int threads, double seconds) {
  const long iterations = 2'000'000;
  const double flops_per_thread = 2.0 * 12 * lanes() * static_cast<double>(iterations);
  double best = 0;
  const double end = steady_seconds() + seconds;
  // Best of several short bursts: the ceiling, not the average, is the peak.
  do {
    const double t0 = steady_seconds();
    double sink = 0;
#pragma omp parallel num_threads(threads) reduction(+ : sink)
    sink += run_loop(iterations);
    g_sink = sink;
    const double dt = steady_seconds() - t0;
    best = std::max(best, flops_per_thread * threads / dt * 1e-9);
  } while (steady_seconds() < end);
  return best;
}

}  // namespace tinyopt
