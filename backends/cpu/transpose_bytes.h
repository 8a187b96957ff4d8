// Byte-matrix transposes for the channels-first <-> channels-last layout
// changes of the int8 convolution (qconv2d_blocked.cpp): an image's u8 planes
// [C][H*W] become pixels [H*W][C] before the kernel, and its output tile
// [pixels][O] becomes the NCHW planes [O][pixels] after it.
#pragma once

#include <cstdint>

namespace tinyopt::cpu {

// dst[c * dst_stride + r] = src[r * src_stride + c] for r < rows, c < cols.
// Full 16 x 16 blocks go through SSE2 byte interleaves; the edges are scalar.
void transpose_u8(const uint8_t* src, int64_t rows, int64_t cols, int64_t src_stride, uint8_t* dst,
                  int64_t dst_stride);

// The same for 4-byte elements (i32 or f32 outputs; scalar, used off the hot path).
void transpose_u32(const uint32_t* src, int64_t rows, int64_t cols, int64_t src_stride, uint32_t* dst,
                   int64_t dst_stride);

}  // namespace tinyopt::cpu
