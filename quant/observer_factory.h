// Observer names as the CLI spells them: minmax, moving, percentile, entropy, mse.
#pragma once

#include <string>
#include <vector>

#include "quant/observer.h"

namespace tinyopt::quant {

const std::vector<std::string>& observer_names();
// Throws listing the valid names for an unknown one. `percentile` is used by "percentile".
ObserverPtr make_observer(const std::string& name, const std::string& where, double percentile = 99.99);

}  // namespace tinyopt::quant
