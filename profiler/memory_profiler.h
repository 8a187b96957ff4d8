// MemoryProfiler: what one scope did to the tracking allocator of each device
// (bytes and count allocated, its own peak, allocations it left alive), plus
// the process's peak resident set for the whole run.
//
//   MemoryProfiler mem;                 // CPU and every CUDA device present
//   model.forward(x);
//   for (const MemoryReport& r : mem.stop()) ... r.leaks ...
//
// "Leak" means made inside the scope and still alive at its end: a tensor the
// scope returns shows up too, which is the point when checking that a loop
// body leaves nothing behind.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/allocator.h"
#include "core/device.h"

namespace tinyopt {

struct MemoryReport {
  Device device;
  int64_t allocated_bytes = 0;   // bytes allocated inside the scope (freed or not)
  int64_t allocation_count = 0;  // allocations made inside the scope
  int64_t start_bytes = 0;       // live bytes when the scope began
  int64_t end_bytes = 0;         // live bytes when it ended
  int64_t peak_bytes = 0;        // highest live bytes during the scope (absolute)
  std::vector<LiveAllocation> leaks;  // made in the scope, alive at its end, oldest first
  int64_t leaked_bytes() const;
  int64_t peak_increase() const { return peak_bytes - start_bytes; }  // what the scope added at worst
};

class MemoryProfiler {
 public:
  // Empty `devices`: the CPU and every CUDA device this process can use.
  explicit MemoryProfiler(std::vector<Device> devices = {});
  ~MemoryProfiler();  // stops (restoring the allocators' outer peaks) if stop() was not called
  MemoryProfiler(const MemoryProfiler&) = delete;
  MemoryProfiler& operator=(const MemoryProfiler&) = delete;

  // Ends the scope; later calls return the same reports.
  const std::vector<MemoryReport>& stop();

 private:
  struct Watch {
    TrackingAllocator* allocator;
    AllocatorStats start;
    int64_t outer_peak;  // the allocator's peak before this scope reset it
    uint64_t first_sequence;
  };
  std::vector<Watch> watches_;
  std::vector<MemoryReport> reports_;
  bool stopped_ = false;
};

// Peak resident set size of this process so far (getrusage), in bytes.
int64_t process_peak_rss_bytes();

// "cpu: 12.0 MiB allocated in 340 allocations, peak +4.5 MiB, 0 leaks"
std::string format_memory_report(const MemoryReport& report);
std::string format_bytes(double bytes);  // "1.5 MiB"

}  // namespace tinyopt
