// INT8 conformance cases, exposed one at a time for `tinyopt bench` (perf mode).
#pragma once

#include "conformance/conformance.h"
#include "core/dtype.h"

namespace tinyopt::conformance {

// How a quantized case's accumulators leave the op (y's dtype) and with what.
struct QuantOutSpec {
  DType dtype = DType::u8;  // i32, u8 or f32
  int32_t zero_point = 0;   // u8
  bool relu = false;
  int shift_offset = 0;     // u8: added to the drawn shifts (negative: left shifts, real multipliers > 1)
};

// qgemm: a [m, k] u8 (zero point a_zero) x w [n, k]^T s8 (+ bias) -> y [m, n].
OpCase qgemm_case(int64_t m, int64_t n, int64_t k, int32_t a_zero, bool bias, QuantOutSpec out);
// qconv2d: x [n, c, h, w] u8 (zero point x_zero) * w [o, c, kernel, kernel] s8 (+ bias) -> y.
OpCase qconv2d_case(int64_t n, int64_t c, int64_t h, int64_t w, int64_t o, int64_t kernel, int64_t stride, int64_t pad,
                    int32_t x_zero, bool bias, QuantOutSpec out, int64_t pool = 0);

}  // namespace tinyopt::conformance
