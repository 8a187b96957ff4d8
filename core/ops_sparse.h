// Sparse ops of the catalogue: `spmm`, a linear layer whose weight is sparse.
//
//   y[M, N] = x[M, K] · W[N, K]^T + bias[N]      (bias optional)
//
// W keeps PyTorch's Linear layout ([out, in]) and is stored in CSR by rows of
// W (= output features): row_ptr [N + 1] (i32 or i64), col_idx [nnz] (i32,
// column = input feature), values [nnz] (f32). Each output feature is then a
// short sparse dot product with a row of x, so kernels can run the rows of W
// in parallel and the batch (M) in SIMD lanes.
//
// Checking the CSR structure (monotone row_ptr, in-range, strictly increasing
// columns per row) costs O(nnz), as much as the multiply at batch 1. So the
// op checks it on every call unless the caller says it already did:
// `structure_checked` is set only by code that ran validate_csr() on these
// very tensors (SparseLinear does once, when it is built or loaded).
#pragma once

#include <string>

#include "core/op.h"
#include "core/tensor.h"

namespace tinyopt {

struct SpmmArgs {
  Tensor x, row_ptr, col_idx, values, bias, y;
  bool structure_checked = false;

  int64_t m() const { return x.size(0); }
  int64_t k() const { return x.size(1); }
  int64_t n() const { return y.size(1); }
  int64_t nnz() const { return values.numel(); }
  void validate() const;
  std::string describe() const;
  template <class F> void visit(F&& f) {
    f(x, false); f(row_ptr, false); f(col_idx, false); f(values, false);
    if (bias.defined()) f(bias, false);
    f(y, true);
  }
};

namespace ops {
extern Op<SpmmArgs> spmm;
}  // namespace ops

// Throws a tinyopt::Error naming `what` (e.g. "3.weight" or a file's tensor)
// unless row_ptr/col_idx describe a valid CSR matrix of `rows` x `cols`:
// row_ptr i32/i64 with rows + 1 entries, row_ptr[0] == 0, non-decreasing,
// row_ptr[rows] == nnz; col_idx i32 in [0, cols) and strictly increasing
// within each row (sorted, no duplicates). Works on tensors of any device
// (copies to the host to look).
void validate_csr(const Tensor& row_ptr, const Tensor& col_idx, int64_t rows, int64_t cols, const std::string& what);

// Convenience entry: allocates y [M, N] and dispatches.
Tensor spmm(const Tensor& x, const Tensor& row_ptr, const Tensor& col_idx, const Tensor& values, const Tensor& bias,
            int64_t n, bool structure_checked = false);

}  // namespace tinyopt
