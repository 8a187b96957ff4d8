#include "core/ops_sparse.h"

#include "core/error.h"
#include "kernels/spmm.h"

namespace tinyopt {

namespace ops {
Op<SpmmArgs> spmm{"spmm"};
}  // namespace ops

namespace {

// FLOPs: one multiply-add per (stored weight, batch row) plus the bias;
// bytes: the CSR arrays, x and y once each (the gathered x rows are re-read
// from cache, not memory).
OpCost spmm_cost(const SpmmArgs& a) {
  return kernels::spmm_cost(a.m(), a.n(), a.k(), a.nnz(), a.bias.defined(), int64_t(dtype_size(a.row_ptr.dtype())));
}

// Attach the cost formula when this file's objects are initialised (the op
// lives here, so it is always linked with its cost).
const bool kCostAttached = (ops::spmm.set_cost(spmm_cost), true);

template <class Index>
void check_row_ptr(const Index* rp, int64_t rows, int64_t nnz, const std::string& what) {
  TINYOPT_CHECK(rp[0] == 0, "{}: CSR row_ptr[0] must be 0, found {}", what, int64_t(rp[0]));
  for (int64_t r = 0; r < rows; ++r) {
    TINYOPT_CHECK(rp[r + 1] >= rp[r], "{}: CSR row_ptr is not monotone: row_ptr[{}] = {} > row_ptr[{}] = {}", what,
                  r, int64_t(rp[r]), r + 1, int64_t(rp[r + 1]));
  }
  TINYOPT_CHECK(int64_t(rp[rows]) == nnz, "{}: CSR row_ptr[{}] = {} must equal the number of stored values {}", what,
                rows, int64_t(rp[rows]), nnz);
}

template <class Index>
void check_columns(const Index* rp, const int32_t* ci, int64_t rows, int64_t cols, const std::string& what) {
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t j = int64_t(rp[r]); j < int64_t(rp[r + 1]); ++j) {
      TINYOPT_CHECK(ci[j] >= 0 && ci[j] < cols, "{}: CSR col_idx[{}] = {} in row {} is out of range [0, {})", what, j,
                    ci[j], r, cols);
      TINYOPT_CHECK(j == int64_t(rp[r]) || ci[j] > ci[j - 1],
                    "{}: CSR columns of row {} must be strictly increasing (sorted, no duplicates): col_idx[{}] = {} "
                    "follows {}",
                    what, r, j, ci[j], ci[j - 1]);
    }
  }
}

}  // namespace

void validate_csr(const Tensor& row_ptr, const Tensor& col_idx, int64_t rows, int64_t cols, const std::string& what) {
  TINYOPT_CHECK(row_ptr.defined() && col_idx.defined(), "{}: CSR row_ptr or col_idx is missing", what);
  TINYOPT_CHECK(row_ptr.dtype() == DType::i32 || row_ptr.dtype() == DType::i64,
                "{}: CSR row_ptr must be i32 or i64, found {}", what, row_ptr.describe());
  TINYOPT_CHECK(col_idx.dtype() == DType::i32, "{}: CSR col_idx must be i32, found {}", what, col_idx.describe());
  TINYOPT_CHECK(row_ptr.ndim() == 1 && row_ptr.size(0) == rows + 1,
                "{}: CSR row_ptr must be 1-D with {} entries (rows + 1), found {}", what, rows + 1,
                row_ptr.describe());
  TINYOPT_CHECK(col_idx.ndim() == 1, "{}: CSR col_idx must be 1-D, found {}", what, col_idx.describe());
  const Tensor rp = row_ptr.to(Device::cpu()).contiguous();
  const Tensor ci = col_idx.to(Device::cpu()).contiguous();
  const int64_t nnz = ci.numel();
  if (rp.dtype() == DType::i32) {
    check_row_ptr(rp.data<int32_t>(), rows, nnz, what);
    check_columns(rp.data<int32_t>(), ci.data<int32_t>(), rows, cols, what);
  } else {
    check_row_ptr(rp.data<int64_t>(), rows, nnz, what);
    check_columns(rp.data<int64_t>(), ci.data<int32_t>(), rows, cols, what);
  }
}

void SpmmArgs::validate() const {
  TINYOPT_CHECK(x.defined() && row_ptr.defined() && col_idx.defined() && values.defined() && y.defined(),
                "spmm: an argument tensor is undefined");
  TINYOPT_CHECK(x.ndim() == 2 && y.ndim() == 2, "spmm: x and y must be 2-D, found {}", describe());
  TINYOPT_CHECK(x.dtype() == DType::f32 && values.dtype() == DType::f32 && y.dtype() == DType::f32,
                "spmm: x, values and y must be f32: {}", describe());
  TINYOPT_CHECK(y.size(0) == x.size(0), "spmm: y has {} rows but x has {}: {}", y.size(0), x.size(0), describe());
  TINYOPT_CHECK(row_ptr.ndim() == 1 && row_ptr.size(0) == n() + 1,
                "spmm: row_ptr must have N + 1 = {} entries for y of N = {} columns, found {}", n() + 1, n(),
                row_ptr.describe());
  TINYOPT_CHECK(col_idx.ndim() == 1 && values.ndim() == 1 && col_idx.numel() == values.numel(),
                "spmm: col_idx and values must be 1-D of equal length, found {} and {}", col_idx.describe(),
                values.describe());
  TINYOPT_CHECK(row_ptr.dtype() == DType::i32 || row_ptr.dtype() == DType::i64,
                "spmm: row_ptr must be i32 or i64, found {}", row_ptr.describe());
  TINYOPT_CHECK(col_idx.dtype() == DType::i32, "spmm: col_idx must be i32, found {}", col_idx.describe());
  if (bias.defined()) {
    TINYOPT_CHECK(bias.dtype() == DType::f32 && bias.ndim() == 1 && bias.size(0) == n(),
                  "spmm: bias must be f32 [{}], found {}", n(), bias.describe());
    check_same_device(x, bias, "spmm (x, bias)");
  }
  check_same_device(x, row_ptr, "spmm (x, row_ptr)");
  check_same_device(x, col_idx, "spmm (x, col_idx)");
  check_same_device(x, values, "spmm (x, values)");
  check_same_device(x, y, "spmm (x, y)");
  if (!structure_checked) validate_csr(row_ptr, col_idx, n(), k(), "spmm weight");
}

std::string SpmmArgs::describe() const {
  return fmt::format("x {} x csr(row_ptr {}, col_idx {}, values {}){}{} -> {}", x.describe(), row_ptr.describe(),
                     col_idx.describe(), values.describe(), bias.defined() ? " + bias " : "",
                     bias.defined() ? bias.describe() : "", y.describe());
}

Tensor spmm(const Tensor& x, const Tensor& row_ptr, const Tensor& col_idx, const Tensor& values, const Tensor& bias,
            int64_t n, bool structure_checked) {
  TINYOPT_CHECK(x.ndim() == 2, "spmm: x must be 2-D [M, K], found {}", x.describe());
  SpmmArgs args{x, row_ptr, col_idx, values, bias, Tensor::empty({x.size(0), n}, DType::f32, x.device()),
                structure_checked};
  ops::spmm(args);
  return args.y;
}

}  // namespace tinyopt
