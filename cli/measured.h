// The conditions a command's timings ran under, summed up in one line: every
// command that prints a timing ends with it (and --json carries it), so a
// number measured beside a busy process never goes out unmarked.
#pragma once

#include <string>

#include "core/threads.h"
#include "profiler/measurement_conditions.h"
#include "profiler/timer.h"

namespace tinyopt::cli {

// Runs `work` and says how the machine was meanwhile (for throughputs that
// are not timed by a Timer: evaluation, training, generation).
template <class Work>
MeasurementConditions conditions_while(Work&& work) {
  const LoadSnapshot begin = take_load_snapshot();
  work();
  return judge_conditions(begin, take_load_snapshot(), num_threads());
}

class MeasuredUnder {
 public:
  void add(const MeasurementConditions& c) {
    worst_ = any_ ? worse(worst_, c) : c;
    any_ = true;
  }
  void add(const TimingStats& t) { add(t.conditions); }
  const MeasurementConditions& worst() const { return worst_; }
  // "measured: quiet (...)" or "measured: CONTENDED: <why>; ..." with what to do about it.
  std::string line() const {
    if (worst_.contended())
      return "measured: CONTENDED: " + worst_.reason +
             "; these timings are distorted: rerun when the machine is quiet, or with fewer --threads";
    return "measured: " + worst_.describe();
  }

 private:
  MeasurementConditions worst_;
  bool any_ = false;
};

}  // namespace tinyopt::cli
