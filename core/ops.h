// The op catalogue: one argument struct and one Op object per operation.
// Kernels register variants against these objects (backends/*/register_*.cpp);
// callers use the small functions at the bottom, which allocate outputs and dispatch.
#pragma once

#include <string>

#include "core/op.h"
#include "core/tensor.h"

namespace tinyopt {

// c[M, N] = op(a) @ op(b), f32, row-major contiguous 2-D tensors.
// op(a) is a[M, K], or a[K, M] read transposed when trans_a; likewise b.
struct MatmulArgs {
  Tensor a, b, c;
  bool trans_a = false;
  bool trans_b = false;

  int64_t m() const { return trans_a ? a.size(1) : a.size(0); }
  int64_t k() const { return trans_a ? a.size(0) : a.size(1); }
  int64_t n() const { return trans_b ? b.size(0) : b.size(1); }
  void validate() const;
  std::string describe() const;
  template <class F>
  void visit(F&& f) {
    f(a, false);
    f(b, false);
    f(c, true);
  }
};

// out = a + b, elementwise, equal shapes, f32.
struct BinaryArgs {
  Tensor a, b, out;
  void validate() const;
  std::string describe() const;
  template <class F>
  void visit(F&& f) {
    f(a, false);
    f(b, false);
    f(out, true);
  }
};

// out = f(x), elementwise, f32; out may alias x (in place).
struct UnaryArgs {
  Tensor x, out;
  void validate() const;
  std::string describe() const;
  template <class F>
  void visit(F&& f) {
    f(x, false);
    f(out, true);
  }
};

namespace ops {
extern Op<MatmulArgs> matmul;
extern Op<BinaryArgs> add;
extern Op<UnaryArgs> relu;
}  // namespace ops

// Convenience entry points: allocate the output on the inputs' device and dispatch.
Tensor matmul(const Tensor& a, const Tensor& b, bool trans_a = false, bool trans_b = false);
Tensor add(const Tensor& a, const Tensor& b);
Tensor relu(const Tensor& x);

}  // namespace tinyopt
