// PercentileObserver: clips the range to the [100 - p, p] percentiles of the
// calibration values (p = 99.99 by default), so a handful of outliers does
// not stretch the scale for everyone else. Two passes: min/max, then a
// 2048-bin histogram over that range.
#pragma once

#include <optional>

#include "quant/histogram.h"
#include "quant/observer.h"

namespace tinyopt::quant {

class PercentileObserver : public Observer {
 public:
  explicit PercentileObserver(std::string where, double percentile = 99.99, int bins = 2048);
  int passes() const override { return 2; }
  std::pair<double, double> range() const override;

 protected:
  void observe_values(const float* x, int64_t n, float lo, float hi, int pass) override;

 private:
  double percentile_;
  int bins_;
  std::optional<Histogram> hist_;
};

}  // namespace tinyopt::quant
