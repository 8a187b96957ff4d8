// Gradient mode of the conformance table: the float64 reference of a
// backward op is the central finite difference of its forward reference.
// For L = sum(forward(inputs) * dy), dL/d inputs[which][i] is estimated as
// (L(x + h e_i) - L(x - h e_i)) / 2h in float64, accurate to ~1e-9 relative
// for smooth ops (h = 1e-5), which is far tighter than the f32 kernels need.
#pragma once

#include <functional>
#include <vector>

namespace tinyopt::conformance {

using ForwardRef = std::function<void(const std::vector<std::vector<double>>& inputs, std::vector<double>& output)>;

inline std::vector<double> numeric_gradient(const ForwardRef& forward, std::vector<std::vector<double>> inputs,
                                            const std::vector<double>& dy, size_t which, double h = 1e-5) {
  std::vector<double> grad(inputs[which].size());
  std::vector<double> out(dy.size());
  auto loss = [&] {
    out.assign(dy.size(), 0.0);
    forward(inputs, out);
    double l = 0;
    for (size_t i = 0; i < dy.size(); ++i) l += out[i] * dy[i];
    return l;
  };
  for (size_t i = 0; i < grad.size(); ++i) {
    const double saved = inputs[which][i];
    inputs[which][i] = saved + h;
    const double plus = loss();
    inputs[which][i] = saved - h;
    const double minus = loss();
    inputs[which][i] = saved;
    grad[i] = (plus - minus) / (2 * h);
  }
  return grad;
}

}  // namespace tinyopt::conformance
