#include "profiler/memory_profiler.h"

#include <fmt/format.h>
#include <sys/resource.h>

#include "core/device_runtime.h"

namespace tinyopt {

int64_t MemoryReport::leaked_bytes() const {
  int64_t total = 0;
  for (const LiveAllocation& a : leaks) total += static_cast<int64_t>(a.bytes);
  return total;
}

MemoryProfiler::MemoryProfiler(std::vector<Device> devices) {
  if (devices.empty()) {
    devices.push_back(Device::cpu());
    for (int i = 0; i < device_count(DeviceType::cuda); ++i) devices.push_back(Device::cuda(i));
  }
  for (Device d : devices) {
    TrackingAllocator& a = TrackingAllocator::of(d);
    Watch w{&a, {}, 0, a.next_sequence()};
    w.outer_peak = a.reset_peak();  // this scope's peak starts at the live bytes now
    w.start = a.stats();
    watches_.push_back(w);
  }
}

MemoryProfiler::~MemoryProfiler() { stop(); }

const std::vector<MemoryReport>& MemoryProfiler::stop() {
  if (stopped_) return reports_;
  stopped_ = true;
  for (const Watch& w : watches_) {
    const AllocatorStats end = w.allocator->stats();
    MemoryReport r;
    r.device = w.allocator->device();
    r.allocated_bytes = end.total_bytes - w.start.total_bytes;
    r.allocation_count = end.allocation_count - w.start.allocation_count;
    r.start_bytes = w.start.current_bytes;
    r.end_bytes = end.current_bytes;
    r.peak_bytes = end.peak_bytes;
    r.leaks = w.allocator->live_since(w.first_sequence);
    // The enclosing scope (or the process) keeps the higher of both marks.
    w.allocator->restore_peak(w.outer_peak);
    reports_.push_back(std::move(r));
  }
  return reports_;
}

int64_t process_peak_rss_bytes() {
  rusage usage{};
  if (getrusage(RUSAGE_SELF, &usage) != 0) return 0;
  return static_cast<int64_t>(usage.ru_maxrss) * 1024;  // Linux reports KiB
}

std::string format_bytes(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (bytes >= 1024 && u < 4) {
    bytes /= 1024;
    ++u;
  }
  return u == 0 ? fmt::format("{:.0f} B", bytes) : fmt::format("{:.1f} {}", bytes, units[u]);
}

std::string format_memory_report(const MemoryReport& r) {
  return fmt::format("{}: {} allocated in {} allocations, peak {} (+{} over the start), {} left alive ({})",
                     r.device.str(), format_bytes(double(r.allocated_bytes)), r.allocation_count,
                     format_bytes(double(r.peak_bytes)), format_bytes(double(r.peak_increase())), r.leaks.size(),
                     format_bytes(double(r.leaked_bytes())));
}

}  // namespace tinyopt
