// A fixed-range histogram of calibration values, the input of the percentile
// and the error-minimising (MSE / entropy) observers.
#pragma once

#include <cstdint>
#include <vector>

namespace tinyopt::quant {

class Histogram {
 public:
  // `bins` equal bins over [lo, hi] (hi > lo); values outside are counted in
  // the end bins (they cannot occur when the range came from a first pass).
  Histogram(double lo, double hi, int bins);
  void add(const float* x, int64_t n);

  int bins() const { return static_cast<int>(counts_.size()); }
  double lo() const { return lo_; }
  double hi() const { return hi_; }
  double bin_width() const { return width_; }
  double bin_center(int i) const { return lo_ + (i + 0.5) * width_; }
  const std::vector<double>& counts() const { return counts_; }
  double total() const { return total_; }
  // Replaces one bin's count (the entropy search flattens the spike of exact zeros).
  void set_count(int bin, double count) {
    total_ += count - counts_[bin];
    counts_[bin] = count;
  }
  // The value below which `q` percent of the values lie (linear within a bin).
  double percentile(double q) const;

 private:
  double lo_, hi_, width_;
  std::vector<double> counts_;
  double total_ = 0;
};

}  // namespace tinyopt::quant
