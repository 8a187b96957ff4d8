// CUDA forward variants of the neural-network ops of the catalogue
// (core/ops_nn.h): one supports()/run() pair per .cu file, registered in
// register_cuda.cpp (the twin of backends/cpu/cpu_kernels_cnn.h and
// cpu_kernels_transformer.h). Every variant needs f32 tensors (i32/i64 for
// indices), contiguous, on a CUDA device; kernels run on the legacy default
// stream and return without synchronizing, except embedding and
// cross_entropy, which read back an error flag to report bad indices.
// Backward ops have no CUDA variant: the dispatcher falls back to the CPU.
// Plain C++ (no CUDA headers), like cuda_kernels.h.
#pragma once

#include "core/ops_nn.h"
#include "kernels/conv2d.h"

namespace tinyopt::cuda {

// conv2d_naive.cu: one thread per output element. Also the shared supports() and sizes.
kernels::Conv2dDims conv2d_cuda_dims(const Conv2dArgs& args);
bool conv2d_cuda_supports(const Conv2dArgs& args);
void conv2d_naive_run(const Conv2dArgs& args);
// conv2d_cublas.cu: im2col into scratch + cublasSgemmStridedBatched + bias kernel.
bool conv2d_cublas_supports(const Conv2dArgs& args);
void conv2d_cublas_run(const Conv2dArgs& args);

bool maxpool2d_supports(const MaxPool2dArgs& args);  // maxpool2d.cu
void maxpool2d_run(const MaxPool2dArgs& args);
bool bias_add_supports(const BiasAddArgs& args);  // bias_add.cu
void bias_add_run(const BiasAddArgs& args);
bool sum_rows_supports(const SumRowsArgs& args);  // sum_rows.cu
void sum_rows_run(const SumRowsArgs& args);
bool gelu_supports(const UnaryArgs& args);  // gelu.cu
void gelu_run(const UnaryArgs& args);
bool softmax_supports(const SoftmaxArgs& args);  // softmax.cu
void softmax_run(const SoftmaxArgs& args);
bool layernorm_supports(const LayerNormArgs& args);  // layernorm.cu
void layernorm_run(const LayerNormArgs& args);
bool embedding_supports(const EmbeddingArgs& args);  // embedding.cu
void embedding_run(const EmbeddingArgs& args);
bool cross_entropy_supports(const CrossEntropyArgs& args);  // cross_entropy.cu
void cross_entropy_run(const CrossEntropyArgs& args);
bool attention_naive_supports(const AttentionArgs& args);  // attention_naive.cu
void attention_naive_run(const AttentionArgs& args);

// True when t is f32, contiguous and on a CUDA device (helpers for supports()).
bool is_cuda_f32(const Tensor& t);
// The same, or t is undefined (an optional tensor left out).
bool is_cuda_f32_or_absent(const Tensor& t);

}  // namespace tinyopt::cuda
