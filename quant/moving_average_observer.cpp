#include "quant/moving_average_observer.h"

namespace tinyopt::quant {

MovingAverageMinMaxObserver::MovingAverageMinMaxObserver(std::string where, double averaging_constant)
    : Observer(std::move(where)), c_(averaging_constant) {
  TINYOPT_CHECK(c_ > 0 && c_ <= 1, "{}: averaging constant must be in (0, 1], found {}", where_, c_);
}

void MovingAverageMinMaxObserver::observe_values(const float*, int64_t, float lo, float hi, int) {
  if (!started_) {
    avg_min_ = lo;
    avg_max_ = hi;
    started_ = true;
    return;
  }
  avg_min_ += c_ * (lo - avg_min_);
  avg_max_ += c_ * (hi - avg_max_);
}

std::pair<double, double> MovingAverageMinMaxObserver::range() const {
  require_data();
  return {avg_min_, avg_max_};
}

}  // namespace tinyopt::quant
