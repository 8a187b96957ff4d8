#include "profiler/profiler_context.h"

#include <fmt/format.h>
#include <unistd.h>

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <fstream>
#include <map>

#include "core/device_runtime.h"
#include "core/error.h"
#include "io/atomic_file.h"
#include "profiler/nvtx.h"
#include "profiler/timer.h"

namespace tinyopt {

namespace {

std::atomic<uint64_t> g_next_context_id{1};

// Each thread remembers its state in the context it last reported to, so the
// common case skips the map lookup (a context's id is never reused).
struct ThreadCache {
  uint64_t context = 0;
  void* state = nullptr;
};
// initial-exec: the library is linked statically, so the cache is a fixed
// offset from the thread pointer instead of a __tls_get_addr call per event.
__attribute__((tls_model("initial-exec"))) thread_local ThreadCache t_cache;

int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Event timestamps are ticks of the cheapest trustworthy clock. Reading
// steady_clock (clock_gettime through the vDSO) is ~20 ns and was over half of
// an event's cost; the TSC is a few ns. It is used only when the kernel itself
// runs on it (clocksource "tsc": invariant and synchronised across cores, as
// the kernel checked); otherwise ticks are steady_clock nanoseconds.
bool tsc_is_the_clocksource() {
#if defined(__x86_64__)
  static const bool ok = [] {
    std::ifstream in("/sys/devices/system/clocksource/clocksource0/current_clocksource");
    std::string name;
    return static_cast<bool>(in >> name) && name == "tsc";
  }();
  return ok;
#else
  return false;
#endif
}

int64_t ticks() {
#if defined(__x86_64__)
  if (tsc_is_the_clocksource()) return static_cast<int64_t>(__rdtsc());
#endif
  return steady_ns();
}

// (ticks, ns) at the first context's start: the tick rate is measured against
// steady_clock over at least 20 ms (waiting out the rest once, at the first
// report), so its error is around 1e-6.
struct Calibration {
  int64_t ticks0 = ticks();
  int64_t ns0 = steady_ns();
};
const Calibration& calibration() {
  static const Calibration c;
  return c;
}
int64_t start_ticks() {
  calibration();  // the process's first context starts the calibration window
  return ticks();
}

double ns_per_tick() {
  if (!tsc_is_the_clocksource()) return 1.0;
  static const double rate = [] {
    const Calibration& c = calibration();
    while (steady_ns() - c.ns0 < 20'000'000) {
    }
    const int64_t t = ticks(), ns = steady_ns();
    return static_cast<double>(ns - c.ns0) / static_cast<double>(t - c.ticks0);
  }();
  return rate;
}

// torch.profiler's style: "1.234ms", "56.789us".
std::string fmt_time(double s) {
  if (s >= 1.0) return fmt::format("{:.3f}s", s);
  if (s >= 1e-3) return fmt::format("{:.3f}ms", s * 1e3);
  return fmt::format("{:.3f}us", s * 1e6);
}

std::string pct(double part, double whole) { return whole > 0 ? fmt::format("{:.1f}%", 100 * part / whole) : "-"; }

std::string bound_of(const ProfileRow& r, const MachinePeaks* peaks) {
  if (peaks == nullptr || (r.cost.flops <= 0 && r.cost.bytes <= 0)) return "-";
  return bound_name(roofline(r.cost, *peaks).bound);
}

}  // namespace

ProfilerContext::ProfilerContext(ProfilerOptions options)
    : options_(options), origin_ticks_(start_ticks()), id_(g_next_context_id.fetch_add(1)) {
  previous_ = dispatch_observer();
  dispatch_observer_install(this);
  installed_ = true;
}

ProfilerContext::~ProfilerContext() { stop(); }

void ProfilerContext::stop() {
  if (!installed_) return;
  // Restore the outer observer only if nothing replaced us in the meantime.
  if (dispatch_observer() == this) dispatch_observer_install(previous_);
  installed_ = false;
}

void ProfilerContext::clear() {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& ts : threads_)
    TINYOPT_CHECK(ts->open.empty(), "profiler: clear() while {} event(s) are open on a thread", ts->open.size());
  for (const auto& ts : threads_) {
    ts->events.clear();
    ts->dims.clear();
  }
}

int64_t ProfilerContext::now_ticks() const { return ticks() - origin_ticks_; }

ProfilerContext::ThreadState& ProfilerContext::thread_state() {
  if (t_cache.context == id_) return *static_cast<ThreadState*>(t_cache.state);
  std::lock_guard<std::mutex> lock(mutex_);
  ThreadState*& slot = by_thread_[std::this_thread::get_id()];
  if (slot == nullptr) {
    threads_.push_back(std::make_unique<ThreadState>());
    slot = threads_.back().get();
    slot->index = static_cast<int32_t>(threads_.size()) - 1;
    slot->dims.reserve(1 << 14);
  }
  t_cache = {id_, slot};
  return *slot;
}

ProfileEvent& ProfilerContext::open_event(ThreadState& ts, bool is_op) {
  const auto index = static_cast<int32_t>(ts.events.size());
  // Built in place, in storage that never moves.
  ProfileEvent& e = ts.events.emplace_back();
  e.is_op = is_op;
  e.thread = ts.index;
  e.parent = ts.open.empty() ? -1 : ts.open.back();
  e.depth = static_cast<int32_t>(ts.open.size());
  ts.open.push_back(index);
  e.start_ns = now_ticks();  // converted to ns by events()
  return e;
}

void ProfilerContext::close_event(ThreadState& ts, int64_t token, int64_t t) {
  if (std::find(ts.open.begin(), ts.open.end(), token) == ts.open.end()) return;  // stale (cleared) token
  // Events above `token` never saw their end (an exception unwound past an
  // op's run): close them here, marked, so the nesting stays intact.
  while (!ts.open.empty()) {
    const int32_t index = ts.open.back();
    ts.open.pop_back();
    ProfileEvent& e = ts.events[index];
    e.end_ns = t;
    e.unfinished = index != token;
    if (e.unfinished && options_.nvtx) nvtx::pop();
    if (e.parent >= 0) ts.events[e.parent].child_ns += e.duration_ns();
    if (index == token) break;
  }
}

int64_t ProfilerContext::op_begin(const OpCallInfo& info) {
  if (options_.sync_cuda && info.device.is_cuda()) device_synchronize(info.device);  // earlier work is not ours
  if (options_.nvtx) nvtx::push_op(info.op);
  ThreadState& ts = thread_state();
  ProfileEvent& e = open_event(ts, true);
  e.name = info.op;
  e.variant = info.variant;
  e.shapes_at = static_cast<uint32_t>(ts.dims.size());
  ts.dims.push_back(info.shapes.count);
  for (int i = 0; i < info.shapes.count; ++i) {
    const Shape& shape = info.shapes.shape[i];
    ts.dims.push_back(int64_t{shape.size()} | int64_t(info.shapes.dtype[i]) << 8 | int64_t{info.shapes.output[i]} << 16);
    ts.dims.insert(ts.dims.end(), shape.begin(), shape.end());
  }
  e.device = info.device;
  e.cost = info.cost;
  e.fallback = info.fallback;
  // A layer's work is the sum of the ops inside it, at any depth.
  for (int32_t p = e.parent; p >= 0; p = ts.events[p].parent) {
    ts.events[p].cost.flops += info.cost.flops;
    ts.events[p].cost.bytes += info.cost.bytes;
  }
  return static_cast<int64_t>(ts.events.size()) - 1;
}

void ProfilerContext::op_end(int64_t token) {
  ThreadState& ts = thread_state();
  if (options_.sync_cuda && token >= 0 && token < static_cast<int64_t>(ts.events.size()) &&
      ts.events[token].device.is_cuda())
    device_synchronize(ts.events[token].device);
  close_event(ts, token, now_ticks());
  if (options_.nvtx) nvtx::pop();
}

int64_t ProfilerContext::layer_begin(const char* type, const std::string& name) {
  if (options_.nvtx) nvtx::push_layer(name);
  ThreadState& ts = thread_state();
  ProfileEvent& e = open_event(ts, false);
  e.type = type;
  e.label = name;
  return static_cast<int64_t>(ts.events.size()) - 1;
}

void ProfilerContext::layer_end(int64_t token) {
  close_event(thread_state(), token, now_ticks());
  if (options_.nvtx) nvtx::pop();
}

// Every thread's events, thread by thread; parents re-indexed into the result
// and ticks converted to nanoseconds.
std::vector<ProfileEvent> ProfilerContext::events() const {
  const double rate = ns_per_tick();
  const auto ns = [rate](int64_t t) { return static_cast<int64_t>(std::llround(static_cast<double>(t) * rate)); };
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<ProfileEvent> out;
  for (const auto& ts : threads_) {
    const auto offset = static_cast<int32_t>(out.size());
    for (size_t i = 0; i < ts->events.size(); ++i) {
      ProfileEvent& e = out.emplace_back(ts->events[i]);
      if (e.parent >= 0) e.parent += offset;
      e.start_ns = ns(e.start_ns);
      if (e.end_ns >= 0) e.end_ns = ns(e.end_ns);
      e.child_ns = ns(e.child_ns);
    }
  }
  return out;
}

OpShapes ProfilerContext::shapes(const ProfileEvent& e) const {
  OpShapes out;
  if (!e.is_op) return out;
  std::lock_guard<std::mutex> lock(mutex_);
  const std::vector<int64_t>& dims = threads_.at(static_cast<size_t>(e.thread))->dims;
  size_t at = e.shapes_at;
  out.count = static_cast<int>(dims.at(at++));
  for (int i = 0; i < out.count; ++i) {
    const int64_t head = dims.at(at++);
    const auto ndim = static_cast<size_t>(head & 0xff);
    out.dtype[i] = static_cast<DType>((head >> 8) & 0xff);
    out.output[i] = ((head >> 16) & 1) != 0;
    out.shape[i] = Shape(std::vector<int64_t>(dims.begin() + static_cast<std::ptrdiff_t>(at),
                                              dims.begin() + static_cast<std::ptrdiff_t>(at + ndim)));
    at += ndim;
  }
  return out;
}

double ProfilerContext::total_seconds() const {
  int64_t total = 0;
  for (const ProfileEvent& e : events())
    if (e.depth == 0) total += e.duration_ns();
  return static_cast<double>(total) * 1e-9;
}

std::vector<ProfileRow> ProfilerContext::key_averages() const {
  std::map<std::pair<std::string, std::string>, size_t> index;
  std::vector<ProfileRow> rows;
  std::vector<std::vector<double>> self_times;  // per row, for the median
  for (const ProfileEvent& e : events()) {
    if (e.end_ns < 0) continue;  // still open: no time yet
    const std::string name = e.is_op ? e.name : e.label;
    const std::string variant = e.is_op ? e.variant : "layer";
    auto [it, fresh] = index.try_emplace({name, variant}, rows.size());
    if (fresh) {
      rows.push_back({name, variant, e.is_op, 0, 0, 0, 0, {}});
      self_times.emplace_back();
    }
    ProfileRow& r = rows[it->second];
    r.calls += 1;
    r.self_s += static_cast<double>(e.self_ns()) * 1e-9;
    r.total_s += static_cast<double>(e.duration_ns()) * 1e-9;
    r.cost.flops += e.cost.flops;
    r.cost.bytes += e.cost.bytes;
    self_times[it->second].push_back(static_cast<double>(e.self_ns()) * 1e-9);
  }
  for (size_t i = 0; i < rows.size(); ++i) rows[i].median_self_s = summarize(std::move(self_times[i])).p50;
  std::stable_sort(rows.begin(), rows.end(), [](const ProfileRow& a, const ProfileRow& b) { return a.self_s > b.self_s; });
  return rows;
}

std::string ProfilerContext::table(const MachinePeaks* peaks, size_t row_limit) const {
  const std::vector<ProfileRow> rows = key_averages();
  const double total = total_seconds();
  size_t name_w = 4, variant_w = 7;
  for (const ProfileRow& r : rows) {
    name_w = std::max(name_w, std::min<size_t>(r.name.size(), 40));
    variant_w = std::max(variant_w, r.variant.size());
  }
  const auto line = [&](const std::string& name, const std::string& variant, const std::string& calls,
                        const std::string& self, const std::string& self_pct, const std::string& median,
                        const std::string& tot,
                        const std::string& tot_pct, const std::string& gflops, const std::string& gbs,
                        const std::string& ai, const std::string& bound) {
    return fmt::format("{:<{}}  {:<{}}  {:>6}  {:>11}  {:>6}  {:>11}  {:>11}  {:>7}  {:>8}  {:>8}  {:>7}  {:<8}\n",
                       name.substr(0, name_w), name_w, variant, variant_w, calls, self, self_pct, median, tot, tot_pct,
                       gflops, gbs, ai, bound);
  };
  std::string out = line("Name", "Variant", "Calls", "Self time", "Self %", "Self/call", "Total time", "Total %",
                         "GFLOP/s", "GB/s", "FLOP/B", "Bound by");
  const std::string rule(out.size() - 1, '-');
  out = rule + "\n" + out + rule + "\n";
  size_t shown = 0;
  for (const ProfileRow& r : rows) {
    if (row_limit > 0 && shown++ >= row_limit) break;
    const bool has_cost = r.cost.flops > 0 || r.cost.bytes > 0;
    out += line(r.name, r.variant, std::to_string(r.calls), fmt_time(r.self_s), pct(r.self_s, total),
                fmt_time(r.median_self_s), fmt_time(r.total_s), pct(r.total_s, total), has_cost ? fmt::format("{:.2f}", r.gflops_per_s()) : "-",
                has_cost ? fmt::format("{:.2f}", r.gbytes_per_s()) : "-",
                r.cost.bytes > 0 ? fmt::format("{:.2f}", r.cost.intensity()) : "-", bound_of(r, peaks));
  }
  out += rule + "\n";
  out += fmt::format("Self time total: {} (Self/call: the median call)", fmt_time(total));
  if (peaks != nullptr) {
    out += fmt::format("; roofs: {:.1f} GFLOP/s, {:.1f} GB/s, ridge {:.2f} FLOP/B ({} threads)", peaks->fp32_gflops,
                       peaks->bandwidth_gbs, peaks->ridge_intensity(), peaks->threads);
  }
  return out + "\n";
}

std::string ProfilerContext::bottleneck(const MachinePeaks* peaks) const {
  const std::vector<ProfileRow> rows = key_averages();
  const double total = total_seconds();
  const ProfileRow* top_op = nullptr;
  double outside_ops = 0;  // layer self time: allocation, copies, glue between ops
  for (const ProfileRow& r : rows) {
    if (r.is_op && top_op == nullptr) top_op = &r;
    if (!r.is_op) outside_ops += r.self_s;
  }
  if (top_op == nullptr) return "Bottleneck: no op was dispatched while the profiler was active";
  std::string out = fmt::format("Bottleneck: {} ({}) takes {} of the profiled time ({} over {} calls)", top_op->name,
                                top_op->variant, pct(top_op->self_s, total), fmt_time(top_op->self_s), top_op->calls);
  if (peaks != nullptr && top_op->cost.bytes > 0) {
    const RooflineVerdict v = roofline(top_op->cost, *peaks, top_op->self_s);
    out += fmt::format("; {:.2f} FLOP/B {} ridge {:.2f} -> {}-bound, {:.1f} of {:.1f} GFLOP/s attainable ({:.0f}% of "
                       "its roof)",
                       v.intensity, v.bound == Bound::compute ? ">=" : "<", v.ridge, bound_name(v.bound),
                       v.achieved_gflops, v.attainable_gflops, 100 * v.fraction_of_roof());
  }
  if (outside_ops > top_op->self_s)
    out += fmt::format("; but more time ({}) is spent between ops (allocation, copies, layer glue)", pct(outside_ops, total));
  return out;
}

std::string ProfilerContext::roofline_report(const MachinePeaks& peaks) const {
  std::string out;
  for (const ProfileRow& r : key_averages()) {
    if (!r.is_op || r.cost.bytes <= 0) continue;
    const RooflineVerdict v = roofline(r.cost, peaks, r.self_s);
    std::string achieved;
    if (v.bound == Bound::compute) {
      achieved = fmt::format("achieved {:.1f} of {:.1f} GFLOP/s ({:.0f}%)", v.achieved_gflops, v.attainable_gflops,
                             100 * v.fraction_of_roof());
    } else {
      const double gbs = r.gbytes_per_s(), roof = peaks.bandwidth_for(r.cost.bytes);
      achieved = fmt::format("moved {:.1f} of {:.1f} GB/s ({:.0f}% of the {} roof)", gbs, roof, 100 * gbs / roof,
                             peaks.memory_level_for(r.cost.bytes));
    }
    out += fmt::format("  {:<20} {:<14} {:8.2f} FLOP/B {} ridge {:.2f}: {}-bound; {}\n", r.name, r.variant,
                       v.intensity, v.bound == Bound::compute ? ">=" : "< ", v.ridge, bound_name(v.bound), achieved);
  }
  return out;
}

nlohmann::json ProfilerContext::to_json(const MachinePeaks* peaks) const {
  nlohmann::json rows = nlohmann::json::array();
  for (const ProfileRow& r : key_averages()) {
    nlohmann::json j = {{"name", r.name},       {"variant", r.variant},     {"kind", r.is_op ? "op" : "layer"},
                        {"calls", r.calls},     {"self_s", r.self_s},       {"median_self_s", r.median_self_s}, {"total_s", r.total_s},
                        {"flops", r.cost.flops}, {"bytes", r.cost.bytes},   {"gflops_per_s", r.gflops_per_s()},
                        {"gbytes_per_s", r.gbytes_per_s()}};
    if (peaks != nullptr && r.cost.bytes > 0) {
      const RooflineVerdict v = roofline(r.cost, *peaks, r.is_op ? r.self_s : r.total_s);
      j["intensity"] = v.intensity;
      j["bound_by"] = bound_name(v.bound);
      j["fraction_of_roof"] = v.fraction_of_roof();
    }
    rows.push_back(j);
  }
  nlohmann::json out = {{"total_s", total_seconds()}, {"rows", rows}, {"bottleneck", bottleneck(peaks)}};
  if (peaks != nullptr) {
    out["peaks"] = {{"key", peaks->key},         {"fp32_gflops", peaks->fp32_gflops},
                    {"bandwidth_gbs", peaks->bandwidth_gbs}, {"l2_gbs", peaks->l2_gbs}, {"l3_gbs", peaks->l3_gbs},
                    {"ridge", peaks->ridge_intensity()},
                    {"method", peaks->method},   {"measured_at", peaks->measured_at},
                    {"from_cache", peaks->from_cache}, {"cache_note", peaks->cache_note},
                    {"conditions", peaks->conditions.to_json()}};
  }
  return out;
}

nlohmann::json ProfilerContext::chrome_trace(bool complete, const std::string& error) const {
  const std::vector<ProfileEvent> evs = events();
  const int pid = static_cast<int>(getpid());
  nlohmann::json trace = nlohmann::json::array();
  trace.push_back({{"name", "process_name"}, {"ph", "M"}, {"pid", pid}, {"tid", 0}, {"args", {{"name", "tinyopt"}}}});
  int32_t threads = 0;
  int64_t last_ns = 0;
  for (const ProfileEvent& e : evs) {
    threads = std::max(threads, e.thread + 1);
    last_ns = std::max(last_ns, std::max(e.start_ns, e.end_ns));
  }
  for (int32_t t = 0; t < threads; ++t)
    trace.push_back({{"name", "thread_name"}, {"ph", "M"}, {"pid", pid}, {"tid", t},
                     {"args", {{"name", t == 0 ? std::string("main") : fmt::format("thread {}", t)}}}});
  // Events still open (the run failed inside them) end with their parent, or
  // at the last timestamp seen, so the trace still nests; they are marked.
  std::vector<int64_t> end(evs.size());
  for (size_t i = 0; i < evs.size(); ++i) {
    const ProfileEvent& e = evs[i];
    end[i] = e.end_ns >= 0 ? e.end_ns : (e.parent >= 0 ? end[static_cast<size_t>(e.parent)] : last_ns);
    nlohmann::json args = {{"device", e.device.str()}};
    if (e.is_op) {
      args.update({{"variant", e.variant}, {"shapes", shapes(e).str()}, {"flops", e.cost.flops}, {"bytes", e.cost.bytes}});
      if (e.fallback) args["fallback"] = "cuda call ran on the cpu";
    } else {
      args.update({{"type", e.type}, {"flops", e.cost.flops}, {"bytes", e.cost.bytes}});
    }
    if (e.unfinished || e.end_ns < 0) args["unfinished"] = true;
    trace.push_back({{"name", e.is_op ? std::string(e.name) : e.label},
                     {"cat", e.is_op ? "op" : "layer"},
                     {"ph", "X"},
                     {"ts", static_cast<double>(e.start_ns) / 1e3},
                     {"dur", static_cast<double>(end[i] - e.start_ns) / 1e3},
                     {"pid", pid},
                     {"tid", e.thread},
                     {"args", args}});
  }
  nlohmann::json other = {{"tool", "tinyopt profiler"}, {"complete", complete}};
  if (!error.empty()) other["error"] = error;
  return {{"traceEvents", trace}, {"displayTimeUnit", "ms"}, {"otherData", other}};
}

void ProfilerContext::export_chrome_trace(const std::string& path, bool complete, const std::string& error) const {
  write_file_atomic(path, chrome_trace(complete, error).dump() + "\n");
}

}  // namespace tinyopt
