// What this CPU can do, detected at run time (never assumed at compile time):
// SIMD extensions for kernel dispatch and cache sizes for blocking.
#pragma once

#include <cstddef>
#include <string>

namespace tinyopt::cpu {

struct CpuInfo {
  std::string model_name;
  bool avx2 = false;
  bool fma = false;
  bool avx512f = false;
  bool avx512bw = false;
  bool avx512vl = false;
  bool avx512_vnni = false;
  bool avx512_bf16 = false;
  bool avx_vnni = false;
  size_t l1d_bytes = 32 * 1024;  // per core; sysfs values replace these defaults
  size_t l2_bytes = 1024 * 1024;
  size_t l3_bytes = 8 * 1024 * 1024;
  int logical_cpus = 1;

  std::string isa_summary() const;  // "avx512f avx512bw avx512_vnni avx2 fma"
};

// Detected once (cpuid via the compiler's builtins, caches from sysfs).
const CpuInfo& cpu_info();

// The ISA flavour every CPU kernel uses: the best this CPU runs (avx512 needs
// AVX-512 F, VL and BW; avx2 needs AVX2 and FMA), lowered by TINYOPT_SIMD=avx2
// or base. One switch for all of them (the blocked GEMMs, the cpu.simd clones,
// the INT8 kernels, whose VNNI paths also need AVX-512 VNNI), so the whole
// conformance table runs under each flavour this machine can execute.
enum class SimdIsa { base, avx2, avx512 };
SimdIsa simd_isa();
const char* simd_isa_name(SimdIsa isa);  // "avx512", "avx2", "base"

}  // namespace tinyopt::cpu
