// Elementwise conformance cases: lengths around SIMD widths and the
// threading threshold, 1 element, empty, and multi-dimensional shapes.
#include "conformance/cases.h"
#include "core/ops.h"
#include "kernels/elementwise.h"

namespace tinyopt::conformance {

namespace {

OpCase add_case(const Shape& shape) {
  OpCase c;
  c.op = "add";
  c.label = "shape=" + shape.str();
  c.op_object = &ops::add;
  c.inputs = {{shape, DType::f32}, {shape, DType::f32}};
  c.outputs = {{shape, DType::f32}};
  c.invoke = make_invoke(ops::add, [](std::vector<Tensor>& t) { return BinaryArgs{t[0], t[1], t[2]}; });
  c.reference = [](const std::vector<std::vector<double>>& in, std::vector<std::vector<double>>& out) {
    kernels::add_ref(in[0].data(), in[1].data(), out[0].data(), static_cast<int64_t>(in[0].size()));
  };
  c.max_nmse = 1e-12;
  c.cost = kernels::add_cost(shape.numel());
  return c;
}

OpCase relu_case(const Shape& shape) {
  OpCase c;
  c.op = "relu";
  c.label = "shape=" + shape.str();
  c.op_object = &ops::relu;
  c.inputs = {{shape, DType::f32}};
  c.outputs = {{shape, DType::f32}};
  c.invoke = make_invoke(ops::relu, [](std::vector<Tensor>& t) { return UnaryArgs{t[0], t[1]}; });
  c.reference = [](const std::vector<std::vector<double>>& in, std::vector<std::vector<double>>& out) {
    kernels::relu_ref(in[0].data(), out[0].data(), static_cast<int64_t>(in[0].size()));
  };
  c.max_nmse = 0;  // relu is exact
  c.cost = kernels::relu_cost(shape.numel());
  return c;
}

}  // namespace

void add_elementwise_cases(std::vector<OpCase>& cases) {
  const Shape shapes[] = {{1}, {7}, {13}, {16}, {17}, {127}, {129}, {0}, {3, 5, 7}, {2, 3, 4, 5}, {70001}, {256, 513}};
  for (const Shape& s : shapes) cases.push_back(add_case(s));
  for (const Shape& s : shapes) cases.push_back(relu_case(s));
}

}  // namespace tinyopt::conformance
