// maxpool2d and maxpool2d_backward conformance cases.
//
// Forward: max and argmax must match the reference exactly (max_nmse = 0:
// a max is a copy, and integer argmax has no rounding). Shapes cover the
// CNN's 2x2/2 pools, odd sizes whose last row/column is dropped, overlapping
// 3x3/2 windows with padding, a global 5x5 window (1x1 output), k = 1, each
// with and without the argmax output. Two cases probe the window rule itself:
// heavy ties (values from {0, 1, 2, 3}: the first maximum in row-major scan
// order must win) and NaNs (a NaN wins and the first one is reported).
//
// Backward (gradient mode): the reference is the finite difference of the
// forward reference. The kernel reads only dy and argmax, so each case also
// carries the x that argmax was computed from as an extra input the kernel
// ignores: x is a permutation of distinct values spaced far wider than the
// finite-difference step, so every window has one well-defined winner.
#include <algorithm>
#include <limits>
#include <numeric>

#include "conformance/cases.h"
#include "conformance/gradient.h"
#include "core/ops_nn.h"
#include "kernels/pool.h"

namespace tinyopt::conformance {

namespace {

struct PoolSpec {
  int64_t n, c, h, w, kernel, stride, pad;
  int64_t oh() const { return (h + 2 * pad - kernel) / stride + 1; }
  int64_t ow() const { return (w + 2 * pad - kernel) / stride + 1; }
  std::string label() const {
    return fmt::format("x=[{},{},{},{}] kernel={} stride={} pad={}", n, c, h, w, kernel, stride, pad);
  }
};

// Distinct values (i - count/2) / 1024 in random order: exact in f32, no ties,
// and 1/1024 apart, far more than the finite-difference step of 1e-5.
void fill_distinct(std::vector<double>& values, std::mt19937_64& rng) {
  std::vector<int64_t> order(values.size());
  std::iota(order.begin(), order.end(), int64_t{0});
  std::shuffle(order.begin(), order.end(), rng);
  const int64_t half = static_cast<int64_t>(values.size()) / 2;
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<double>(order[i] - half) / 1024.0;
}

Generator distinct() { return fill_distinct; }

Generator few_levels() {
  return [](std::vector<double>& values, std::mt19937_64& rng) {
    std::uniform_int_distribution<int> level(0, 3);
    for (double& v : values) v = level(rng);
  };
}

Generator with_nans() {
  return [](std::vector<double>& values, std::mt19937_64& rng) {
    std::uniform_real_distribution<double> value(-1, 1), coin(0, 1);
    for (double& v : values) v = coin(rng) < 0.1 ? std::numeric_limits<double>::quiet_NaN() : value(rng);
  };
}

OpCase maxpool2d_case(const PoolSpec& s, bool want_argmax, Generator gen, const char* note) {
  OpCase c;
  c.op = "maxpool2d";
  c.label = s.label() + (want_argmax ? " argmax" : "") + note;
  c.op_object = &ops::maxpool2d;
  const Shape out{s.n, s.c, s.oh(), s.ow()};
  c.inputs = {{Shape{s.n, s.c, s.h, s.w}, DType::f32}};
  c.generators = {std::move(gen)};
  c.outputs = {{out, DType::f32}};
  if (want_argmax) c.outputs.push_back({out, DType::i32});
  c.invoke = make_invoke(ops::maxpool2d, [s, want_argmax](std::vector<Tensor>& t) {
    return MaxPool2dArgs{t[0], t[1], want_argmax ? t[2] : Tensor(), s.kernel, s.stride, s.pad};
  });
  c.reference = [s, want_argmax](const std::vector<std::vector<double>>& in, std::vector<std::vector<double>>& o) {
    kernels::maxpool2d_ref(in[0].data(), o[0].data(), want_argmax ? o[1].data() : nullptr, s.n * s.c, s.h, s.w,
                           s.oh(), s.ow(), s.kernel, s.stride, s.pad);
  };
  c.max_nmse = 0;  // exact: values are copied, indices are integers
  c.cost = kernels::maxpool2d_cost(s.n * s.c, s.h, s.w, s.oh(), s.ow(), s.kernel, want_argmax);
  return c;
}

OpCase maxpool2d_backward_case(const PoolSpec& s) {
  OpCase c;
  c.op = "maxpool2d_backward";
  c.label = s.label();
  c.op_object = &ops::maxpool2d_backward;
  const Shape in{s.n, s.c, s.h, s.w}, out{s.n, s.c, s.oh(), s.ow()};
  // Inputs: x (for the reference only), argmax of x, dy.
  c.inputs = {{in, DType::f32}, {out, DType::i32}, {out, DType::f32}};
  c.generators = {
      // x is drawn from a copy of the generator state, so the argmax generator
      // below, which starts from the same state, draws the very same x.
      [](std::vector<double>& values, std::mt19937_64& rng) {
        std::mt19937_64 same = rng;
        fill_distinct(values, same);
      },
      [s](std::vector<double>& values, std::mt19937_64& rng) {
        std::vector<double> x(static_cast<size_t>(s.n * s.c * s.h * s.w)), y(values.size());
        fill_distinct(x, rng);
        kernels::maxpool2d_ref(x.data(), y.data(), values.data(), s.n * s.c, s.h, s.w, s.oh(), s.ow(), s.kernel,
                               s.stride, s.pad);
      },
      uniform(-1, 1),
  };
  c.outputs = {{in, DType::f32}};
  c.invoke = make_invoke(ops::maxpool2d_backward,
                         [](std::vector<Tensor>& t) { return MaxPool2dBackwardArgs{t[2], t[1], t[3]}; });
  c.reference = [s](const std::vector<std::vector<double>>& in, std::vector<std::vector<double>>& o) {
    const ForwardRef forward = [s](const std::vector<std::vector<double>>& p, std::vector<double>& y) {
      kernels::maxpool2d_ref(p[0].data(), y.data(), nullptr, s.n * s.c, s.h, s.w, s.oh(), s.ow(), s.kernel, s.stride,
                             s.pad);
    };
    o[0] = numeric_gradient(forward, {in[0]}, in[2], 0);
  };
  // Each dx element is a sum of at most kernel^2 dy values (exact up to a few
  // f32 roundings); the finite difference is exact up to float64 rounding.
  c.max_nmse = 1e-10;
  c.cost = kernels::maxpool2d_backward_cost(s.n * s.c, s.h, s.w, s.oh(), s.ow());
  return c;
}

}  // namespace

void add_pool_cases(std::vector<OpCase>& cases) {
  const PoolSpec forward[] = {
      {1, 1, 1, 1, 1, 1, 0},      // one element
      {2, 3, 26, 26, 2, 2, 0},    // the CNN's first pool
      {3, 7, 11, 11, 2, 2, 0},    // odd size: last row and column dropped
      {1, 13, 13, 7, 3, 2, 1},    // overlapping windows, padding, non-square
      {3, 1, 5, 5, 5, 1, 2},      // k5 pad 2: windows mostly padding
      {2, 5, 7, 13, 3, 1, 0},     // stride 1, heavily overlapping
      {1, 3, 28, 28, 2, 2, 1},    // 2x2 with padding (not the fast 2x2 path)
      {1, 32, 5, 5, 5, 5, 0},     // global window: 1x1 output
      {2, 3, 9, 8, 3, 3, 0},      // non-overlapping 3x3, ragged edge
  };
  for (const PoolSpec& s : forward) {
    cases.push_back(maxpool2d_case(s, /*want_argmax=*/true, distinct(), ""));
    cases.push_back(maxpool2d_case(s, /*want_argmax=*/false, uniform(-1, 1), ""));
  }
  cases.push_back(maxpool2d_case({2, 3, 26, 26, 2, 2, 0}, true, few_levels(), " ties"));
  cases.push_back(maxpool2d_case({1, 4, 13, 7, 3, 2, 1}, true, few_levels(), " ties"));
  cases.push_back(maxpool2d_case({2, 3, 26, 26, 2, 2, 0}, true, with_nans(), " nan"));
  cases.push_back(maxpool2d_case({1, 4, 13, 7, 3, 2, 1}, true, with_nans(), " nan"));

  const PoolSpec backward[] = {
      {1, 1, 1, 1, 1, 1, 0},      // one element
      {2, 3, 12, 12, 2, 2, 0},    // 2x2/2 (the fast forward path's shape)
      {3, 2, 7, 9, 2, 2, 0},      // odd sizes: dropped row/column get no gradient
      {1, 3, 13, 7, 3, 2, 1},     // overlapping windows share winners: gradients add
      {2, 1, 5, 5, 5, 1, 2},      // k5 pad 2 stride 1: most inputs win several windows
      {1, 4, 6, 6, 6, 6, 0},      // global window: 1x1 output
  };
  for (const PoolSpec& s : backward) cases.push_back(maxpool2d_backward_case(s));
}

}  // namespace tinyopt::conformance
