// relu_backward conformance cases. Gradient mode: the reference is the finite
// difference of the relu reference, L = sum(relu(x) * dy), with x kept at
// least 0.01 away from 0 so the step never crosses the kink. Finite
// differences cost O(n^2) here, so those cases stay small; one case above the
// kernel's threading threshold (64K elements) uses the analytic reference.
#include "conformance/cases.h"
#include "conformance/gradient.h"
#include "core/ops_nn.h"
#include "kernels/elementwise.h"
#include "kernels/relu_backward.h"

namespace tinyopt::conformance {

namespace {

// Uniform magnitudes in [0.01, 1] with a random sign.
Generator away_from_zero() {
  return [](std::vector<double>& values, std::mt19937_64& rng) {
    std::uniform_real_distribution<double> magnitude(0.01, 1.0);
    std::bernoulli_distribution negative(0.5);
    for (double& v : values) v = negative(rng) ? -magnitude(rng) : magnitude(rng);
  };
}

OpCase relu_backward_case(const Shape& shape, bool finite_differences) {
  const int64_t n = shape.numel();
  OpCase c;
  c.op = "relu_backward";
  c.label = "x=" + shape.str() + (finite_differences ? "" : " analytic");
  c.op_object = &ops::relu_backward;
  c.inputs = {{shape, DType::f32}, {shape, DType::f32}};
  c.generators = {away_from_zero(), uniform(-1, 1)};
  c.outputs = {{shape, DType::f32}};
  c.invoke = make_invoke(ops::relu_backward,
                         [](std::vector<Tensor>& t) { return ActivationBackwardArgs{t[0], t[1], t[2]}; });
  c.reference = [n, finite_differences](const std::vector<std::vector<double>>& in,
                                        std::vector<std::vector<double>>& out) {
    if (!finite_differences) {
      kernels::relu_backward_ref(in[0].data(), in[1].data(), out[0].data(), n);
      return;
    }
    const ForwardRef forward = [n](const std::vector<std::vector<double>>& p, std::vector<double>& y) {
      kernels::relu_ref(p[0].data(), y.data(), n);
    };
    out[0] = numeric_gradient(forward, {in[0]}, in[1], 0);
  };
  // The kernel copies dy or writes 0 (exact); the finite difference carries
  // float64 rounding of the loss (~1e-9 absolute), hence not exactly 0.
  c.max_nmse = 1e-12;
  c.cost = kernels::relu_backward_cost(n);
  return c;
}

}  // namespace

void add_relu_backward_cases(std::vector<OpCase>& cases) {
  const Shape shapes[] = {{1}, {7}, {13}, {16}, {17}, {129}, {3, 5, 7}, {2, 3, 4, 5}, {0}, {64, 32}};
  for (const Shape& s : shapes) cases.push_back(relu_backward_case(s, true));
  cases.push_back(relu_backward_case({70001}, false));
  cases.push_back(relu_backward_case({64, 32, 26, 26}, false));  // the CNN's first activation at batch 64
}

}  // namespace tinyopt::conformance
