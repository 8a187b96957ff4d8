// A 64-byte-aligned scratch buffer that only grows. Kernels keep one per
// thread (`static thread_local`): OpenMP's pool threads live for the whole
// process, so after the first call of a given size no call allocates (or
// page-faults on fresh memory) again.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <new>

namespace tinyopt::cpu {

template <class T>
class ScratchBuffer {
 public:
  ScratchBuffer() = default;
  ~ScratchBuffer() { std::free(data_); }
  ScratchBuffer(const ScratchBuffer&) = delete;
  ScratchBuffer& operator=(const ScratchBuffer&) = delete;

  // At least `count` elements; the contents are unspecified.
  T* get(size_t count) {
    if (count > capacity_) {
      std::free(data_);
      data_ = nullptr;
      capacity_ = 0;
      const size_t bytes = (count * sizeof(T) + 63) / 64 * 64;  // aligned_alloc wants whole alignments
      data_ = static_cast<T*>(std::aligned_alloc(64, bytes));
      if (data_ == nullptr) throw std::bad_alloc();
      capacity_ = bytes / sizeof(T);
    }
    return data_;
  }

 private:
  T* data_ = nullptr;
  size_t capacity_ = 0;
};

using ScratchFloats = ScratchBuffer<float>;

}  // namespace tinyopt::cpu
