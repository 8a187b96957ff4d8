// Every CPU kernel variant: one supports()/run() pair per file, registered
// with the catalogue in register_cpu.cpp. The raw kernels take plain pointers
// so benchmarks can call them directly (dispatch overhead = difference).
#pragma once

#include <cstdint>

#include "backends/cpu/cpu_kernels_cnn.h"
#include "core/ops.h"

namespace tinyopt::cpu {

// matmul: C[M,N] = op(A) op(B); lda/ldb/ldc are the row strides of the stored matrices.
void matmul_naive_f32(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k, bool trans_a,
                      bool trans_b);
bool matmul_naive_supports(const MatmulArgs& args);
void matmul_naive_run(const MatmulArgs& args);

void matmul_blocked_f32(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k, bool trans_a,
                        bool trans_b);
bool matmul_blocked_supports(const MatmulArgs& args);
void matmul_blocked_run(const MatmulArgs& args);

bool matmul_onednn_supports(const MatmulArgs& args);
void matmul_onednn_run(const MatmulArgs& args);

bool add_supports(const BinaryArgs& args);
void add_run(const BinaryArgs& args);

bool relu_supports(const UnaryArgs& args);
void relu_run(const UnaryArgs& args);

// True when all tensors are contiguous f32 on the CPU (what every f32 CPU kernel here needs).
bool all_contiguous_f32(const MatmulArgs& args);

void register_cpu_variants();

}  // namespace tinyopt::cpu
