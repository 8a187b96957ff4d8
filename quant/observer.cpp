#include "quant/observer.h"

#include <cmath>

namespace tinyopt::quant {

void Observer::observe(const Tensor& x, int pass) {
  TINYOPT_CHECK(x.dtype() == DType::f32, "{}: observers watch f32 tensors, found {}", where_, x.describe());
  TINYOPT_CHECK(pass >= 0 && pass < passes(), "{}: pass {} of an observer with {} pass(es)", where_, pass, passes());
  const Tensor host = x.to(Device::cpu()).contiguous();
  const int64_t n = host.numel();
  if (n == 0) return;
  const float* v = host.data<float>();
  float lo = v[0], hi = v[0];
  int64_t bad = -1;
  for (int64_t i = 0; i < n; ++i) {
    if (!std::isfinite(v[i])) {
      bad = i;
      break;
    }
    lo = std::min(lo, v[i]);
    hi = std::max(hi, v[i]);
  }
  TINYOPT_CHECK(bad < 0, "{}: calibration data holds a non-finite value ({} at flat index {} of {}); fix the input "
                "data or the FP32 model before quantizing", where_, v[bad], bad, host.describe());
  if (pass == 0) {
    min_ = count_ == 0 ? lo : std::min<double>(min_, lo);
    max_ = count_ == 0 ? hi : std::max<double>(max_, hi);
    count_ += n;
  }
  observe_values(v, n, lo, hi, pass);
}

void Observer::require_data() const {
  TINYOPT_CHECK(count_ > 0, "{}: the observer saw no data (empty calibration set?)", where_);
}

QParams Observer::qparams() const {
  const auto [lo, hi] = range();
  return affine_u8_qparams(lo, hi, where_);
}

}  // namespace tinyopt::quant
