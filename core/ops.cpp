#include "core/ops.h"

#include "core/error.h"

namespace tinyopt {

namespace ops {
Op<MatmulArgs> matmul{"matmul"};
Op<BinaryArgs> add{"add"};
Op<UnaryArgs> relu{"relu"};
}  // namespace ops

void MatmulArgs::validate() const {
  TINYOPT_CHECK(a.defined() && b.defined() && c.defined(), "matmul: an argument tensor is undefined");
  TINYOPT_CHECK(a.ndim() == 2 && b.ndim() == 2 && c.ndim() == 2, "matmul: expected 2-D tensors, found {}",
                describe());
  TINYOPT_CHECK(a.dtype() == b.dtype() && a.dtype() == c.dtype(), "matmul: dtypes differ: {}", describe());
  check_same_device(a, b, "matmul (a, b)");
  check_same_device(a, c, "matmul (a, c)");
  const int64_t kb = trans_b ? b.size(1) : b.size(0);
  TINYOPT_CHECK(k() == kb, "matmul: inner dimensions differ: op(a) has K={}, op(b) has K={} ({})", k(), kb,
                describe());
  TINYOPT_CHECK(c.size(0) == m() && c.size(1) == n(), "matmul: output {} expected to be [{}, {}]", c.describe(),
                m(), n());
}

std::string MatmulArgs::describe() const {
  return fmt::format("{}{} x {}{} -> {}", a.describe(), trans_a ? "^T" : "", b.describe(), trans_b ? "^T" : "",
                     c.describe());
}

void BinaryArgs::validate() const {
  TINYOPT_CHECK(a.defined() && b.defined() && out.defined(), "binary op: an argument tensor is undefined");
  check_same_shape(a, b, "binary op (a, b)");
  check_same_shape(a, out, "binary op (a, out)");
  TINYOPT_CHECK(a.dtype() == b.dtype() && a.dtype() == out.dtype(), "binary op: dtypes differ: {}", describe());
  check_same_device(a, b, "binary op (a, b)");
  check_same_device(a, out, "binary op (a, out)");
}

std::string BinaryArgs::describe() const {
  return fmt::format("{} + {} -> {}", a.describe(), b.describe(), out.describe());
}

void UnaryArgs::validate() const {
  TINYOPT_CHECK(x.defined() && out.defined(), "unary op: an argument tensor is undefined");
  check_same_shape(x, out, "unary op (x, out)");
  TINYOPT_CHECK(x.dtype() == out.dtype(), "unary op: dtypes differ: {}", describe());
  check_same_device(x, out, "unary op (x, out)");
}

std::string UnaryArgs::describe() const { return fmt::format("{} -> {}", x.describe(), out.describe()); }

Tensor matmul(const Tensor& a, const Tensor& b, bool trans_a, bool trans_b) {
  TINYOPT_CHECK(a.ndim() == 2 && b.ndim() == 2, "matmul: expected 2-D tensors, found {} and {}", a.describe(),
                b.describe());
  const int64_t m = trans_a ? a.size(1) : a.size(0);
  const int64_t n = trans_b ? b.size(0) : b.size(1);
  MatmulArgs args{a, b, Tensor::empty({m, n}, a.dtype(), a.device()), trans_a, trans_b};
  ops::matmul(args);
  return args.c;
}

Tensor add(const Tensor& a, const Tensor& b) {
  BinaryArgs args{a, b, Tensor::empty(a.shape(), a.dtype(), a.device())};
  ops::add(args);
  return args.out;
}

Tensor relu(const Tensor& x) {
  UnaryArgs args{x, Tensor::empty(x.shape(), x.dtype(), x.device())};
  ops::relu(args);
  return args.out;
}

}  // namespace tinyopt
