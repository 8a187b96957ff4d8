// The byte transposes of the int8 convolution's layout changes: every shape
// class (below one 16 x 16 block, whole blocks, ragged edges on each side,
// strided source and destination) against the element-by-element definition.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "backends/cpu/transpose_bytes.h"

using namespace tinyopt;

namespace {

template <class T, class Fn>
void check_transpose(int64_t rows, int64_t cols, Fn transpose) {
  const int64_t src_stride = cols + 3, dst_stride = rows + 5;
  std::mt19937 rng(static_cast<uint32_t>(rows * 1000 + cols));
  std::vector<T> src(static_cast<size_t>(rows * src_stride));
  for (T& v : src) v = static_cast<T>(rng());
  const T poison = static_cast<T>(0xA5A5A5A5u);
  std::vector<T> dst(static_cast<size_t>(cols * dst_stride), poison);
  transpose(src.data(), rows, cols, src_stride, dst.data(), dst_stride);
  for (int64_t c = 0; c < cols; ++c) {
    for (int64_t r = 0; r < rows; ++r)
      ASSERT_EQ(dst[c * dst_stride + r], src[r * src_stride + c]) << rows << "x" << cols << " at " << r << "," << c;
    for (int64_t r = rows; r < dst_stride; ++r)  // the stride's gap is never written
      ASSERT_EQ(dst[c * dst_stride + r], poison) << rows << "x" << cols << " wrote past row " << rows;
  }
}

TEST(TransposeBytes, MatchesDefinitionOnEveryShapeClass) {
  for (int64_t rows : {1, 7, 15, 16, 17, 32, 45, 676})
    for (int64_t cols : {1, 3, 13, 16, 31, 32, 64, 169}) check_transpose<uint8_t>(rows, cols, cpu::transpose_u8);
}

TEST(TransposeBytes, FourByteElements) {
  for (int64_t rows : {1, 13, 121})
    for (int64_t cols : {1, 7, 64}) check_transpose<uint32_t>(rows, cols, cpu::transpose_u32);
}

}  // namespace
