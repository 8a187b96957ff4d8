#include "core/tensor.h"

#include <cstring>

#include "core/allocator.h"
#include "core/device_runtime.h"

namespace tinyopt {

Storage::Storage(size_t bytes, Device device)
    : data_(TrackingAllocator::of(device).allocate(bytes)), bytes_(bytes), device_(device) {}

Storage::~Storage() { TrackingAllocator::of(device_).deallocate(data_); }

// The strides of a contiguous tensor of `shape`, once the shape is known to
// be sane (Shape::within_extent): every tensor's shape passes here before
// anything is allocated or numel() computed, which also makes the stride
// products below safe from overflow.
static Shape checked_contiguous_strides(const Shape& shape) {
  TINYOPT_CHECK(shape.within_extent(),
                "invalid shape {}: dimensions must be non-negative and multiply (a zero counted as one) to at most 2^40",
                shape.str());
  Shape strides = shape;
  int64_t stride = 1;
  for (int i = shape.size() - 1; i >= 0; --i) {
    strides[i] = stride;
    stride *= shape[i];
  }
  return strides;
}

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) {
  Tensor t;
  t.strides_ = checked_contiguous_strides(shape);
  device_require(device);
  t.storage_ = std::make_shared<Storage>(static_cast<size_t>(shape.numel()) * dtype_size(dtype), device);
  t.shape_ = shape;
  t.dtype_ = dtype;
  return t;
}

Tensor Tensor::zeros(const Shape& shape, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  t.fill(0.0);
  return t;
}

Tensor Tensor::view_of(std::shared_ptr<Storage> storage, const Shape& shape, DType dtype, size_t offset_bytes) {
  Tensor t;
  t.strides_ = checked_contiguous_strides(shape);
  const size_t need = offset_bytes + static_cast<size_t>(shape.numel()) * dtype_size(dtype);
  TINYOPT_CHECK(storage && need <= storage->bytes(), "view {} of {} at offset {} exceeds its storage of {} bytes",
                shape.str(), dtype_name(dtype), offset_bytes, storage ? storage->bytes() : 0);
  t.storage_ = std::move(storage);
  t.offset_bytes_ = offset_bytes;
  t.shape_ = shape;
  t.dtype_ = dtype;
  return t;
}

int64_t Tensor::size(int dim) const {
  const int n = ndim();
  const int d = dim < 0 ? dim + n : dim;
  TINYOPT_CHECK(d >= 0 && d < n, "dimension {} out of range for tensor {}", dim, describe());
  return shape_[d];
}

bool Tensor::is_contiguous() const {
  // strides_ == checked_contiguous_strides(shape_), without building the Shape: this
  // runs several times per op call.
  if (strides_.size() != shape_.size()) return false;
  int64_t expected = 1;
  for (int i = shape_.size() - 1; i >= 0; --i) {
    if (strides_[i] != expected) return false;
    expected *= shape_[i];
  }
  return true;
}

void* Tensor::raw_data() const {
  TINYOPT_CHECK(storage_ != nullptr, "tensor is undefined (no storage)");
  return static_cast<char*>(storage_->data()) + offset_bytes_;
}

Tensor Tensor::to(Device device) const {
  if (this->device() == device && is_contiguous()) return *this;
  Tensor out = empty(shape_, dtype_, device);
  out.copy_from(contiguous());
  return out;
}

Tensor Tensor::contiguous() const {
  if (is_contiguous()) return *this;
  TINYOPT_CHECK(device().is_cpu(), "contiguous() of a strided {} tensor is only supported on the CPU", describe());
  Tensor out = empty(shape_, dtype_, device());
  const size_t elem = dtype_size(dtype_);
  const int64_t n = numel();
  const char* src = static_cast<const char*>(raw_data());
  char* dst = static_cast<char*>(out.raw_data());
  for (int64_t i = 0; i < n; ++i) {
    int64_t rem = i, offset = 0;
    for (int d = ndim() - 1; d >= 0; --d) {
      offset += (rem % shape_[d]) * strides_[d];
      rem /= shape_[d];
    }
    std::memcpy(dst + i * elem, src + offset * elem, elem);
  }
  return out;
}

Tensor Tensor::clone() const {
  Tensor out = empty(shape_, dtype_, device());
  out.copy_from(contiguous());
  return out;
}

Tensor Tensor::reshape(const Shape& shape) const {
  const Shape strides = checked_contiguous_strides(shape);  // before numel(), which an absurd shape would overflow
  TINYOPT_CHECK(is_contiguous(), "reshape of non-contiguous tensor {}", describe());
  TINYOPT_CHECK(shape.numel() == numel(), "cannot reshape {} to {}: element counts differ ({} vs {})", describe(),
                shape.str(), numel(), shape.numel());
  Tensor t = *this;
  t.shape_ = shape;
  t.strides_ = strides;
  return t;
}

void Tensor::copy_from(const Tensor& src) {
  TINYOPT_CHECK(shape_ == src.shape_ && dtype_ == src.dtype_, "copy: destination {} does not match source {}",
                describe(), src.describe());
  TINYOPT_CHECK(is_contiguous() && src.is_contiguous(), "copy: both tensors must be contiguous ({} <- {})",
                describe(), src.describe());
  const size_t bytes = nbytes();
  if (bytes == 0) return;
  const Device to = device(), from = src.device();
  if (to.is_cpu() && from.is_cpu()) {
    std::memmove(raw_data(), src.raw_data(), bytes);
    return;
  }
  const DeviceRuntime* rt = device_runtime(DeviceType::cuda);
  TINYOPT_CHECK(rt != nullptr, "copy {} -> {}: no CUDA runtime in this build", src.describe(), describe());
  if (to.is_cuda() && from.is_cpu()) {
    rt->copy(raw_data(), src.raw_data(), bytes, CopyKind::host_to_device, to.index);
  } else if (to.is_cpu() && from.is_cuda()) {
    rt->copy(raw_data(), src.raw_data(), bytes, CopyKind::device_to_host, from.index);
  } else {
    TINYOPT_CHECK(to.index == from.index, "copy between different CUDA devices ({} <- {}) is not supported",
                  describe(), src.describe());
    rt->copy(raw_data(), src.raw_data(), bytes, CopyKind::device_to_device, to.index);
  }
}

template <class T>
static void fill_typed(void* data, int64_t n, double value) {
  T* p = static_cast<T*>(data);
  const T v = static_cast<T>(value);
  for (int64_t i = 0; i < n; ++i) p[i] = v;
}

Tensor Tensor::full(const Shape& shape, double value, DType dtype) {
  Tensor t = empty(shape, dtype);
  t.fill(value);
  return t;
}

void Tensor::fill(double value) {
  TINYOPT_CHECK(is_contiguous(), "fill of non-contiguous tensor {}", describe());
  if (device().is_cuda()) {
    TINYOPT_CHECK(value == 0.0, "fill({}) of CUDA tensor {}: only zero fill is supported on device", value, describe());
    device_runtime(DeviceType::cuda)->fill_bytes(raw_data(), 0, nbytes(), device().index);
    return;
  }
  switch (dtype_) {
    case DType::f32: fill_typed<float>(raw_data(), numel(), value); break;
    case DType::f64: fill_typed<double>(raw_data(), numel(), value); break;
    case DType::i8: fill_typed<int8_t>(raw_data(), numel(), value); break;
    case DType::u8: fill_typed<uint8_t>(raw_data(), numel(), value); break;
    case DType::i32: fill_typed<int32_t>(raw_data(), numel(), value); break;
    case DType::i64: fill_typed<int64_t>(raw_data(), numel(), value); break;
  }
}

std::string Tensor::describe() const {
  if (!defined()) return "<undefined tensor>";
  return fmt::format("{}{} on {}", dtype_name(dtype_), shape_.str(), device().str());
}

void check_same_shape(const Tensor& a, const Tensor& b, const char* what) {
  TINYOPT_CHECK(a.shape() == b.shape(), "{}: shapes differ: {} vs {}", what, a.describe(), b.describe());
}

void check_dtype(const Tensor& t, DType expected, const char* what) {
  TINYOPT_CHECK(t.dtype() == expected, "{}: expected dtype {}, found {}", what, dtype_name(expected), t.describe());
}

void check_same_device(const Tensor& a, const Tensor& b, const char* what) {
  TINYOPT_CHECK(a.device() == b.device(), "{}: tensors are on different devices: {} vs {}", what, a.describe(),
                b.describe());
}

}  // namespace tinyopt
