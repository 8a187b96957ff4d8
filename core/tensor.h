// Tensor: a typed, shaped, strided view onto reference-counted storage on one
// device. Copying a Tensor copies the handle (like torch.Tensor), not the bytes.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/device.h"
#include "core/dtype.h"
#include "core/error.h"
#include "core/shape.h"

namespace tinyopt {

// Bytes owned by one allocation of the device's TrackingAllocator.
class Storage {
 public:
  Storage(size_t bytes, Device device);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }
  Device device() const { return device_; }

 private:
  void* data_ = nullptr;
  size_t bytes_ = 0;
  Device device_;
};

class Tensor {
 public:
  Tensor() = default;

  // Uninitialised contiguous tensor (bytes come from the tracking allocator).
  static Tensor empty(const Shape& shape, DType dtype, Device device = Device::cpu());
  static Tensor zeros(const Shape& shape, DType dtype, Device device = Device::cpu());
  // A host tensor with every element `value` (converted to `dtype` as fill() does).
  static Tensor full(const Shape& shape, double value, DType dtype);
  // A view of `shape` starting `offset_bytes` into existing storage (used by
  // the conformance test to place guard bytes after an output).
  static Tensor view_of(std::shared_ptr<Storage> storage, const Shape& shape, DType dtype, size_t offset_bytes = 0);

  bool defined() const { return storage_ != nullptr; }
  const Shape& shape() const { return shape_; }
  const Shape& strides() const { return strides_; }  // in elements
  int ndim() const { return shape_.size(); }
  int64_t size(int dim) const;
  int64_t numel() const { return shape_.numel(); }
  DType dtype() const { return dtype_; }
  Device device() const { return storage_ ? storage_->device() : Device::cpu(); }
  size_t nbytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype_); }
  bool is_contiguous() const;
  const std::shared_ptr<Storage>& storage() const { return storage_; }

  void* raw_data() const;
  template <class T>
  T* data() const {
    TINYOPT_CHECK(dtype_of<T>::value == dtype_, "tensor {} accessed as {}", describe(), dtype_name(dtype_of<T>::value));
    return static_cast<T*>(raw_data());
  }

  // A copy on `device` (returns *this when already there and contiguous).
  Tensor to(Device device) const;
  Tensor contiguous() const;
  Tensor clone() const;
  // Same storage, new shape; requires a contiguous tensor and equal numel.
  Tensor reshape(const Shape& shape) const;
  // Copies src's elements into this tensor; shapes and dtypes must match,
  // devices may differ. Both must be contiguous.
  void copy_from(const Tensor& src);
  // Sets every element to `value` (CPU tensors; CUDA tensors via the device runtime for 0).
  void fill(double value);

  // "f32[2, 3] on cpu": used in every error message about a tensor.
  std::string describe() const;

 private:
  std::shared_ptr<Storage> storage_;
  size_t offset_bytes_ = 0;
  Shape shape_;
  Shape strides_;
  DType dtype_ = DType::f32;
};

// Throws "<what>: expected <expected>, found <found>" style errors.
void check_same_shape(const Tensor& a, const Tensor& b, const char* what);
void check_dtype(const Tensor& t, DType expected, const char* what);
void check_same_device(const Tensor& a, const Tensor& b, const char* what);

}  // namespace tinyopt
