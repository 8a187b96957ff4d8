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

}  // namespace tinyopt::cpu
