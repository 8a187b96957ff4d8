// Tracking allocator: every tensor's bytes come from here, one instance per
// device, so the memory profiler can read current bytes, peak bytes and the
// allocations still alive (with their sizes) at any moment.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "core/device.h"

namespace tinyopt {

struct AllocatorStats {
  int64_t current_bytes = 0;     // bytes live right now
  int64_t peak_bytes = 0;        // high-water mark since start or reset_peak()
  int64_t total_bytes = 0;       // bytes ever allocated
  int64_t allocation_count = 0;  // allocations ever made
  int64_t live_allocations = 0;  // allocations not yet freed
};

struct LiveAllocation {
  const void* ptr;
  size_t bytes;
  uint64_t sequence;  // increasing per allocation: "made after sequence S" finds a scope's leaks
};

class TrackingAllocator {
 public:
  // The allocator of one device (created on first use).
  static TrackingAllocator& of(Device device);

  void* allocate(size_t bytes);
  void deallocate(void* ptr);
  ~TrackingAllocator();

  AllocatorStats stats() const;
  // Starts a new high-water mark at the current bytes and returns the old one,
  // so a scope can measure its own peak and then restore_peak(old): scopes nest.
  int64_t reset_peak();
  // peak = max(peak, at_least).
  void restore_peak(int64_t at_least);
  uint64_t next_sequence() const;
  // Live allocations made at or after `since_sequence`, oldest first.
  std::vector<LiveAllocation> live_since(uint64_t since_sequence) const;
  Device device() const { return device_; }

 private:
  explicit TrackingAllocator(Device device) : device_(device) {}
  struct Block {
    size_t bytes;
    int size_class;   // host blocks of a cached size class: its index (reusable on free); else -1
    uint64_t sequence;
  };
  // Freed host blocks kept for reuse, per power-of-two size class up to
  // kCachedMax: a batch-1 forward allocates and frees the same few small
  // tensors every call, and glibc's aligned_alloc/free of them (with its
  // free-list consolidation) cost ~0.1 us each, ~10% of an INT8 MLP's time.
  // Cached blocks are not live: the statistics count only what tensors hold.
  static constexpr size_t kCachedMax = size_t{1} << 18;  // 256 KiB
  static constexpr size_t kCachedPerClass = 4;
  static constexpr int kClasses = 13;                     // 64 B .. 256 KiB
  Device device_;
  mutable std::mutex mutex_;
  std::unordered_map<void*, Block> live_;
  std::vector<void*> cached_[kClasses];
  AllocatorStats stats_;
  uint64_t sequence_ = 0;
};

// Fault injection: makes the `nth` tracked allocation from now on (1 = the
// next one; host and device allocations both count) fail as if that device
// were out of memory; 0 turns it off. It fires once. The environment variable TINYOPT_FAIL_ALLOC=N arms it at start-up,
// so tests can check that the CLI reports out-of-memory cleanly wherever it
// happens. Returns the previous setting.
int64_t inject_host_allocation_failure(int64_t nth);

// Host allocations are 64-byte aligned (one cache line, one AVX-512 register)
// so SIMD kernels may use aligned loads on a tensor's first element.
constexpr size_t kHostAlignment = 64;

}  // namespace tinyopt
