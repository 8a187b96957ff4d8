#include "backends/cpu/transpose_bytes.h"

#include <emmintrin.h>

namespace tinyopt::cpu {

namespace {

// One 16 x 16 block. Think of a byte's place as 8 address bits: 4 of the
// register (row) above 4 of the byte (column). One round of
// unpack{lo,hi}_epi8(x[i], x[i + 8]) into registers 2i and 2i + 1 rotates
// those 8 bits left by one; four rounds swap the halves: register = column,
// byte = row, which is the transpose.
void block16(const uint8_t* src, int64_t src_stride, uint8_t* dst, int64_t dst_stride) {
  __m128i x[16], y[16];
  for (int r = 0; r < 16; ++r) x[r] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + r * src_stride));
  for (int round = 0; round < 4; ++round) {
    for (int i = 0; i < 8; ++i) {
      y[2 * i] = _mm_unpacklo_epi8(x[i], x[i + 8]);
      y[2 * i + 1] = _mm_unpackhi_epi8(x[i], x[i + 8]);
    }
    for (int r = 0; r < 16; ++r) x[r] = y[r];
  }
  for (int c = 0; c < 16; ++c) _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + c * dst_stride), x[c]);
}

}  // namespace

void transpose_u8(const uint8_t* src, int64_t rows, int64_t cols, int64_t src_stride, uint8_t* dst,
                  int64_t dst_stride) {
  int64_t r0 = 0;
  for (; r0 + 16 <= rows; r0 += 16) {
    int64_t c0 = 0;
    for (; c0 + 16 <= cols; c0 += 16) block16(src + r0 * src_stride + c0, src_stride, dst + c0 * dst_stride + r0, dst_stride);
    for (; c0 < cols; ++c0)
      for (int64_t r = r0; r < r0 + 16; ++r) dst[c0 * dst_stride + r] = src[r * src_stride + c0];
  }
  for (; r0 < rows; ++r0)
    for (int64_t c = 0; c < cols; ++c) dst[c * dst_stride + r0] = src[r0 * src_stride + c];
}

void transpose_u32(const uint32_t* src, int64_t rows, int64_t cols, int64_t src_stride, uint32_t* dst,
                   int64_t dst_stride) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) dst[c * dst_stride + r] = src[r * src_stride + c];
}

}  // namespace tinyopt::cpu
