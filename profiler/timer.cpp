#include "profiler/timer.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>

#include "core/device_runtime.h"
#include "core/error.h"
#include "core/threads.h"

namespace tinyopt {

double steady_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double percentile_sorted(const std::vector<double>& sorted, double q) {
  TINYOPT_CHECK(!sorted.empty(), "percentile of an empty sample");
  const double rank = q / 100.0 * static_cast<double>(sorted.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(rank));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  const double frac = rank - static_cast<double>(lo);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * frac;
}

double percentile_upper_bound(std::vector<double>& samples, double q, double confidence) {
  TINYOPT_CHECK(!samples.empty(), "percentile bound of an empty sample");
  TINYOPT_CHECK(confidence > 0.5 && confidence < 1, "percentile_upper_bound: confidence {} is not in (0.5, 1)",
                confidence);
  // z of the one-sided confidence (inverse normal CDF by bisection on erfc).
  double lo = 0, hi = 10;
  for (int i = 0; i < 60; ++i) {
    const double mid = (lo + hi) / 2;
    (0.5 * std::erfc(mid / std::sqrt(2.0)) > 1 - confidence ? lo : hi) = mid;
  }
  const double n = double(samples.size()), p = q / 100;
  const double k = std::ceil(n * p + lo * std::sqrt(n * p * (1 - p)) + 0.5);  // a 1-based rank
  const size_t index = size_t(std::min(n, std::max(1.0, k))) - 1;
  std::nth_element(samples.begin(), samples.begin() + std::ptrdiff_t(index), samples.end());
  return samples[index];
}

TimingStats summarize(std::vector<double> samples) {
  TINYOPT_CHECK(!samples.empty(), "cannot summarize zero timing samples");
  std::sort(samples.begin(), samples.end());
  TimingStats s;
  s.runs = static_cast<int>(samples.size());
  double sum = 0;
  for (double v : samples) sum += v;
  s.mean = sum / s.runs;
  double var = 0;
  for (double v : samples) var += (v - s.mean) * (v - s.mean);
  s.std = s.runs > 1 ? std::sqrt(var / (s.runs - 1)) : 0;
  s.min = samples.front();
  s.max = samples.back();
  s.p50 = percentile_sorted(samples, 50);
  s.p90 = percentile_sorted(samples, 90);
  s.p95 = percentile_sorted(samples, 95);
  s.p99 = percentile_sorted(samples, 99);
  s.iqr = percentile_sorted(samples, 75) - percentile_sorted(samples, 25);
  s.p90_upper = percentile_upper_bound(samples, 90);
  return s;
}

// Times one call of a function. On the CPU it reads the (injectable) clock.
// On a CUDA device it brackets the call with two events on the default
// stream after a synchronize, so the sample is the device time of the work
// the call enqueued, finished, and not the few microseconds of its launch.
class Timer::Stopwatch {
 public:
  Stopwatch(Device device, const Clock& clock) : device_(device), clock_(clock) {
    if (!device.is_cuda()) return;
    device_require(device);
    rt_ = device_runtime(device.type);
    if (rt_->event_create == nullptr) {  // a runtime without events: synchronize around the host clock
      rt_ = nullptr;
      return;
    }
    start_ = rt_->event_create(device.index);
    end_ = rt_->event_create(device.index);
  }
  ~Stopwatch() {
    if (rt_ == nullptr) return;
    rt_->event_destroy(start_, device_.index);
    rt_->event_destroy(end_, device_.index);
  }
  Stopwatch(const Stopwatch&) = delete;
  Stopwatch& operator=(const Stopwatch&) = delete;

  double time(const std::function<void()>& fn) const {
    if (rt_ == nullptr) {
      const double t0 = clock_();
      fn();
      device_synchronize(device_);  // no-op on the CPU
      return clock_() - t0;
    }
    rt_->event_record(start_, device_.index);
    fn();
    rt_->event_record(end_, device_.index);
    return rt_->event_elapsed_seconds(start_, end_, device_.index);
  }

 private:
  Device device_;
  const Clock& clock_;
  const DeviceRuntime* rt_ = nullptr;
  void* start_ = nullptr;
  void* end_ = nullptr;
};

Timer::Timer(TimerOptions options, Clock clock) : options_(options), clock_(std::move(clock)) {}

// The stopping rule shared by measure() and compare(): enough runs and time,
// then (adaptive mode) a small enough spread; the budget always ends it.
bool Timer::done(const std::vector<double>& samples, double measured, double elapsed) const {
  const int n = static_cast<int>(samples.size());
  if (n >= options_.max_runs || elapsed >= options_.max_seconds) return true;
  if (n < options_.min_runs || measured < options_.min_seconds) return false;
  if (options_.target_spread <= 0) return true;
  // The spread needs a sort; checking every few runs keeps that off the hot loop.
  if (n % 5 != 0) return false;
  return summarize(samples).spread() < options_.target_spread;
}

void Timer::finish(TimingStats& stats, const LoadSnapshot& begin) const {
  stats.threads = num_threads();
  stats.conditions = judge_conditions(begin, take_load_snapshot(), stats.threads);
  stats.converged = options_.target_spread <= 0 || stats.spread() < options_.target_spread;
  if (options_.warn_spread > 0 && stats.spread() > options_.warn_spread) {
    stats.warning = fmt::format(
        "large spread: IQR/median {:.1f}% over {} runs (warn above {:.0f}%); the machine was noisy, so treat "
        "this timing as approximate",
        100 * stats.spread(), stats.runs, 100 * options_.warn_spread);
  }
}

TimingStats Timer::measure(const std::function<void()>& fn) const {
  Stopwatch stopwatch(options_.device, clock_);
  for (int i = 0; i < options_.warmup; ++i) fn();
  device_synchronize(options_.device);
  samples_.clear();
  double measured = 0;
  const double start_all = clock_();
  const LoadSnapshot begin = take_load_snapshot();
  do {
    const double dt = stopwatch.time(fn);
    samples_.push_back(dt);
    measured += dt;
  } while (!done(samples_, measured, clock_() - start_all));
  TimingStats stats = summarize(samples_);
  finish(stats, begin);
  return stats;
}

Comparison Timer::compare(const std::function<void()>& fn_a, const std::function<void()>& fn_b) const {
  Stopwatch stopwatch(options_.device, clock_);
  for (int i = 0; i < options_.warmup; ++i) {
    fn_a();
    fn_b();
  }
  device_synchronize(options_.device);
  std::vector<double> ta, tb;
  Comparison c;
  double measured = 0;
  const double start_all = clock_();
  const LoadSnapshot begin = take_load_snapshot();
  do {
    double a = 0, b = 0;
    if (c.ratios.size() % 2 == 0) {
      a = stopwatch.time(fn_a);
      b = stopwatch.time(fn_b);
    } else {
      b = stopwatch.time(fn_b);
      a = stopwatch.time(fn_a);
    }
    ta.push_back(a);
    tb.push_back(b);
    c.ratios.push_back(b > 0 ? a / b : 0);
    measured += a + b;
  } while (!done(c.ratios, measured, clock_() - start_all));
  c.a = summarize(ta);
  c.b = summarize(tb);
  c.ratio = summarize(c.ratios);
  finish(c.a, begin);
  finish(c.b, begin);
  finish(c.ratio, begin);
  return c;
}

std::string format_seconds(double seconds) {
  if (!std::isfinite(seconds) || seconds <= 0) return "-";
  struct Unit {
    double seconds;
    const char* name;
  };
  static constexpr Unit kUnits[] = {{1, "s"}, {1e-3, "ms"}, {1e-6, "\u00b5s"}, {1e-9, "ns"}};
  // The largest unit the value reaches once rounded to three digits: 999.7 µs reads "1 ms".
  const Unit* u = &kUnits[3];
  for (const Unit& unit : kUnits)
    if (seconds / unit.seconds >= 0.9995) {
      u = &unit;
      break;
    }
  const double v = seconds / u->seconds;
  return v >= 999.5 ? fmt::format("{:.0f} {}", v, u->name) : fmt::format("{:.3g} {}", v, u->name);
}

std::string format_timing(const TimingStats& s) {
  return fmt::format("p50 {} (p90 {}, IQR {:.1f}%, {} runs, {} threads, {})", format_seconds(s.p50),
                     format_seconds(s.p90), 100 * s.spread(), s.runs, s.threads, verdict_name(s.conditions.verdict));
}

nlohmann::json timing_json(const TimingStats& s) {
  if (s.runs == 0) return nullptr;
  return {{"p50_s", s.p50},   {"p90_s", s.p90},         {"p99_s", s.p99}, {"p90_upper_99_s", s.p90_upper},
          {"mean_s", s.mean}, {"iqr_s", s.iqr},         {"runs", s.runs},
          {"threads", s.threads}, {"conditions", s.conditions.to_json()}};
}

std::string utc_now_iso8601() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace tinyopt
