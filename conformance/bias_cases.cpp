// bias_add and sum_rows conformance cases (a linear layer's bias forward and
// its gradient). Shapes: one element, widths around SIMD multiples, rank 1 and
// rank 3, the CNN's linear layers at batch 64, few rows with many columns and
// many rows with few columns (the two threaded paths of sum_rows), and empty
// tensors (sum_rows over zero rows must still write zeros).
#include "conformance/cases.h"
#include "core/ops_nn.h"
#include "kernels/bias.h"

namespace tinyopt::conformance {

namespace {

int64_t cols_of(const Shape& s) { return s.size() == 0 ? 1 : s[s.size() - 1]; }
int64_t rows_of(const Shape& s) { return cols_of(s) == 0 ? 0 : s.numel() / cols_of(s); }

OpCase bias_add_case(const Shape& shape) {
  const int64_t rows = rows_of(shape), cols = cols_of(shape);
  OpCase c;
  c.op = "bias_add";
  c.label = "x=" + shape.str();
  c.op_object = &ops::bias_add;
  c.inputs = {{shape, DType::f32}, {Shape{cols}, DType::f32}};
  c.outputs = {{shape, DType::f32}};
  c.invoke = make_invoke(ops::bias_add, [](std::vector<Tensor>& t) { return BiasAddArgs{t[0], t[1], t[2]}; });
  c.reference = [rows, cols](const std::vector<std::vector<double>>& in, std::vector<std::vector<double>>& out) {
    kernels::bias_add_ref(in[0].data(), in[1].data(), out[0].data(), rows, cols);
  };
  c.max_nmse = 1e-12;  // one f32 rounding per element
  c.cost = kernels::bias_add_cost(rows, cols);
  return c;
}

OpCase sum_rows_case(const Shape& shape) {
  const int64_t rows = rows_of(shape), cols = cols_of(shape);
  OpCase c;
  c.op = "sum_rows";
  c.label = "x=" + shape.str();
  c.op_object = &ops::sum_rows;
  c.inputs = {{shape, DType::f32}};
  c.outputs = {{Shape{cols}, DType::f32}};
  c.invoke = make_invoke(ops::sum_rows, [](std::vector<Tensor>& t) { return SumRowsArgs{t[0], t[1]}; });
  c.reference = [rows, cols](const std::vector<std::vector<double>>& in, std::vector<std::vector<double>>& out) {
    kernels::sum_rows_ref(in[0].data(), out[0].data(), rows, cols);
  };
  // Sums of up to 20000 terms: a plain f32 running sum would drift ~1e-5
  // relative (NMSE ~1e-10); the threshold asks for better than that.
  c.max_nmse = 1e-11;
  c.cost = kernels::sum_rows_cost(rows, cols);
  return c;
}

}  // namespace

void add_bias_cases(std::vector<OpCase>& cases) {
  const Shape bias_shapes[] = {{1, 1}, {17}, {7, 13}, {3, 5, 7}, {64, 128}, {64, 10},
                               {129, 17}, {1000, 3}, {2, 70001}, {300, 300}, {0, 5}};
  for (const Shape& s : bias_shapes) cases.push_back(bias_add_case(s));
  const Shape sum_shapes[] = {{1, 1}, {17}, {7, 13}, {3, 5, 7}, {64, 128}, {64, 10}, {129, 17},
                              {20000, 10}, {3, 30001}, {300, 513}, {0, 5}};
  for (const Shape& s : sum_shapes) cases.push_back(sum_rows_case(s));
}

}  // namespace tinyopt::conformance
