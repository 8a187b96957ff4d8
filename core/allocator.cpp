#include "core/allocator.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <map>
#include <memory>

#include "core/device_runtime.h"
#include "core/error.h"

namespace tinyopt {

namespace {

std::atomic<int64_t>& fail_countdown() {
  static std::atomic<int64_t> countdown{[] {
    const char* env = std::getenv("TINYOPT_FAIL_ALLOC");
    return env != nullptr ? std::max<int64_t>(0, std::strtoll(env, nullptr, 10)) : int64_t{0};
  }()};
  return countdown;
}

// True when this allocation is the injected failure.
bool injected_failure() {
  std::atomic<int64_t>& c = fail_countdown();
  int64_t n = c.load(std::memory_order_relaxed);
  while (n > 0) {
    if (c.compare_exchange_weak(n, n - 1, std::memory_order_relaxed)) return n == 1;
  }
  return false;
}

}  // namespace

int64_t inject_host_allocation_failure(int64_t nth) { return fail_countdown().exchange(std::max<int64_t>(0, nth)); }

TrackingAllocator& TrackingAllocator::of(Device device) {
  static std::mutex registry_mutex;
  static std::map<std::pair<int, int>, std::unique_ptr<TrackingAllocator>> registry;
  const auto lookup = [](Device d) -> TrackingAllocator& {
    std::lock_guard<std::mutex> lock(registry_mutex);
    auto& slot = registry[{static_cast<int>(d.type), d.index}];
    if (!slot) slot.reset(new TrackingAllocator(d));
    return *slot;
  };
  if (device == Device::cpu()) {  // every host tensor: no lock, no map lookup
    static TrackingAllocator& host = lookup(Device::cpu());
    return host;
  }
  return lookup(device);
}

namespace {

// The size class of a host request (kHostAlignment << class bytes), or -1 above the cached range.
int size_class(size_t bytes, size_t cached_max) {
  if (bytes > cached_max) return -1;
  int c = 0;
  for (size_t size = kHostAlignment; size < bytes; size <<= 1) ++c;
  return c;
}

}  // namespace

TrackingAllocator::~TrackingAllocator() {
  for (auto& blocks : cached_)
    for (void* p : blocks) std::free(p);
}

void* TrackingAllocator::allocate(size_t bytes) {
  // Zero-byte tensors still get a unique pointer so bookkeeping stays uniform.
  const size_t request = bytes == 0 ? 1 : bytes;
  void* ptr = nullptr;
  int cls = -1;
  if (device_.is_cpu()) {
    cls = size_class(request, kCachedMax);
    const size_t capacity =
        cls >= 0 ? kHostAlignment << cls : (request + kHostAlignment - 1) / kHostAlignment * kHostAlignment;
    if (injected_failure()) {
      ptr = nullptr;
    } else {
      if (cls >= 0) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!cached_[cls].empty()) {
          ptr = cached_[cls].back();
          cached_[cls].pop_back();
        }
      }
      if (ptr == nullptr) ptr = std::aligned_alloc(kHostAlignment, capacity);
    }
    TINYOPT_CHECK(ptr != nullptr, "out of host memory: could not allocate {} bytes", bytes);
  } else {
    device_require(device_);
    TINYOPT_CHECK(!injected_failure(), "{}: could not allocate {} bytes: out of device memory (injected failure)",
                  device_.str(), bytes);
    ptr = device_runtime(device_.type)->allocate(request, device_.index);
  }
  std::lock_guard<std::mutex> lock(mutex_);
  live_[ptr] = Block{bytes, cls, sequence_++};
  stats_.current_bytes += static_cast<int64_t>(bytes);
  stats_.total_bytes += static_cast<int64_t>(bytes);
  stats_.allocation_count += 1;
  stats_.live_allocations += 1;
  if (stats_.current_bytes > stats_.peak_bytes) stats_.peak_bytes = stats_.current_bytes;
  return ptr;
}

void TrackingAllocator::deallocate(void* ptr) {
  if (ptr == nullptr) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = live_.find(ptr);
    if (it != live_.end()) {
      const int cls = it->second.size_class;
      stats_.current_bytes -= static_cast<int64_t>(it->second.bytes);
      stats_.live_allocations -= 1;
      live_.erase(it);
      if (cls >= 0 && cached_[cls].size() < kCachedPerClass) {
        cached_[cls].push_back(ptr);
        return;
      }
    }
  }
  if (device_.is_cpu()) {
    std::free(ptr);
  } else if (const DeviceRuntime* rt = device_runtime(device_.type)) {
    rt->deallocate(ptr, device_.index);
  }
}

AllocatorStats TrackingAllocator::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

int64_t TrackingAllocator::reset_peak() {
  std::lock_guard<std::mutex> lock(mutex_);
  const int64_t old = stats_.peak_bytes;
  stats_.peak_bytes = stats_.current_bytes;
  return old;
}

void TrackingAllocator::restore_peak(int64_t at_least) {
  std::lock_guard<std::mutex> lock(mutex_);
  stats_.peak_bytes = std::max(stats_.peak_bytes, at_least);
}

uint64_t TrackingAllocator::next_sequence() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return sequence_;
}

std::vector<LiveAllocation> TrackingAllocator::live_since(uint64_t since_sequence) const {
  std::vector<LiveAllocation> out;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& [ptr, block] : live_) {
      if (block.sequence >= since_sequence) out.push_back({ptr, block.bytes, block.sequence});
    }
  }
  std::sort(out.begin(), out.end(), [](const LiveAllocation& a, const LiveAllocation& b) { return a.sequence < b.sequence; });
  return out;
}

}  // namespace tinyopt
