// Per-device scratch buffers and the bad-index flag helpers (see cuda_scratch.cuh).
#include <memory>
#include <vector>

#include "backends/cuda/cuda_common.cuh"
#include "backends/cuda/cuda_kernels.h"
#include "backends/cuda/cuda_scratch.cuh"

namespace tinyopt::cuda {

namespace {

struct DeviceScratch {
  std::mutex mutex;
  void* ptr = nullptr;
  size_t bytes = 0;
};

DeviceScratch& device_scratch(int device) {
  // Sized once: the set of visible devices cannot change during a process.
  static std::vector<std::unique_ptr<DeviceScratch>> buffers = [] {
    std::vector<std::unique_ptr<DeviceScratch>> v;
    for (int d = 0; d < device_count(); ++d) v.push_back(std::make_unique<DeviceScratch>());
    return v;
  }();
  TINYOPT_CHECK(device >= 0 && device < static_cast<int>(buffers.size()),
                "scratch buffer for cuda:{} requested, but {} CUDA device(s) are present", device, buffers.size());
  return *buffers[static_cast<size_t>(device)];
}

}  // namespace

ScratchLease::ScratchLease(int device, size_t bytes) {
  DeviceScratch& s = device_scratch(device);
  lock_ = std::unique_lock<std::mutex>(s.mutex);
  set_device(device);
  if (bytes == 0) bytes = 256;
  if (s.bytes < bytes) {
    // Grow geometrically (at least 1 MiB) so a ladder of growing calls does
    // not reallocate every time. cudaFree waits for the kernels still using
    // the old buffer.
    size_t want = s.bytes * 2 > bytes ? s.bytes * 2 : bytes;
    if (want < (size_t{1} << 20)) want = size_t{1} << 20;
    if (s.ptr != nullptr) {
      CUDA_CHECK(cudaFree(s.ptr));
      s.ptr = nullptr;
      s.bytes = 0;
    }
    void* p = nullptr;
    if (cudaMalloc(&p, want) != cudaSuccess) {
      (void)cudaGetLastError();
      CUDA_CHECK(cudaMalloc(&p, bytes));  // the geometric size did not fit: try the exact one
      want = bytes;
    }
    s.ptr = p;
    s.bytes = want;
  }
  ptr_ = s.ptr;
}

void bad_index_reset(unsigned long long* flag) {
  CUDA_CHECK(cudaMemsetAsync(flag, 0xFF, sizeof(unsigned long long), nullptr));
}

unsigned long long bad_index_read(const unsigned long long* flag) {
  unsigned long long value = kNoBadIndex;
  CUDA_CHECK(cudaMemcpy(&value, flag, sizeof value, cudaMemcpyDeviceToHost));
  return value;
}

int64_t read_index_value(const void* values, size_t index_bytes, unsigned long long index) {
  const char* at = static_cast<const char*>(values) + index * index_bytes;
  if (index_bytes == 4) {
    int32_t v = 0;
    CUDA_CHECK(cudaMemcpy(&v, at, sizeof v, cudaMemcpyDeviceToHost));
    return v;
  }
  int64_t v = 0;
  CUDA_CHECK(cudaMemcpy(&v, at, sizeof v, cudaMemcpyDeviceToHost));
  return v;
}

}  // namespace tinyopt::cuda
