// spmm conformance cases: y = x W^T + bias with W in CSR. Shapes: batch 1, 7,
// 13, 64, 127 (and 4, one past the gather/panel switch of cpu.blocked; 65,
// one past a 64-row panel); N and K off multiples of 16; sparsity from 0%
// (every weight stored) to 99% and a fully empty matrix; every third row
// empty; i32 and i64 row_ptr; with and without bias; the MLP's layers.
//
// The sparsity pattern is drawn fresh with the values on every run: the
// row_ptr generator draws which positions are stored (nnz is fixed by the
// case) and hands the columns to the col_idx generator, which runs next.
#include <algorithm>
#include <memory>
#include <numeric>

#include "conformance/cases.h"
#include "core/ops_sparse.h"
#include "kernels/spmm.h"

namespace tinyopt::conformance {

namespace {

struct SpmmShape {
  int64_t m, n, k;
  double sparsity;   // fraction of the (non-empty rows') weights not stored
  bool empty_rows;   // every third row of W stores nothing
  bool bias;
  bool row_ptr_i64;
};

bool row_is_empty(const SpmmShape& s, int64_t r) { return s.empty_rows && r % 3 == 1; }

int64_t stored_count(const SpmmShape& s) {
  int64_t rows = 0;
  for (int64_t r = 0; r < s.n; ++r) rows += row_is_empty(s, r) ? 0 : 1;
  return static_cast<int64_t>(double(rows * s.k) * (1.0 - s.sparsity) + 0.5);
}

OpCase spmm_case(const SpmmShape& s) {
  const int64_t nnz = stored_count(s);
  OpCase c;
  c.op = "spmm";
  c.label = fmt::format("m={} n={} k={} sparsity={} nnz={}{}{}{}", s.m, s.n, s.k, s.sparsity, nnz,
                        s.empty_rows ? " empty_rows" : "", s.bias ? " bias" : "", s.row_ptr_i64 ? " i64" : "");
  c.op_object = &ops::spmm;
  c.inputs = {{Shape{s.m, s.k}, DType::f32},
              {Shape{s.n + 1}, s.row_ptr_i64 ? DType::i64 : DType::i32},
              {Shape{nnz}, DType::i32},
              {Shape{nnz}, DType::f32}};
  if (s.bias) c.inputs.push_back({Shape{s.n}, DType::f32});
  c.outputs = {{Shape{s.m, s.n}, DType::f32}};

  auto columns = std::make_shared<std::vector<double>>();
  c.generators = {
      uniform(-1, 1),
      // row_ptr: choose nnz distinct positions among the non-empty rows.
      [s, nnz, columns](std::vector<double>& row_ptr, std::mt19937_64& rng) {
        std::vector<int64_t> positions;
        for (int64_t r = 0; r < s.n; ++r)
          if (!row_is_empty(s, r))
            for (int64_t k = 0; k < s.k; ++k) positions.push_back(r * s.k + k);
        for (int64_t i = 0; i < nnz; ++i) {  // partial Fisher-Yates
          std::uniform_int_distribution<int64_t> pick(i, int64_t(positions.size()) - 1);
          std::swap(positions[i], positions[pick(rng)]);
        }
        positions.resize(nnz);
        std::sort(positions.begin(), positions.end());
        std::fill(row_ptr.begin(), row_ptr.end(), 0.0);
        columns->clear();
        for (int64_t p : positions) {
          row_ptr[p / s.k + 1] += 1;
          columns->push_back(double(p % s.k));
        }
        for (int64_t r = 0; r < s.n; ++r) row_ptr[r + 1] += row_ptr[r];
      },
      [columns](std::vector<double>& col_idx, std::mt19937_64&) { col_idx = *columns; },
      uniform(-1, 1),
      uniform(-1, 1),
  };
  const bool bias = s.bias;
  c.invoke = make_invoke(ops::spmm, [bias](std::vector<Tensor>& t) {
    return bias ? SpmmArgs{t[0], t[1], t[2], t[3], t[4], t[5]} : SpmmArgs{t[0], t[1], t[2], t[3], Tensor(), t[4]};
  });
  c.reference = [s](const std::vector<std::vector<double>>& in, std::vector<std::vector<double>>& out) {
    kernels::spmm_ref(in[0].data(), in[1].data(), in[2].data(), in[3].data(), s.bias ? in[4].data() : nullptr,
                      out[0].data(), s.m, s.n, s.k);
  };
  // f32 sums of at most K products, as for matmul.
  c.max_nmse = 1e-9;
  c.cost = kernels::spmm_cost(s.m, s.n, s.k, nnz, s.bias, s.row_ptr_i64 ? 8 : 4);
  return c;
}

}  // namespace

void add_sparse_cases(std::vector<OpCase>& cases) {
  const SpmmShape shapes[] = {
      // m    n    k    sparsity empty  bias  i64
      {1, 128, 784, 0.9, false, true, false},   // the MLP's first layer, batch-1 inference
      {64, 128, 784, 0.9, false, true, false},  // ... at batch 64
      {1, 64, 128, 0.7, false, true, false},
      {64, 10, 64, 0.99, false, true, false},
      {7, 13, 17, 0.5, false, true, false},
      {13, 31, 33, 0.0, false, true, true},
      {127, 50, 70, 0.95, true, true, false},
      {1, 1, 1, 0.0, false, true, false},
      {5, 9, 7, 1.0, false, true, false},   // fully empty matrix: y = bias
      {7, 9, 7, 1.0, false, false, false},  // fully empty, no bias: y = 0
      {127, 129, 255, 0.8, false, true, true},
      {2, 17, 300, 0.6, true, false, false},
      {3, 33, 100, 0.5, false, true, false},
      {4, 33, 100, 0.5, false, true, false},
      {13, 100, 1600, 0.9, false, false, false},
      {16, 37, 19, 0.3, true, false, true},
      {65, 33, 47, 0.5, false, true, false},
      {127, 7, 3, 0.0, false, true, false},
      {1, 31, 1000, 0.99, true, true, true},
      {64, 1, 15, 0.0, false, true, false},
  };
  for (const SpmmShape& s : shapes) cases.push_back(spmm_case(s));
}

}  // namespace tinyopt::conformance
