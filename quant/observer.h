// Observers (torch.ao.quantization's vocabulary): each watches the FP32
// values of one tensor of the model during calibration and then proposes the
// u8 affine quantization parameters for it.
//
// Histogram-based observers need two passes over the calibration data: the
// first finds the range, the second fills a histogram over that fixed range
// (exact, where PyTorch's one-pass HistogramObserver re-bins as the range
// grows). The calibrator asks passes() and runs the data that many times.
#pragma once

#include <memory>
#include <string>
#include <utility>

#include "core/tensor.h"
#include "quant/qparams.h"

namespace tinyopt::quant {

class Observer {
 public:
  // `where` names the observed tensor in errors ("layer 3 (linear) output").
  explicit Observer(std::string where) : where_(std::move(where)) {}
  virtual ~Observer() = default;

  virtual int passes() const { return 1; }
  // Watches a batch (f32, any shape, CPU or CUDA). Throws naming the tensor
  // when it holds NaN or Inf: calibrating on them would give a useless scale.
  void observe(const Tensor& x, int pass = 0);
  // The clipping range [lo, hi] chosen from what was observed (before the
  // widening to include 0 that affine_u8_qparams applies).
  virtual std::pair<double, double> range() const = 0;
  QParams qparams() const;

  const std::string& where() const { return where_; }
  int64_t observed_values() const { return count_; }
  // The exact extremes seen (pass 0), whatever the observer clips to.
  double min_seen() const { return min_; }
  double max_seen() const { return max_; }

 protected:
  // One batch of finite values with its extremes.
  virtual void observe_values(const float* x, int64_t n, float lo, float hi, int pass) = 0;
  void require_data() const;

  std::string where_;
  int64_t count_ = 0;
  double min_ = 0, max_ = 0;
};

using ObserverPtr = std::unique_ptr<Observer>;

}  // namespace tinyopt::quant
