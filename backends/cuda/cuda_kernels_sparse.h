// CUDA variants of the sparse ops (core/ops_sparse.h), registered in
// register_cuda.cpp; the twins of backends/cpu/cpu_kernels_sparse.h.
#pragma once

#include "core/ops_sparse.h"

namespace tinyopt::cuda {

bool spmm_naive_supports(const SpmmArgs& args);
void spmm_naive_run(const SpmmArgs& args);
bool spmm_cusparse_supports(const SpmmArgs& args);
void spmm_cusparse_run(const SpmmArgs& args);

}  // namespace tinyopt::cuda
