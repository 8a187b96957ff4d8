#include "quant/percentile_observer.h"

#include <algorithm>

namespace tinyopt::quant {

PercentileObserver::PercentileObserver(std::string where, double percentile, int bins)
    : Observer(std::move(where)), percentile_(percentile), bins_(bins) {
  TINYOPT_CHECK(percentile_ > 50 && percentile_ <= 100, "{}: percentile must be in (50, 100], found {}", where_,
                percentile_);
}

void PercentileObserver::observe_values(const float* x, int64_t n, float, float, int pass) {
  if (pass != 1) return;
  if (!hist_) {
    require_data();
    if (max_ <= min_) return;  // constant tensor: the range is exact already
    hist_.emplace(min_, max_, bins_);
  }
  hist_->add(x, n);
}

std::pair<double, double> PercentileObserver::range() const {
  require_data();
  if (!hist_ || hist_->total() == 0) return {min_, max_};
  const double lo = std::max(min_, hist_->percentile(100.0 - percentile_));
  const double hi = std::min(max_, hist_->percentile(percentile_));
  return {lo, hi};
}

}  // namespace tinyopt::quant
