// ProfilerContext: while alive, records every dispatched op (name, variant
// that ran, shapes, device, time, FLOPs, bytes) and every layer scope, then
// summarises them like torch.profiler's key_averages().table() and exports a
// Chrome trace (Perfetto, chrome://tracing).
//
//   {
//     ProfilerContext prof;              // installs itself as the dispatch observer
//     model.forward(x);
//     std::puts(prof.table(&peaks).c_str());
//     prof.export_chrome_trace("trace.json");
//   }                                    // uninstalls, restoring any outer observer
//
// Times are host wall-clock. An op on a CUDA device is synchronized before
// and after (sync_cuda), so its time is its device time and not its launch;
// that serialises the device, which is what a per-op profile needs.
// With no context alive the dispatcher pays one atomic load per call.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/dispatch_observer.h"
#include "profiler/flop_counter.h"
#include "profiler/machine_peak.h"

namespace tinyopt {

struct ProfileEvent {
  bool is_op = true;
  const char* name = "";     // op: catalogue name (a literal that lives for the process)
  std::string label;         // layer: its name ("0:conv2d", "transformer.h.1")
  std::string type;          // layer: its type ("conv2d", "transformer_block")
  const char* variant = "";  // op: the variant that ran ("cpu.blocked")
  uint32_t shapes_at = 0;    // op: where its tensors' shapes are packed (read them with ProfilerContext::shapes)
  Device device;
  OpCost cost;               // op: its formula; layer: the sum over the ops inside it
  bool fallback = false;     // a CUDA call that ran on the CPU
  bool unfinished = false;   // never ended normally (an exception unwound past it)
  // Times as events() returns them (recorded as clock ticks, converted there).
  int64_t start_ns = 0;      // since the context started
  int64_t end_ns = -1;       // -1 while open
  int64_t child_ns = 0;      // time inside nested events
  int32_t parent = -1;       // index of the enclosing event on the same thread
  int32_t depth = 0;
  int32_t thread = 0;        // 0, 1, ... in order of first event
  int64_t duration_ns() const { return end_ns >= start_ns ? end_ns - start_ns : 0; }
  int64_t self_ns() const { return std::max<int64_t>(0, duration_ns() - child_ns); }  // >= 0 despite rounding
};

// One row of key_averages(): ops grouped by (name, variant), layers by name.
struct ProfileRow {
  std::string name;
  std::string variant;  // "layer" for layer rows
  bool is_op = true;
  int64_t calls = 0;
  double self_s = 0, total_s = 0;
  // Median self time of one call: on a shared machine a preempted call can
  // inflate a row's sum, the median it barely moves.
  double median_self_s = 0;
  OpCost cost;          // summed (inclusive for layers)
  double gflops_per_s() const { return self_or_total() > 0 ? cost.flops / self_or_total() * 1e-9 : 0; }
  double gbytes_per_s() const { return self_or_total() > 0 ? cost.bytes / self_or_total() * 1e-9 : 0; }

 private:
  double self_or_total() const { return is_op ? self_s : total_s; }  // a layer's work is its ops'
};

struct ProfilerOptions {
  bool nvtx = true;       // NVTX ranges (only when built with NVTX; free unless a tool attaches)
  bool sync_cuda = true;  // synchronize around CUDA ops so their time is device time
};

class ProfilerContext final : public DispatchObserver {
 public:
  explicit ProfilerContext(ProfilerOptions options = {});
  ~ProfilerContext() override;
  ProfilerContext(const ProfilerContext&) = delete;
  ProfilerContext& operator=(const ProfilerContext&) = delete;

  // Stops recording (uninstalls); the events stay for reporting.
  void stop();
  // Drops the recorded events (for long benchmark loops); keeps recording.
  // Like the reports below, call it while no thread is inside a profiled op
  // or layer (between forwards, or after stop()): buffers are not locked.
  void clear();

  std::vector<ProfileEvent> events() const;
  // An op event's tensors (inputs and outputs, in the Args' visit order).
  OpShapes shapes(const ProfileEvent& e) const;
  // Sorted by self time, highest first.
  std::vector<ProfileRow> key_averages() const;
  // Sum of the top-level events' durations: the profiled time.
  double total_seconds() const;

  // The table (peaks: adds roofline "bound by"; row_limit 0 = all rows).
  std::string table(const MachinePeaks* peaks = nullptr, size_t row_limit = 0) const;
  // One line naming the op that takes the most self time, and why.
  std::string bottleneck(const MachinePeaks* peaks = nullptr) const;
  // Per-op roofline lines: intensity vs ridge, achieved vs attainable.
  std::string roofline_report(const MachinePeaks& peaks) const;
  nlohmann::json to_json(const MachinePeaks* peaks = nullptr) const;

  // Chrome trace JSON ("X" events in microseconds, nested per thread). An
  // incomplete run says so in otherData.complete / otherData.error.
  nlohmann::json chrome_trace(bool complete = true, const std::string& error = "") const;
  // Written atomically: a reader sees the old file or the whole new one.
  void export_chrome_trace(const std::string& path, bool complete = true, const std::string& error = "") const;

  // DispatchObserver
  int64_t op_begin(const OpCallInfo& info) override;
  void op_end(int64_t token) override;
  int64_t layer_begin(const char* type, const std::string& name) override;
  void layer_end(int64_t token) override;

 private:
  // Each recording thread appends to its own buffer without locking (the
  // mutex guards only the thread registry), so an op costs two clock reads
  // and no atomic read-modify-write. Tokens are indices into the calling
  // thread's buffer: op_end and layer_end run on the thread that began them.
  // Append-only storage in fixed chunks: appending never moves recorded
  // events (a growing vector would copy them all, inside someone's timing).
  class EventLog {
   public:
    ProfileEvent& emplace_back() {
      const size_t chunk = size_ / kChunk;
      if (chunk == chunks_.size()) chunks_.emplace_back().reserve(kChunk);
      ++size_;
      return chunks_[chunk].emplace_back();
    }
    ProfileEvent& operator[](size_t i) { return chunks_[i / kChunk][i % kChunk]; }
    const ProfileEvent& operator[](size_t i) const { return chunks_[i / kChunk][i % kChunk]; }
    size_t size() const { return size_; }
    // Keeps the chunks' memory: refilling it costs no page faults.
    void clear() {
      for (auto& c : chunks_) c.clear();
      size_ = 0;
    }

   private:
    static constexpr size_t kChunk = 1024;
    std::vector<std::vector<ProfileEvent>> chunks_;  // each reserved to kChunk: never reallocated
    size_t size_ = 0;
  };
  struct ThreadState {
    int32_t index;
    EventLog events;
    std::vector<int32_t> open;  // stack of open event indices
    // Op shapes packed as [count, then per tensor: ndim | dtype << 8 | output << 16, dims...]:
    // ~100 bytes per op instead of a 0.5 KB OpShapes in every event, which
    // would push the model's own data out of L1 on small batches.
    std::vector<int64_t> dims;
  };
  int64_t now_ticks() const;
  ThreadState& thread_state();
  ProfileEvent& open_event(ThreadState& ts, bool is_op);  // stamps the start
  void close_event(ThreadState& ts, int64_t token, int64_t t);

  ProfilerOptions options_;
  DispatchObserver* previous_ = nullptr;
  bool installed_ = false;
  int64_t origin_ticks_ = 0;
  uint64_t id_;  // unique per context: the key of each thread's cached ThreadState
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<ThreadState>> threads_;
  std::unordered_map<std::thread::id, ThreadState*> by_thread_;
};

}  // namespace tinyopt
