// MovingAverageMinMaxObserver (torch.ao.quantization's): the first batch sets
// the range, each later batch moves it by a fraction c of the difference,
//   min <- min + c * (batch_min - min),  max <- max + c * (batch_max - max),
// with PyTorch's default c = 0.01. It smooths out single-batch outliers; with
// few batches it stays close to the first batch's range.
#pragma once

#include "quant/observer.h"

namespace tinyopt::quant {

class MovingAverageMinMaxObserver : public Observer {
 public:
  explicit MovingAverageMinMaxObserver(std::string where, double averaging_constant = 0.01);
  std::pair<double, double> range() const override;

 protected:
  void observe_values(const float* x, int64_t n, float lo, float hi, int pass) override;

 private:
  double c_;
  bool started_ = false;
  double avg_min_ = 0, avg_max_ = 0;
};

}  // namespace tinyopt::quant
