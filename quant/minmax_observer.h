// MinMaxObserver: the running minimum and maximum over all calibration data
// (torch.ao.quantization.MinMaxObserver).
#pragma once

#include "quant/observer.h"

namespace tinyopt::quant {

class MinMaxObserver : public Observer {
 public:
  using Observer::Observer;
  std::pair<double, double> range() const override {
    require_data();
    return {min_, max_};
  }

 protected:
  void observe_values(const float*, int64_t, float, float, int) override {}  // the base tracks min/max
};

}  // namespace tinyopt::quant
