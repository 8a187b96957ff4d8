// Registers the variants of every backend compiled into this build.
#include "backends/cpu/cpu_kernels.h"
#include "core/dispatcher.h"

#if defined(TINYOPT_HAVE_CUDA)
namespace tinyopt::cuda {
void register_cuda_variants();
}
#endif

namespace tinyopt {

void register_op_costs();  // core/op_costs.cpp: the profiler's FLOP/byte formulas

void register_backends() {
  register_op_costs();
  cpu::register_cpu_variants();
#if defined(TINYOPT_HAVE_CUDA)
  cuda::register_cuda_variants();
#endif
}

}  // namespace tinyopt
