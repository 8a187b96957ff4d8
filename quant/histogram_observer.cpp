#include "quant/histogram_observer.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace tinyopt::quant {

namespace {
constexpr int kLevels = 256;  // u8 quantization levels
}

HistogramObserver::HistogramObserver(std::string where, HistogramCriterion criterion, int bins)
    : Observer(std::move(where)), criterion_(criterion), bins_(bins) {
  TINYOPT_CHECK(bins_ >= kLevels, "{}: histogram needs at least {} bins, found {}", where_, kLevels, bins_);
}

void HistogramObserver::observe_values(const float* x, int64_t n, float, float, int pass) {
  if (pass != 1) return;
  if (!hist_) {
    require_data();
    const double lo = std::min(min_, 0.0), hi = std::max(max_, 0.0);
    if (hi <= lo) return;  // all zeros: nothing to search
    hist_.emplace(lo, hi, bins_);
  }
  hist_->add(x, n);
}

double entropy_error(const Histogram& hist, int begin, int end) {
  const std::vector<double>& c = hist.counts();
  const int k = end - begin;
  std::vector<double> p(c.begin() + begin, c.begin() + end);
  for (int i = 0; i < begin; ++i) p.front() += c[i];
  for (int i = end; i < hist.bins(); ++i) p.back() += c[i];
  // Q: each of the 256 levels covers k / 256 bins; its mass is spread over its non-empty bins.
  std::vector<double> q(k, 0.0);
  for (int level = 0; level < kLevels; ++level) {
    const int a = static_cast<int>(static_cast<int64_t>(level) * k / kLevels);
    const int b = static_cast<int>(static_cast<int64_t>(level + 1) * k / kLevels);
    double mass = 0;
    int nonempty = 0;
    for (int i = a; i < b; ++i) {
      // Q only sees the unclipped histogram, so clipping shows as divergence at the edges.
      const double unclipped = c[begin + i];
      mass += unclipped;
      nonempty += unclipped > 0;
    }
    for (int i = a; i < b; ++i)
      if (c[begin + i] > 0) q[i] = mass / nonempty;
  }
  double psum = 0, qsum = 0;
  for (int i = 0; i < k; ++i) {
    psum += p[i];
    qsum += q[i];
  }
  if (psum <= 0 || qsum <= 0) return std::numeric_limits<double>::infinity();
  double kl = 0;
  for (int i = 0; i < k; ++i) {
    if (p[i] <= 0) continue;
    const double pi = p[i] / psum;
    // An edge bin with clipped mass but an empty original bin: smooth rather than divide by zero.
    const double qi = std::max(q[i] / qsum, 1e-12);
    kl += pi * std::log(pi / qi);
  }
  return kl;
}

double mse_error(const Histogram& hist, int begin, int end) {
  const double w = hist.bin_width();
  const double clip_lo = hist.lo() + begin * w, clip_hi = hist.lo() + end * w;
  const double step = (clip_hi - clip_lo) / (kLevels - 1);
  const std::vector<double>& c = hist.counts();
  double err = 0;
  for (int i = 0; i < hist.bins(); ++i) {
    if (c[i] <= 0) continue;
    const double x = hist.bin_center(i);
    if (x < clip_lo) err += c[i] * (clip_lo - x) * (clip_lo - x);
    else if (x > clip_hi) err += c[i] * (x - clip_hi) * (x - clip_hi);
    else err += c[i] * step * step / 12.0;
  }
  return err;
}

std::pair<double, double> HistogramObserver::range() const {
  require_data();
  if (!hist_ || hist_->total() == 0) return {min_, max_};
  Histogram h = *hist_;
  const int bins = h.bins();
  // The bin holding 0: every window keeps it, so 0 stays representable.
  const int zero = std::clamp(static_cast<int>(-h.lo() / h.bin_width()), 0, bins - 1);
  // After a ReLU most values are exactly 0. That spike is represented exactly
  // by any window, but KL would see it smeared over a whole level and pick the
  // narrowest window to keep it sharp; like NVIDIA's pytorch-quantization
  // entropy calibrator, give the zero bin its neighbour's count instead.
  if (criterion_ == HistogramCriterion::entropy) h.set_count(zero, h.counts()[zero + 1 < bins ? zero + 1 : zero - 1]);
  auto error = [&](int begin, int end) {
    return criterion_ == HistogramCriterion::entropy ? entropy_error(h, begin, end) : mse_error(h, begin, end);
  };
  // Greedy two-sided walk (as PyTorch's HistogramObserver): shrink the window
  // by `step` bins from whichever end gives the lower error, down to 256 bins,
  // and keep the best window seen anywhere along the walk.
  const int step = std::max(1, bins / 512);
  int begin = 0, end = bins;
  double best = error(begin, end);
  int best_begin = begin, best_end = end;
  while (end - begin - step >= kLevels) {
    const bool can_left = begin + step <= zero, can_right = end - step > zero;
    if (!can_left && !can_right) break;
    const double left = can_left ? error(begin + step, end) : std::numeric_limits<double>::infinity();
    const double right = can_right ? error(begin, end - step) : std::numeric_limits<double>::infinity();
    if (left < right) begin += step;
    else end -= step;
    const double e = std::min(left, right);
    if (e < best) {  // strict: ties keep the wider window
      best = e;
      best_begin = begin;
      best_end = end;
    }
  }
  const double lo = h.lo() + best_begin * h.bin_width(), hi = h.lo() + best_end * h.bin_width();
  return {std::max(lo, min_), std::min(hi, max_)};
}

}  // namespace tinyopt::quant
