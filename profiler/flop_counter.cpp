#include "profiler/flop_counter.h"

#include <algorithm>
#include <mutex>

#include "core/dispatch_observer.h"

namespace tinyopt {

namespace {

CostRow& row(std::vector<CostRow>& rows, const std::string& name) {
  for (CostRow& r : rows)
    if (r.name == name) return r;
  rows.push_back({name, 0, {}});
  return rows.back();
}

// Adds each op's cost to its op row and to the innermost open layer.
class CostObserver final : public DispatchObserver {
 public:
  explicit CostObserver(FlopReport& report) : report_(report), previous_(dispatch_observer()) {
    dispatch_observer_install(this);
  }
  ~CostObserver() override { dispatch_observer_install(previous_); }

  int64_t op_begin(const OpCallInfo& info) override {
    std::lock_guard<std::mutex> lock(mutex_);
    add(row(report_.ops, info.op), info.cost);
    add(row(report_.layers, layers_.empty() ? std::string("(no layer)") : layers_.back()), info.cost);
    add_cost(report_.total, info.cost);
    return 0;
  }
  void op_end(int64_t) override {}
  int64_t layer_begin(const char*, const std::string& name) override {
    std::lock_guard<std::mutex> lock(mutex_);
    layers_.push_back(name);
    return static_cast<int64_t>(layers_.size()) - 1;
  }
  void layer_end(int64_t token) override {
    std::lock_guard<std::mutex> lock(mutex_);
    layers_.resize(static_cast<size_t>(std::max<int64_t>(token, 0)));
  }

 private:
  static void add_cost(OpCost& to, const OpCost& c) {
    to.flops += c.flops;
    to.bytes += c.bytes;
  }
  static void add(CostRow& r, const OpCost& c) {
    r.calls += 1;
    add_cost(r.cost, c);
  }
  FlopReport& report_;
  DispatchObserver* previous_;
  std::mutex mutex_;
  std::vector<std::string> layers_;
};

}  // namespace

FlopReport count_ops(const std::function<void()>& run_once) {
  FlopReport report;
  CostObserver observer(report);
  run_once();
  return report;
}

const char* bound_name(Bound b) {
  switch (b) {
    case Bound::compute: return "compute";
    case Bound::memory: return "memory";
    case Bound::unknown: break;
  }
  return "-";
}

RooflineVerdict roofline(const OpCost& cost, const MachinePeaks& peaks, double seconds) {
  RooflineVerdict v;
  v.intensity = cost.intensity();
  v.ridge = peaks.ridge_intensity();
  if (cost.bytes <= 0 || peaks.fp32_gflops <= 0 || peaks.bandwidth_gbs <= 0) return v;
  const double bandwidth = peaks.bandwidth_for(cost.bytes);  // cache-resident data streams faster than DRAM
  v.attainable_gflops = std::min(peaks.fp32_gflops, v.intensity * bandwidth);
  v.bound = v.intensity >= v.ridge ? Bound::compute : Bound::memory;
  if (seconds > 0) v.achieved_gflops = cost.flops / seconds * 1e-9;
  return v;
}

}  // namespace tinyopt
