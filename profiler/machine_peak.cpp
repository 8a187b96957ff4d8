#include "profiler/machine_peak.h"

#include <fmt/format.h>
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string_view>
#include <nlohmann/json.hpp>

#include "core/cpu_info.h"
#include "core/device_runtime.h"
#include "core/error.h"
#include "core/ops.h"
#include "io/atomic_file.h"
#include "profiler/timer.h"

namespace tinyopt {

namespace {

// Bumped when the way the roofs are measured changes, so cached peaks from an
// older method are measured again rather than trusted.
constexpr int kRoofVersion = 2;

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

namespace {

// Best GFLOP/s of the FMA loop on `threads` threads over `seconds`: the
// ceiling, not the average, is the peak.
double best_fma_gflops(int threads, double seconds) {
  const long iterations = 2'000'000;
  const double flops_per_thread = 2.0 * 12 * lanes() * static_cast<double>(iterations);
  double best = 0;
  const double end = steady_seconds() + seconds;
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

}  // namespace

double measure_fp32_peak_gflops(int threads, double seconds) {
  // The FMA loop shares nothing between cores, so `threads` times one core's
  // peak is a ceiling no kernel can pass, even when another process slowed the
  // all-thread measurement down (or one core runs a higher clock than all do
  // together); the all-thread measurement counts too, in case it is higher.
  const double one_core = best_fma_gflops(1, seconds / 2);
  return std::max(threads * one_core, threads > 1 ? best_fma_gflops(threads, seconds / 2) : 0.0);
}

namespace {

struct FreeDeleter {
  void operator()(float* p) const { std::free(p); }
};
using FloatBuffer = std::unique_ptr<float[], FreeDeleter>;

FloatBuffer aligned_floats(size_t n) {
  auto* p = static_cast<float*>(std::aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64));
  TINYOPT_CHECK(p != nullptr, "triad: could not allocate {} MiB", n * sizeof(float) >> 20);
  return FloatBuffer(p);
}

nlohmann::json read_cache(const std::string& path) {
  std::ifstream in(path);
  if (!in) return nlohmann::json::object();
  nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  return j.is_object() ? j : nlohmann::json::object();  // corrupt: start over
}

bool from_cache(const std::string& path, MachinePeaks& peaks) {
  if (path.empty()) return false;
  const nlohmann::json cache = read_cache(path);
  if (!cache.contains(peaks.key) || !cache[peaks.key].is_object()) return false;
  const nlohmann::json& e = cache[peaks.key];
  const double flops = e.value("fp32_gflops", 0.0), bw = e.value("bandwidth_gbs", 0.0);
  // Entries measured before the roofs were made ceilings (no "roof_version") are measured again.
  if (!(flops > 0 && bw > 0) || e.value("roof_version", 0) != kRoofVersion) return false;
  peaks.fp32_gflops = flops;
  peaks.bandwidth_gbs = bw;
  peaks.l2_gbs = e.value("l2_gbs", 0.0);
  peaks.l3_gbs = e.value("l3_gbs", 0.0);
  peaks.l2_capacity = e.value("l2_capacity_bytes", 0.0);
  peaks.l3_capacity = e.value("l3_capacity_bytes", 0.0);
  peaks.method = e.value("method", std::string());
  peaks.measured_at = e.value("measured_at", std::string());
  peaks.from_cache = true;
  peaks.cache_note = "cached in " + path;
  return true;
}

// Read-modify-write of the whole file, written atomically so a concurrent
// reader never sees half a file. Failure to write is not fatal: the numbers
// were measured, only their reuse is lost.
void to_cache(const std::string& path, MachinePeaks& peaks) {
  if (path.empty()) {
    peaks.cache_note = "not cached: neither XDG_CACHE_HOME nor HOME is set";
    return;
  }
  try {
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    nlohmann::json cache = read_cache(path);
    cache[peaks.key] = {{"fp32_gflops", peaks.fp32_gflops}, {"bandwidth_gbs", peaks.bandwidth_gbs},
                        {"l2_gbs", peaks.l2_gbs},           {"l3_gbs", peaks.l3_gbs},
                        {"l2_capacity_bytes", peaks.l2_capacity}, {"l3_capacity_bytes", peaks.l3_capacity},
                        {"threads", peaks.threads},         {"method", peaks.method},
                        {"measured_at", peaks.measured_at}, {"roof_version", kRoofVersion}};
    write_file_atomic(path, cache.dump(2) + "\n");
    peaks.cache_note = "measured now, cached in " + path;
  } catch (const std::exception& e) {
    peaks.cache_note = std::string("measured now, not cached: ") + e.what();
  }
}

volatile float g_triad_sink = 0;

}  // namespace

double measure_triad_bandwidth_gbs(int threads, double seconds, size_t array_bytes) {
  const size_t llc = std::max<size_t>(cpu::cpu_info().l3_bytes, cpu::cpu_info().l2_bytes);
  if (array_bytes == 0) array_bytes = std::max<size_t>(4 * llc, size_t{32} << 20);
  const size_t n = std::max<size_t>(array_bytes / sizeof(float), 1024);
  FloatBuffer a = aligned_floats(n), b = aligned_floats(n), c = aligned_floats(n);
  float* pa = a.get();
  const float* pb = b.get();
  const float* pc = c.get();
  // First touch by the threads that will stream the pages (NUMA placement).
#pragma omp parallel for schedule(static) num_threads(threads)
  for (size_t i = 0; i < n; ++i) {
    a[i] = 0.0f;
    b[i] = 1.0f;
    c[i] = 2.0f;
  }
  // Cache-sized arrays are swept many times per timing, so the thread start-up
  // does not dominate; with a static schedule each thread keeps its own slice
  // (in its own L2) on every sweep, so the sweeps need no barrier between them.
  const int sweeps = static_cast<int>(std::max<size_t>(1, (size_t{64} << 20) / (3 * n * sizeof(float))));
  const float scalar = 3.0f;
  double best = 0;
  const double end = steady_seconds() + seconds;
  int passes = 0;
  do {
    const double t0 = steady_seconds();
#pragma omp parallel num_threads(threads)
    for (int sweep = 0; sweep < sweeps; ++sweep) {
#pragma omp for simd schedule(static) nowait
      for (size_t i = 0; i < n; ++i) pa[i] = pb[i] + scalar * pc[i];
    }
    const double dt = steady_seconds() - t0;
    best = std::max(best, 3.0 * sizeof(float) * static_cast<double>(n) * sweeps / dt * 1e-9);
    ++passes;
  } while (steady_seconds() < end || passes < 3);
  g_triad_sink = pa[n / 2];
  return best;
}

const char* MachinePeaks::memory_level_for(double bytes) const {
  if (l2_gbs > 0 && bytes <= l2_capacity) return "L2";
  if (l3_gbs > 0 && bytes <= l3_capacity) return "L3";
  return "DRAM";
}

double MachinePeaks::bandwidth_for(double bytes) const {
  const std::string_view level = memory_level_for(bytes);
  // A faster level never lowers the roof below DRAM's (a noisy cache measurement must not).
  if (level == "L2") return std::max(l2_gbs, bandwidth_gbs);
  if (level == "L3") return std::max(l3_gbs, bandwidth_gbs);
  return bandwidth_gbs;
}

std::string machine_cache_path() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg == '/')
    return std::string(xdg) + "/tinyopt/machine.json";
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0')
    return std::string(home) + "/.cache/tinyopt/machine.json";
  return {};
}

std::string machine_key(int threads) { return fmt::format("{}|threads={}", cpu::cpu_info().model_name, threads); }

MachinePeaks measure_machine_peaks(int threads) {
  MachinePeaks p;
  p.key = machine_key(threads);
  p.threads = threads;
  const auto& cpu = cpu::cpu_info();
  const LoadSnapshot begin = take_load_snapshot();
  p.fp32_gflops = measure_fp32_peak_gflops(threads);
  p.bandwidth_gbs = measure_triad_bandwidth_gbs(threads);
  // Half of each level holds the triad's three arrays (room for everything else).
  p.l2_capacity = 0.5 * double(cpu.l2_bytes) * threads;
  p.l3_capacity = 0.5 * double(cpu.l3_bytes);
  p.l2_gbs = measure_triad_bandwidth_gbs(threads, 0.1, size_t(p.l2_capacity / 3));
  p.l3_gbs = p.l3_capacity > p.l2_capacity ? measure_triad_bandwidth_gbs(threads, 0.1, size_t(p.l3_capacity / 3)) : 0;
  p.method = fmt::format(
      "compute: {} FMA loop in registers (12 independent accumulators), {} x the best single-core burst (or the "
      "best {}-thread burst when higher), so no kernel can exceed it; memory: STREAM triad a=b+s*c, 12 B/element, "
      "best pass, over 3 f32 arrays of {} MiB each (DRAM), and over arrays that fit in L2 and in L3 (an op whose "
      "data fits a cache level is held to that level's bandwidth); {} thread(s)",
      fp32_peak_isa(), threads, threads,
      (std::max<size_t>(4 * std::max(cpu.l3_bytes, cpu.l2_bytes), size_t{32} << 20)) >> 20, threads);
  p.measured_at = utc_now_iso8601();
  p.conditions = judge_conditions(begin, take_load_snapshot(), threads);
  return p;
}

MachinePeaks machine_peaks(int threads, const std::string& cache_path, bool refresh, MeasurePeaks measure) {
  MachinePeaks p;
  p.key = machine_key(threads);
  p.threads = threads;
  if (!refresh && from_cache(cache_path, p)) return p;
  p = measure(threads);
  // Roofs measured beside a busy process come out low, and every percentage of
  // them high: such a measurement serves this run but is not kept.
  if (p.conditions.contended())
    p.cache_note = "measured now while " + p.conditions.describe() + "; not cached, so the roofs may be low";
  else
    to_cache(cache_path, p);
  return p;
}

MachinePeaks cuda_machine_peaks(int device, const std::string& cache_path, bool refresh) {
  const Device dev = Device::cuda(device);
  device_require(dev);
  MachinePeaks p;
  p.key = fmt::format("{}|{}", dev.str(), device_runtime(DeviceType::cuda)->describe(device));
  if (!refresh && from_cache(cache_path, p)) return p;
  TimerOptions options;
  options.device = dev;  // CUDA events
  options.min_runs = 5;
  options.max_seconds = 3;
  // Compute roof: the best dispatched f32 matmul (cuBLAS when built), square 4096.
  const int64_t n = 4096;
  MatmulArgs mm{Tensor::zeros({n, n}, DType::f32, dev), Tensor::zeros({n, n}, DType::f32, dev),
                Tensor::empty({n, n}, DType::f32, dev)};
  const TimingStats mm_t = Timer(options).measure([&] { ops::matmul(mm); });
  p.fp32_gflops = 2.0 * n * n * n / mm_t.min * 1e-9;
  // Memory roof: a 256 MiB device-to-device copy reads and writes each byte once.
  const int64_t elems = int64_t{64} << 20;
  Tensor src = Tensor::zeros({elems}, DType::f32, dev), dst = Tensor::empty({elems}, DType::f32, dev);
  const TimingStats cp_t = Timer(options).measure([&] { dst.copy_from(src); });
  p.bandwidth_gbs = 2.0 * 4.0 * static_cast<double>(elems) / cp_t.min * 1e-9;
  p.method = "compute: dispatched f32 matmul 4096^3 (best run, CUDA events); memory: 256 MiB device-to-device copy "
             "(2 bytes moved per byte copied, best run, CUDA events)";
  p.measured_at = utc_now_iso8601();
  to_cache(cache_path, p);
  return p;
}

}  // namespace tinyopt
