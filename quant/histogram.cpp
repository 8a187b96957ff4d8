#include "quant/histogram.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace tinyopt::quant {

Histogram::Histogram(double lo, double hi, int bins) : lo_(lo), hi_(hi), width_((hi - lo) / bins), counts_(bins, 0.0) {
  TINYOPT_CHECK(bins > 0 && hi > lo && std::isfinite(lo) && std::isfinite(hi),
                "histogram: need bins > 0 and a finite range lo < hi, found {} bins over [{}, {}]", bins, lo, hi);
}

void Histogram::add(const float* x, int64_t n) {
  const double inv = 1.0 / width_;
  const int last = bins() - 1;
  for (int64_t i = 0; i < n; ++i) {
    const int b = static_cast<int>(std::clamp((x[i] - lo_) * inv, 0.0, static_cast<double>(last)));
    counts_[b] += 1;
  }
  total_ += static_cast<double>(n);
}

double Histogram::percentile(double q) const {
  TINYOPT_CHECK(total_ > 0, "histogram: percentile of an empty histogram");
  const double target = std::clamp(q, 0.0, 100.0) / 100.0 * total_;
  double seen = 0;
  for (int i = 0; i < bins(); ++i) {
    if (seen + counts_[i] >= target && counts_[i] > 0) {
      const double frac = (target - seen) / counts_[i];
      return lo_ + (i + frac) * width_;
    }
    seen += counts_[i];
  }
  return hi_;
}

}  // namespace tinyopt::quant
