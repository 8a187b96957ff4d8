// This machine's measured ceilings: FP32 FMA throughput and memory bandwidth.
// "Percent of peak" and roofline verdicts are computed against these measured
// numbers, not against a datasheet.
#pragma once

#include <cstddef>
#include <string>

#include "profiler/measurement_conditions.h"

namespace tinyopt {

// The FP32 compute roof in GFLOP/s (1 FMA = 2 FLOPs): a register-only FMA loop
// (many independent accumulators, no memory traffic), `threads` times the best
// single-core rate, or the best all-thread rate when that is higher. A ceiling
// no kernel exceeds, even when another process held a core during the
// measurement. 512-bit FMAs with AVX-512, 256-bit with AVX2+FMA, else scalar.
double measure_fp32_peak_gflops(int threads, double seconds = 0.2);

// Name of the instruction set the peak kernel used ("avx512", "avx2", "scalar").
const char* fp32_peak_isa();

// STREAM's triad a[i] = b[i] + s * c[i] on `threads` threads over three f32
// arrays of `array_bytes` each (0: 4x the last-level cache, at least 32 MiB,
// so every pass goes to DRAM); best pass over `seconds`, counted as STREAM
// does: 12 bytes per element (two reads, one write; write-allocate traffic
// not counted). Arrays that fit a cache level measure that level.
double measure_triad_bandwidth_gbs(int threads, double seconds = 0.2, size_t array_bytes = 0);

// Both ceilings for one (machine, thread count), and the roofline's ridge point.
struct MachinePeaks {
  std::string key;          // "<CPU model>|threads=<n>" (or "cuda:<i>|<GPU>"): what the cache is keyed by
  int threads = 0;
  double fp32_gflops = 0;   // compute roof
  double bandwidth_gbs = 0; // memory roof (DRAM)
  double l2_gbs = 0, l3_gbs = 0;            // triad bandwidth with the data in L2 / in L3 (0: not measured)
  double l2_capacity = 0, l3_capacity = 0;  // bytes an op may move and still count as cache-resident
  std::string method;       // how they were measured, in words
  std::string measured_at;  // UTC, ISO 8601
  bool from_cache = false;
  std::string cache_note;   // where they were cached, or why they could not be
  MeasurementConditions conditions;  // while they were measured (a contended measurement is not cached)
  // FLOP per byte where the two roofs meet: below it an op is memory-bound.
  double ridge_intensity() const { return bandwidth_gbs > 0 ? fp32_gflops / bandwidth_gbs : 0; }
  // The memory roof for an op that moves `bytes`: the bandwidth of the
  // smallest level that holds them (profiled ops run warm, repeatedly), else DRAM's.
  double bandwidth_for(double bytes) const;
  const char* memory_level_for(double bytes) const;  // "L2", "L3" or "DRAM"
};

// $XDG_CACHE_HOME/tinyopt/machine.json, else ~/.cache/tinyopt/machine.json;
// empty when neither variable is set.
std::string machine_cache_path();
std::string machine_key(int threads);

// Measures both now (~0.5 s).
MachinePeaks measure_machine_peaks(int threads);

// The cached peaks for this machine and thread count, measured (by `measure`)
// and written to the cache (atomically, other keys kept) when absent or when
// `refresh`. A measurement made while the machine was contended serves this
// call but is not cached. An unreadable or corrupt cache is replaced; an
// unwritable one only noted.
using MeasurePeaks = MachinePeaks (*)(int threads);
MachinePeaks machine_peaks(int threads, const std::string& cache_path = machine_cache_path(), bool refresh = false,
                           MeasurePeaks measure = measure_machine_peaks);

// A CUDA device's peaks through the dispatcher: cuBLAS-class f32 matmul
// (4096^3) GFLOP/s and device-to-device copy GB/s, timed with CUDA events.
// Requires a usable device (throws otherwise). Cached like the CPU peaks.
MachinePeaks cuda_machine_peaks(int device, const std::string& cache_path = machine_cache_path(),
                                bool refresh = false);

}  // namespace tinyopt
