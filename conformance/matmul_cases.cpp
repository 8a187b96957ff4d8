// matmul conformance cases: awkward sizes (1, 7, 13, 127, 129), sizes one
// either side of common register tiles (16, 32, 48 wide; 6, 8, 14 tall),
// K = 1 and K = 0, tall/skinny shapes, the MLP's batch-1 layer, and every
// transpose combination.
#include "conformance/cases.h"
#include "core/ops.h"
#include "kernels/matmul.h"

namespace tinyopt::conformance {

OpCase matmul_case(int64_t m, int64_t n, int64_t k, bool trans_a, bool trans_b) {
  OpCase c;
  c.op = "matmul";
  c.label = fmt::format("m={} n={} k={} ta={} tb={}", m, n, k, int(trans_a), int(trans_b));
  c.op_object = &ops::matmul;
  c.inputs = {{trans_a ? Shape{k, m} : Shape{m, k}, DType::f32}, {trans_b ? Shape{n, k} : Shape{k, n}, DType::f32}};
  c.outputs = {{Shape{m, n}, DType::f32}};
  c.invoke = make_invoke(ops::matmul, [trans_a, trans_b](std::vector<Tensor>& t) {
    return MatmulArgs{t[0], t[1], t[2], trans_a, trans_b};
  });
  c.reference = [=](const std::vector<std::vector<double>>& in, std::vector<std::vector<double>>& out) {
    kernels::matmul_ref(in[0].data(), in[1].data(), out[0].data(), m, n, k, trans_a, trans_b);
  };
  // f32 accumulation over K terms: relative error grows ~sqrt(K) * 6e-8, so
  // NMSE stays far below 1e-9 for K up to a few thousand; a wrong or missing
  // element costs ~1/(M*N) and is caught.
  c.max_nmse = 1e-9;
  c.cost = kernels::matmul_cost(m, n, k);
  return c;
}

void add_matmul_cases(std::vector<OpCase>& cases) {
  struct Size {
    int64_t m, n, k;
  };
  const Size sizes[] = {
      {1, 1, 1},     {1, 128, 784}, {7, 13, 127},  {13, 7, 1},    {127, 129, 65}, {129, 127, 255},
      {64, 64, 1},   {4, 5, 0},     {1000, 3, 16}, {3, 1000, 17}, {5, 17, 33},    {15, 33, 31},
      {13, 31, 17},  {48, 47, 49},  {96, 97, 300}, {6, 16, 8},    {14, 32, 64},   {8, 48, 5},
      {7, 49, 129},  {200, 1, 50},  {256, 256, 256}, {333, 190, 517},
  };
  int combo = 0;
  for (const Size& s : sizes) {
    // Rotate through the four transpose combinations; the first few sizes get all four.
    const bool all_four = combo < 3;
    for (int t = 0; t < 4; ++t) {
      if (!all_four && t != combo % 4) continue;
      cases.push_back(matmul_case(s.m, s.n, s.k, t & 1, (t >> 1) & 1));
    }
    ++combo;
  }
}

}  // namespace tinyopt::conformance
