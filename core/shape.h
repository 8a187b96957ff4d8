// A tensor shape (or strides) stored inline: no heap allocation, so building
// op arguments on the dispatch path costs nothing but a few stores.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace tinyopt {

class Shape {
 public:
  static constexpr int kMaxDims = 6;

  Shape() = default;
  Shape(std::initializer_list<int64_t> dims);
  explicit Shape(const std::vector<int64_t>& dims);

  int size() const { return n_; }
  int64_t operator[](int i) const { return d_[i]; }
  int64_t& operator[](int i) { return d_[i]; }
  const int64_t* begin() const { return d_; }
  const int64_t* end() const { return d_ + n_; }
  int64_t numel() const;
  // True when every dim is non-negative and the dims, a zero counted as one,
  // multiply to at most kMaxExtent. Tensors require it: it bounds numel() and
  // every contiguous stride, so neither can overflow. Parsers check it to
  // reject a file's absurd shape (say [0, 2^40, 2^40]) with the file's name.
  static constexpr int64_t kMaxExtent = int64_t{1} << 40;
  bool within_extent() const;
  std::vector<int64_t> to_vector() const { return {begin(), end()}; }
  std::string str() const;  // "[2, 3]"
  bool operator==(const Shape& other) const;

 private:
  int64_t d_[kMaxDims] = {};
  int n_ = 0;
};

}  // namespace tinyopt
