// CPU variants of the sparse ops (core/ops_sparse.h), registered in register_cpu.cpp.
#pragma once

#include "core/ops_sparse.h"

namespace tinyopt::cpu {

bool spmm_cpu_supports(const SpmmArgs& args);  // contiguous CPU tensors
void spmm_naive_run(const SpmmArgs& args);
void spmm_blocked_run(const SpmmArgs& args);

}  // namespace tinyopt::cpu
