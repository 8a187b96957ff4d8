// HistogramObserver: picks the clipping range that minimises the quantization
// error of the observed distribution over a 2048-bin histogram of the
// widened range [min(lo, 0), max(hi, 0)] filled in a second pass. The search
// walks the window inwards from both ends (PyTorch's greedy walk: each step
// moves the end whose move costs less), keeping 0 inside and at least 256
// bins, and returns the best window seen.
//
//   criterion entropy: TensorRT's entropy calibration generalised to u8
//     affine: for each candidate window of k >= 256 bins, P is the histogram
//     inside the window with the clipped mass added to its edge bins, Q
//     merges P into 256 quantization levels and spreads each level's mass
//     evenly over its non-empty bins; the window with the least KL(P || Q)
//     wins. The bin holding 0 takes its neighbour's count first (the spike of
//     exact zeros after a ReLU would otherwise dominate the divergence).
//   criterion mse: expected squared error, clipped values contributing
//     (x - clip)^2 and values inside step^2 / 12 (uniform rounding error),
//     the error PyTorch's HistogramObserver minimises (with its L2 norm).
#pragma once

#include <optional>

#include "quant/histogram.h"
#include "quant/observer.h"

namespace tinyopt::quant {

enum class HistogramCriterion { entropy, mse };

class HistogramObserver : public Observer {
 public:
  HistogramObserver(std::string where, HistogramCriterion criterion, int bins = 2048);
  int passes() const override { return 2; }
  std::pair<double, double> range() const override;

 protected:
  void observe_values(const float* x, int64_t n, float lo, float hi, int pass) override;

 private:
  HistogramCriterion criterion_;
  int bins_;
  std::optional<Histogram> hist_;
};

// The errors behind the choice, exposed for tests: KL divergence and expected
// squared error of quantizing `hist` with clipping to bins [begin, end).
double entropy_error(const Histogram& hist, int begin, int end);
double mse_error(const Histogram& hist, int begin, int end);

}  // namespace tinyopt::quant
