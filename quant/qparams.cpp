#include "quant/qparams.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace tinyopt::quant {

QParams affine_u8_qparams(double lo, double hi, const std::string& where) {
  TINYOPT_CHECK(std::isfinite(lo) && std::isfinite(hi), "{}: observed range [{}, {}] is not finite", where, lo, hi);
  TINYOPT_CHECK(lo <= hi, "{}: observed range [{}, {}] is empty (no data observed?)", where, lo, hi);
  const double lo0 = std::min(lo, 0.0), hi0 = std::max(hi, 0.0);
  if (hi0 - lo0 == 0.0) return {1.0f, 0};
  // PyTorch computes in float32; do the same so scales match torch's bit for bit.
  float scale = (static_cast<float>(hi0) - static_cast<float>(lo0)) / static_cast<float>(kActivationQMax - kActivationQMin);
  scale = std::max(scale, kMinScale);
  const float zp = static_cast<float>(kActivationQMin) - std::nearbyint(static_cast<float>(lo0) / scale);
  const int32_t zero_point = static_cast<int32_t>(std::clamp(zp, float(kActivationQMin), float(kActivationQMax)));
  return {scale, zero_point};
}

float symmetric_s8_scale(double absmax) {
  if (!(absmax > 0)) return 1.0f;
  return std::max(static_cast<float>(absmax) / static_cast<float>(kWeightQMax), kMinScale);
}

uint8_t quantize_u8(float x, QParams p) {
  const float q = std::nearbyint(x / p.scale) + static_cast<float>(p.zero_point);
  if (!(q > 0.0f)) return 0;  // also NaN: callers check finiteness where it matters
  return q >= 255.0f ? uint8_t{255} : static_cast<uint8_t>(q);
}

void check_qparams(QParams p, const std::string& where) {
  TINYOPT_CHECK(std::isfinite(p.scale) && p.scale > 0, "{}: scale must be a finite positive number, found {}", where,
                p.scale);
  TINYOPT_CHECK(p.zero_point >= kActivationQMin && p.zero_point <= kActivationQMax,
                "{}: zero point must be in [0, 255], found {}", where, p.zero_point);
}

}  // namespace tinyopt::quant
