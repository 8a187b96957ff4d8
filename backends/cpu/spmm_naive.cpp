// cpu.naive spmm: the plain CSR loop, one output element at a time. The
// bottom rung of the sparse ladder and a readable statement of the math:
// y[m, n] = bias[n] + sum over stored (n, k) of W[n, k] * x[m, k].
#include "backends/cpu/cpu_kernels_sparse.h"

namespace tinyopt::cpu {

namespace {

template <class Index>
void spmm_naive(const float* x, const Index* row_ptr, const int32_t* col_idx, const float* values, const float* bias,
                float* y, int64_t m, int64_t n, int64_t k) {
  for (int64_t i = 0; i < m; ++i) {
    const float* xi = x + i * k;
    for (int64_t r = 0; r < n; ++r) {
      float acc = bias ? bias[r] : 0.0f;
      for (int64_t j = int64_t(row_ptr[r]); j < int64_t(row_ptr[r + 1]); ++j) acc += values[j] * xi[col_idx[j]];
      y[i * n + r] = acc;
    }
  }
}

}  // namespace

bool spmm_cpu_supports(const SpmmArgs& a) {
  bool ok = a.x.device().is_cpu();
  const_cast<SpmmArgs&>(a).visit([&](Tensor& t, bool) { ok = ok && t.is_contiguous(); });
  return ok;
}

void spmm_naive_run(const SpmmArgs& a) {
  const float* bias = a.bias.defined() ? a.bias.data<float>() : nullptr;
  if (a.row_ptr.dtype() == DType::i32) {
    spmm_naive(a.x.data<float>(), a.row_ptr.data<int32_t>(), a.col_idx.data<int32_t>(), a.values.data<float>(), bias,
               a.y.data<float>(), a.m(), a.n(), a.k());
  } else {
    spmm_naive(a.x.data<float>(), a.row_ptr.data<int64_t>(), a.col_idx.data<int32_t>(), a.values.data<float>(), bias,
               a.y.data<float>(), a.m(), a.n(), a.k());
  }
}

}  // namespace tinyopt::cpu
