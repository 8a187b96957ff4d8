// INT8 quantization, written once: the fixed-point requantization every
// backend calls (or reproduces bit for bit), the float64/int64 references the
// conformance table checks against, and the cost formulas of the quantized ops.
//
// Scheme (PyTorch's): real = scale * (q - zero_point). Activations are u8 with
// a per-tensor zero point, weights s8 symmetric per output channel, bias i32 at
// scale in_scale * w_scale[n]; the i32 accumulator
//   acc[m, n] = sum_k (a[m, k] - a_zero) * w[n, k] + bias[n]
// is exact. It leaves the op in one of three forms (QuantOutput, core/ops_quant.h):
// raw i32, requantized u8, or dequantized f32.
//
// Requantization uses a Q31 multiplier and a shift per output channel so that
//   real_multiplier = in_scale * w_scale[n] / out_scale ~= multiplier * 2^-31 * 2^-shift,
// evaluated with integers only, the way gemmlowp and TFLite do: a rounding
// doubling high multiply (round to nearest; gemmlowp's nudge sends exact ties
// toward +inf, i.e. floor((a*b + 2^30) / 2^31)), then a rounding right shift
// (round half away from zero). The two roundings can differ from
// round(acc * real) by one unit in the last place, which is the tolerance the
// conformance table grants u8 outputs against its float64 reference.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "kernels/conv2d.h"
#include "kernels/cost.h"
#include "kernels/hd.h"

namespace tinyopt::kernels {

// Shifts a requantization multiplier may carry: beyond 31 to the right
// (real < 2^-32) every i32 accumulator rounds to 0, so quantize_multiplier
// returns multiplier 0 there; beyond 31 to the left every non-zero one saturates.
// The range keeps every shift inside one 32-bit lane for the SIMD kernels.
inline constexpr int32_t kMinRequantShift = -31;
inline constexpr int32_t kMaxRequantShift = 31;

// real ~= multiplier * 2^-31 * 2^-shift with multiplier in [2^30, 2^31).
// real == 0 (or below 2^-32, where it rounds every accumulator to 0) gives multiplier 0.
// Callers must pass a finite real >= 0 (quantization scales are positive).
inline void quantize_multiplier(double real, int32_t& multiplier, int32_t& shift) {
  multiplier = 0;
  shift = 0;
  if (!(real > 0) || !std::isfinite(real)) return;
  int exponent = 0;
  const double fraction = std::frexp(real, &exponent);  // real = fraction * 2^exponent, fraction in [0.5, 1)
  int64_t q = static_cast<int64_t>(std::llround(fraction * 2147483648.0));
  if (q == (int64_t{1} << 31)) {  // rounded up to 1.0: renormalise
    q /= 2;
    ++exponent;
  }
  if (-exponent > kMaxRequantShift) return;  // below 2^-32: every output rounds to 0
  if (-exponent < kMinRequantShift) {         // above 2^31: saturate at the largest multiplier
    multiplier = INT32_MAX;
    shift = kMinRequantShift;
    return;
  }
  multiplier = static_cast<int32_t>(q);
  shift = -exponent;
}

// The real number a (multiplier, shift) pair stands for (exactly, in double).
inline double requant_real(int32_t multiplier, int32_t shift) {
  return std::ldexp(static_cast<double>(multiplier), -31 - shift);
}

// a * b / 2^31 rounded to nearest, saturated to i32 (gemmlowp's
// SaturatingRoundingDoublingHighMul: only INT32_MIN * INT32_MIN overflows).
// Its nudge and truncating division amount to floor((a*b + 2^30) / 2^31), so
// ties go toward +inf (-1.5 -> -1); the SIMD kernels use that floor form.
TINYOPT_HD inline int32_t rounding_doubling_high_mul(int32_t a, int32_t b) {
  if (a == INT32_MIN && b == INT32_MIN) return INT32_MAX;
  const int64_t ab = static_cast<int64_t>(a) * static_cast<int64_t>(b);
  const int64_t nudge = ab >= 0 ? (int64_t{1} << 30) : (1 - (int64_t{1} << 30));
  return static_cast<int32_t>((ab + nudge) / (int64_t{1} << 31));  // truncating division, as gemmlowp
}

// x / 2^exponent rounded half away from zero (gemmlowp's RoundingDivideByPOT),
// for exponent in [0, 31] (computed in 64 bits so exponent 31 is defined).
TINYOPT_HD inline int32_t rounding_right_shift(int32_t x, int32_t exponent) {
  if (exponent <= 0) return x;
  if (exponent > 31) exponent = 31;
  const int64_t v = x;
  const int64_t mask = (int64_t{1} << exponent) - 1;
  const int64_t remainder = v & mask;
  const int64_t threshold = (mask >> 1) + (v < 0 ? 1 : 0);
  return static_cast<int32_t>((v >> exponent) + (remainder > threshold ? 1 : 0));
}

// acc * multiplier * 2^-31 * 2^-shift in fixed point (no offset, no clamp).
// A negative shift is a left shift applied to acc first, saturating to i32 (TFLite).
TINYOPT_HD inline int32_t multiply_by_quantized_multiplier(int32_t acc, int32_t multiplier, int32_t shift) {
  int32_t x = acc;
  if (shift < 0) {
    const int64_t wide = static_cast<int64_t>(acc) * (int64_t{1} << (-shift < 31 ? -shift : 31));
    x = wide > INT32_MAX ? INT32_MAX : wide < INT32_MIN ? INT32_MIN : static_cast<int32_t>(wide);
  }
  return rounding_right_shift(rounding_doubling_high_mul(x, multiplier), shift > 0 ? shift : 0);
}

// The u8 value of one accumulator: clamp(zero_point + acc * real, lo, hi),
// lo = zero_point when ReLU is fused, else 0; hi = 255.
TINYOPT_HD inline int32_t requantize(int32_t acc, int32_t multiplier, int32_t shift, int32_t zero_point, int32_t lo,
                                     int32_t hi) {
  const int64_t v = static_cast<int64_t>(multiply_by_quantized_multiplier(acc, multiplier, shift)) + zero_point;
  return static_cast<int32_t>(v < lo ? lo : v > hi ? hi : v);
}

// ---- float64 / int64 references (the conformance table's oracle) -----------

// round half away from zero in double (the rounding the contract's formula names).
inline double round_half_away(double v) { return std::round(v); }

// Exact int64 accumulators of qgemm: acc[m, n] = sum_k (a[m, k] - a_zero) * w[n, k] + bias[n].
// a [M, K], w [N, K] (PyTorch linear layout), bias [N] or null. Any element type
// holding the integer values exactly (u8/s8/i32 or double).
template <class A, class W, class B>
void qgemm_acc_ref(const A* a, const W* w, const B* bias, double* acc, int64_t m, int64_t n, int64_t k,
                   int32_t a_zero) {
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      int64_t sum = bias ? static_cast<int64_t>(bias[j]) : 0;
      for (int64_t p = 0; p < k; ++p)
        sum += (static_cast<int64_t>(a[i * k + p]) - a_zero) * static_cast<int64_t>(w[j * k + p]);
      acc[i * n + j] = static_cast<double>(sum);
    }
}

// Exact int64 accumulators of qconv2d (layouts of kernels/conv2d.h); padding holds x_zero (real 0).
template <class X, class W, class B>
void qconv2d_acc_ref(const X* x, const W* w, const B* bias, double* acc, const Conv2dDims& d, int32_t x_zero) {
  for (int64_t n = 0; n < d.n; ++n)
    for (int64_t o = 0; o < d.o; ++o)
      for (int64_t oh = 0; oh < d.oh; ++oh)
        for (int64_t ow = 0; ow < d.ow; ++ow) {
          int64_t sum = bias ? static_cast<int64_t>(bias[o]) : 0;
          for (int64_t c = 0; c < d.c; ++c)
            for (int64_t i = 0; i < d.kh; ++i) {
              const int64_t ih = oh * d.stride_h - d.pad_h + i;
              if (ih < 0 || ih >= d.h) continue;  // padding: (x_zero - x_zero) * w = 0
              for (int64_t j = 0; j < d.kw; ++j) {
                const int64_t iw = ow * d.stride_w - d.pad_w + j;
                if (iw < 0 || iw >= d.w) continue;
                sum += (static_cast<int64_t>(x[((n * d.c + c) * d.h + ih) * d.w + iw]) - x_zero) *
                       static_cast<int64_t>(w[((o * d.c + c) * d.kh + i) * d.kw + j]);
              }
            }
          acc[((n * d.o + o) * d.oh + oh) * d.ow + ow] = static_cast<double>(sum);
        }
}

// The exact u8 value the fixed-point requantization approximates:
// clamp(zero_point + round_half_away(acc * real), relu ? zero_point : 0, 255).
inline double requantize_ref(double acc, double real, int32_t zero_point, bool relu) {
  const double v = zero_point + round_half_away(acc * real);
  const double lo = relu ? zero_point : 0;
  return v < lo ? lo : v > 255 ? 255 : v;
}

// The f32 output mode: acc * scale, clamped at 0 when ReLU is fused.
inline double dequantize_acc_ref(double acc, double scale, bool relu) {
  const double v = acc * scale;
  return relu && v < 0 ? 0 : v;
}

// PyTorch's quantize_per_tensor: clamp(round_half_even(x / scale) + zero_point, 0, 255).
// The kernels divide in f32, so the reference does too (then rounds exactly).
// NaN has no quantized value; it maps to the zero point (real 0), +-Inf clamps.
inline double quantize_ref(double x, float scale, int32_t zero_point) {
  if (std::isnan(x)) return zero_point;
  const double q = std::nearbyint(static_cast<double>(static_cast<float>(x) / scale)) + zero_point;
  return q < 0 ? 0 : q > 255 ? 255 : q;
}

inline double dequantize_ref(double q, double scale, int32_t zero_point) { return scale * (q - zero_point); }

// ---- cost formulas (the profiler's FLOP counter; ops = multiply + add) ------

// acc work 2*M*N*K; bytes: u8 a, s8 w, i32 bias, the output once.
inline OpCost qgemm_cost(int64_t m, int64_t n, int64_t k, bool has_bias, size_t out_bytes) {
  return {2.0 * m * n * k, double(m) * k + double(n) * k + (has_bias ? 4.0 * n : 0.0) + double(out_bytes) * m * n};
}

// With a fused pool x pool max-pool only the pooled outputs are written.
inline OpCost qconv2d_cost(const Conv2dDims& d, bool has_bias, size_t out_bytes, int64_t pool = 0) {
  const double outputs = double(d.n) * d.o * d.oh * d.ow;
  const double written = pool > 0 ? double(d.n) * d.o * double(d.oh / pool) * double(d.ow / pool) : outputs;
  return {2.0 * outputs * double(d.patch()),
          double(d.n) * d.c * d.h * d.w + double(d.o) * d.patch() + (has_bias ? 4.0 * d.o : 0.0) +
              double(out_bytes) * written};
}

// One divide, round, add and clamp per element (counted as 4 ops); f32 in, u8 out.
inline OpCost quantize_cost(int64_t numel) { return {4.0 * numel, 5.0 * numel}; }
inline OpCost dequantize_cost(int64_t numel) { return {2.0 * numel, 5.0 * numel}; }

}  // namespace tinyopt::kernels
