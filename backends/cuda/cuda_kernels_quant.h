// CUDA variants of the INT8 ops (core/ops_quant.h), one supports()/run() pair
// per .cu file, registered in register_cuda.cpp (the twin of
// backends/cpu/cpu_kernels_quant.h). Every variant needs contiguous tensors on
// a CUDA device. Plain C++ (no CUDA headers), like cuda_kernels.h.
#pragma once

#include "core/ops_quant.h"

namespace tinyopt::cuda {

// qgemm_naive.cu: one thread per output, __dp4a over 4-byte K groups. Also the shared supports().
bool qgemm_cuda_supports(const QGemmArgs& args);
void qgemm_naive_run(const QGemmArgs& args);
// qgemm_cublas.cu: cuBLASLt int8 GEMM (i32 accumulators) + an epilogue kernel.
bool qgemm_cublas_supports(const QGemmArgs& args);
void qgemm_cublas_run(const QGemmArgs& args);
// qconv2d_naive.cu: one thread per output, __dp4a over 4-tap groups.
bool qconv2d_cuda_supports(const QConv2dArgs& args);
void qconv2d_naive_run(const QConv2dArgs& args);
// quantize.cu: elementwise.
bool quantize_supports(const QuantizeArgs& args);
void quantize_run(const QuantizeArgs& args);
bool dequantize_supports(const DequantizeArgs& args);
void dequantize_run(const DequantizeArgs& args);

void register_cuda_quant_variants();  // register_cuda_quant.cpp

}  // namespace tinyopt::cuda
