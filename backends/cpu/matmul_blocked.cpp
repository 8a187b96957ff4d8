// cpu.blocked matmul: placeholder until the packed AVX-512 kernel lands (being written now).
#include "backends/cpu/cpu_kernels.h"

namespace tinyopt::cpu {

void matmul_blocked_f32(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k, bool trans_a,
                        bool trans_b) {
  matmul_naive_f32(a, b, c, m, n, k, trans_a, trans_b);
}

bool matmul_blocked_supports(const MatmulArgs& args) { return all_contiguous_f32(args); }

void matmul_blocked_run(const MatmulArgs& args) {
  matmul_blocked_f32(args.a.data<float>(), args.b.data<float>(), args.c.data<float>(), args.m(), args.n(), args.k(),
                     args.trans_a, args.trans_b);
}

}  // namespace tinyopt::cpu
