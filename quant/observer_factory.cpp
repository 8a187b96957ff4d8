#include "quant/observer_factory.h"

#include "quant/histogram_observer.h"
#include "quant/minmax_observer.h"
#include "quant/moving_average_observer.h"
#include "quant/percentile_observer.h"

namespace tinyopt::quant {

const std::vector<std::string>& observer_names() {
  static const std::vector<std::string> names = {"minmax", "moving", "percentile", "entropy", "mse"};
  return names;
}

ObserverPtr make_observer(const std::string& name, const std::string& where, double percentile) {
  if (name == "minmax") return std::make_unique<MinMaxObserver>(where);
  if (name == "moving") return std::make_unique<MovingAverageMinMaxObserver>(where);
  if (name == "percentile") return std::make_unique<PercentileObserver>(where, percentile);
  if (name == "entropy") return std::make_unique<HistogramObserver>(where, HistogramCriterion::entropy);
  if (name == "mse") return std::make_unique<HistogramObserver>(where, HistogramCriterion::mse);
  fail("unknown observer '{}' (valid: minmax, moving, percentile, entropy, mse)", name);
}

}  // namespace tinyopt::quant
