// This machine's measured ceilings: FP32 FMA throughput and memory bandwidth.
// "Percent of peak" and roofline verdicts are computed against these measured
// numbers, not against a datasheet.
#pragma once

namespace tinyopt {

// Runs a short register-only FMA loop (many independent accumulators, no
// memory traffic) on `threads` threads and returns GFLOP/s (1 FMA = 2 FLOPs).
// Uses 512-bit FMAs when the CPU has AVX-512, 256-bit with AVX2+FMA, else scalar.
double measure_fp32_peak_gflops(int threads, double seconds = 0.2);

// Name of the instruction set the peak kernel used ("avx512", "avx2", "scalar").
const char* fp32_peak_isa();

}  // namespace tinyopt
