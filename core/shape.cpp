#include "core/shape.h"

#include "core/error.h"

namespace tinyopt {

Shape::Shape(std::initializer_list<int64_t> dims) {
  TINYOPT_CHECK(dims.size() <= kMaxDims, "tensor rank {} exceeds the maximum of {}", dims.size(), kMaxDims);
  for (int64_t d : dims) d_[n_++] = d;
}

Shape::Shape(const std::vector<int64_t>& dims) {
  TINYOPT_CHECK(dims.size() <= kMaxDims, "tensor rank {} exceeds the maximum of {}", dims.size(), kMaxDims);
  for (int64_t d : dims) d_[n_++] = d;
}

int64_t Shape::numel() const {
  int64_t n = 1;
  for (int i = 0; i < n_; ++i) n *= d_[i];
  return n;
}

bool Shape::within_extent() const {
  int64_t product = 1;
  for (int i = 0; i < n_; ++i) {
    if (d_[i] < 0) return false;
    const int64_t factor = d_[i] == 0 ? 1 : d_[i];
    if (product > kMaxExtent / factor) return false;
    product *= factor;
  }
  return true;
}

std::string Shape::str() const {
  std::string s = "[";
  for (int i = 0; i < n_; ++i) s += (i ? ", " : "") + std::to_string(d_[i]);
  return s + "]";
}

bool Shape::operator==(const Shape& other) const {
  if (n_ != other.n_) return false;
  for (int i = 0; i < n_; ++i)
    if (d_[i] != other.d_[i]) return false;
  return true;
}

}  // namespace tinyopt
