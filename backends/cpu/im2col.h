// im2col / col2im: the layout change that turns a convolution into a GEMM.
//
// For one image x[C, H, W], im2col writes the matrix col[C*KH*KW, OH*OW]:
// row (c*KH + i)*KW + j holds, for every output pixel (oh, ow), the input
// x[c, oh*sh - ph + i, ow*sw - pw + j] (0 where that lands in the padding).
// Then y[O, OH*OW] = w[O, C*KH*KW] * col is one GEMM whose depth is the patch
// size, and the weights need no reshuffle (OIHW rows are already patches).
// Rows are output-pixel-contiguous, so for stride 1 each (row, oh) run is a
// straight copy of one input row segment; the cost is a KH*KW-fold copy of the input,
// which is small next to the GEMM's O multiply-adds per copied element.
//
// col2im is the adjoint: it scatter-adds such a matrix back into an image,
// which is how dx = col2im(w^T dy) is formed in the backward pass.
#pragma once

#include "kernels/conv2d.h"

namespace tinyopt::cpu {

// x: one image [C, H, W]; col: [C*KH*KW, OH*OW], fully overwritten.
void im2col_f32(const float* x, const kernels::Conv2dDims& d, float* col);

// dx: one image [C, H, W], accumulated into (the caller zeroes it first).
void col2im_add_f32(const float* col, const kernels::Conv2dDims& d, float* dx);

}  // namespace tinyopt::cpu
