// Per-device scratch memory for kernels that need a temporary buffer (the
// im2col matrix of cuda.cublas conv2d, the per-row losses of cross_entropy,
// the error flags of embedding and cross_entropy).
//
// One buffer per device, grown on demand and kept until process exit (like
// the cuBLAS handles: freeing from a static destructor can run after the CUDA
// runtime is gone). A ScratchLease holds the device's mutex for its whole
// lifetime, so two host threads never enqueue work on the same bytes at once;
// every kernel of this backend runs on the legacy default stream, so the GPU
// also executes one lease's work before the next lease's. Growing frees the old
// buffer with cudaFree, which waits for the kernels still using it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>

namespace tinyopt::cuda {

class ScratchLease {
 public:
  // Locks `device`'s buffer and makes it at least `bytes` long (throws
  // tinyopt::Error when the allocation fails). Sets `device` current.
  ScratchLease(int device, size_t bytes);
  ScratchLease(const ScratchLease&) = delete;
  ScratchLease& operator=(const ScratchLease&) = delete;

  // The buffer, 256-byte aligned; `byte_offset` carves sub-buffers out of it.
  template <class T>
  T* as(size_t byte_offset = 0) const {
    return reinterpret_cast<T*>(static_cast<char*>(ptr_) + byte_offset);
  }

 private:
  std::unique_lock<std::mutex> lock_;
  void* ptr_ = nullptr;
};

// Bytes rounded up to a multiple of 256, for carving aligned sub-buffers.
constexpr size_t scratch_align(size_t bytes) { return (bytes + 255) / 256 * 256; }

// The "first bad index" flag of the bounds-checked gathers (embedding,
// cross_entropy): a device uint64 that starts at kNoBadIndex; a kernel that
// meets an out-of-range index lowers it with atomicMin, and the host reads it
// back after the launch and throws.
constexpr unsigned long long kNoBadIndex = ~0ull;
// Enqueues the reset of `flag` to kNoBadIndex.
void bad_index_reset(unsigned long long* flag);
// Copies `flag` to the host (waiting for the kernels before it); kNoBadIndex when all indices were valid.
unsigned long long bad_index_read(const unsigned long long* flag);
// The integer at `index` of a device array of i32 (index_bytes 4) or i64 (8) values, for error messages.
int64_t read_index_value(const void* values, size_t index_bytes, unsigned long long index);

}  // namespace tinyopt::cuda
