// Every CUDA kernel variant: one supports()/run() pair per file, registered
// with the catalogue in register_cuda.cu (the twin of backends/cpu/cpu_kernels.h).
// The raw launchers take plain device pointers so benchmarks can call them
// directly; they launch on the default stream of the current device and
// return without synchronizing (call device_synchronize() before timing).
// This header is plain C++ (no CUDA headers), so .cpp code may include it.
#pragma once

#include <cstdint>
#include <string>

#include "core/ops.h"

namespace tinyopt::cuda {

// ---- device runtime (cuda_runtime.cu) ----------------------------------------
// Fills the core DeviceRuntime table and installs it for DeviceType::cuda.
void install_device_runtime();
// Usable CUDA devices; 0 (never an exception) when there is no driver or device.
int device_count();
// "NVIDIA H100 80GB HBM3 (sm_90, 132 SMs, 79.1 GiB)"; throws for a bad index.
std::string device_description(int device);
// One line for `tinyopt backends`: runtime/driver versions and each device,
// or why no device is usable ("no CUDA device: cudaErrorNoDevice: ...").
std::string runtime_description();

// ---- matmul: C[M,N] = op(A) op(B), f32, row-major contiguous ------------------
// trans_a: A is stored [K, M]; trans_b: B is stored [N, K].
void matmul_naive_f32(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k, bool trans_a,
                      bool trans_b);
bool matmul_naive_supports(const MatmulArgs& args);
void matmul_naive_run(const MatmulArgs& args);

void matmul_tiled_f32(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k, bool trans_a,
                      bool trans_b);
bool matmul_tiled_supports(const MatmulArgs& args);
void matmul_tiled_run(const MatmulArgs& args);

// Uses the device's cuBLAS handle; `device` is the index the pointers live on.
void matmul_cublas_f32(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k, bool trans_a,
                       bool trans_b, int device);
bool matmul_cublas_supports(const MatmulArgs& args);
void matmul_cublas_run(const MatmulArgs& args);

// True when all tensors are contiguous f32 on a CUDA device.
bool all_contiguous_f32(const MatmulArgs& args);

// ---- elementwise ---------------------------------------------------------------
void add_f32(const float* a, const float* b, float* out, int64_t n);
bool add_supports(const BinaryArgs& args);
void add_run(const BinaryArgs& args);

// out may alias x (in place).
void relu_f32(const float* x, float* out, int64_t n);
bool relu_supports(const UnaryArgs& args);
void relu_run(const UnaryArgs& args);

void register_cuda_variants();

}  // namespace tinyopt::cuda
