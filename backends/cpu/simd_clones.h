// One plain loop body, compiled for three instruction sets and picked at run
// time: the `cpu.simd` kernels' way to get AVX-512 without -march=native.
//
// The library is built for baseline x86-64 (SSE2), so `omp simd` loops would
// only ever use 4-wide SSE. Instead a kernel writes its loop once, as a
// TINYOPT_SIMD_BODY (always inlined), and TINYOPT_SIMD_CLONES wraps it in three
// functions carrying __attribute__((target(...))): AVX-512, AVX2+FMA and the
// baseline. GCC inlines the body into each and vectorises it for that ISA.
// The first call picks the clone of the CPU's ISA flavour (simd_isa() in
// cpu_info.h, the switch every CPU kernel follows); TINYOPT_SIMD=avx2|base
// forces a lower one, for testing and for comparing ISAs.
//
// Files using this should start with `#pragma GCC optimize("no-trapping-math")`
// (see kernels/fast_math.h): otherwise GCC keeps float selects as branches on
// AVX2/SSE and the loops do not vectorise. It does not change any result; it
// only tells the compiler that nobody inspects floating-point exception flags.
#pragma once

#include "core/cpu_info.h"

#if defined(__clang__)
// clang (the fuzz build) has no prefer-vector-width in target attributes and
// drops the whole attribute when it sees one, which breaks AVX-512 intrinsics.
#define TINYOPT_TARGET_AVX512 __attribute__((target("avx512f,avx512vl,avx512bw,avx2,fma")))
#else
#define TINYOPT_TARGET_AVX512 __attribute__((target("avx512f,avx512vl,avx512bw,avx2,fma,prefer-vector-width=512")))
#endif
#define TINYOPT_TARGET_AVX2 __attribute__((target("avx2,fma")))
#define TINYOPT_SIMD_BODY inline __attribute__((always_inline))

namespace tinyopt::cpu {

template <class Fn>
Fn simd_pick(Fn avx512, Fn avx2, Fn base) {
  switch (simd_isa()) {
    case SimdIsa::avx512: return avx512;
    case SimdIsa::avx2: return avx2;
    case SimdIsa::base: return base;
  }
  return base;
}

}  // namespace tinyopt::cpu

// Defines `static void name params`, which runs `body args` compiled for the
// best ISA. params and args are parenthesised lists, e.g.
//   TINYOPT_SIMD_CLONES(gelu_chunk, gelu_body, (const float* x, float* y, int64_t n), (x, y, n))
#define TINYOPT_SIMD_CLONES(name, body, params, args)                            \
  TINYOPT_TARGET_AVX512 static void name##_avx512 params { body args; }          \
  TINYOPT_SIMD_CLONES_WITH_AVX512(name, body, name##_avx512, params, args)

// The same with a hand-written AVX-512 member (a TINYOPT_TARGET_AVX512
// function of the same signature) where the compiler's version of the body
// is slow; AVX2 and the baseline are still compiled from the body.
#define TINYOPT_SIMD_CLONES_WITH_AVX512(name, body, avx512, params, args)                  \
  TINYOPT_TARGET_AVX2 static void name##_avx2 params { body args; }                       \
  static void name##_base params { body args; }                                           \
  static void name params {                                                               \
    static const auto fn = ::tinyopt::cpu::simd_pick(&avx512, &name##_avx2, &name##_base); \
    fn args;                                                                              \
  }
