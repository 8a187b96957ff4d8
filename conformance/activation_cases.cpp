// Conformance cases of gelu, gelu_backward, softmax and cross_entropy.
//
// Shapes are the awkward ones (1, 7, 13, 127 rows; 1, 3, 7, 13, 64, 127, 129
// columns) plus one call per op large enough to take the OpenMP path. Softmax
// and cross-entropy also get logits of magnitude 1e4 and an offset of 1e3 (+-5
// around 1e4): exp(x) overflows there, so only a max-subtracted kernel passes.
//
// Backward ops (gelu_backward, cross_entropy's dlogits) are checked against
// finite differences of the forward float64 reference (gradient.h) with a
// random upstream gradient; those references cost O(n^2), so their shapes stay
// small, and the one large call per op uses the closed-form reference from
// kernels/ instead (itself checked against finite differences in
// tests/test_transformer_ops.cpp).
#include "conformance/cases.h"
#include "conformance/gradient.h"
#include "core/ops_nn.h"
#include "kernels/activations.h"
#include "kernels/softmax.h"

namespace tinyopt::conformance {

namespace {

// Integers uniform in [lo, hi] (targets, ids).
Generator uniform_int(int64_t lo, int64_t hi) {
  return [lo, hi](std::vector<double>& values, std::mt19937_64& rng) {
    std::uniform_int_distribution<int64_t> dist(lo, hi);
    for (double& v : values) v = static_cast<double>(dist(rng));
  };
}

OpCase gelu_case(const Shape& shape, double range) {
  OpCase c;
  c.op = "gelu";
  c.label = fmt::format("shape={} range=+-{}", shape.str(), range);
  c.op_object = &ops::gelu;
  c.inputs = {{shape, DType::f32}};
  c.outputs = {{shape, DType::f32}};
  c.generators = {uniform(-range, range)};
  c.invoke = make_invoke(ops::gelu, [](std::vector<Tensor>& t) { return UnaryArgs{t[0], t[1]}; });
  c.reference = [](const std::vector<std::vector<double>>& in, std::vector<std::vector<double>>& out) {
    kernels::gelu_ref(in[0].data(), out[0].data(), static_cast<int64_t>(in[0].size()));
  };
  // The f32 erf is good to ~1e-6 relative (kernels/fast_math.h): NMSE ~1e-13.
  c.max_nmse = 1e-11;
  c.cost = kernels::gelu_cost(shape.numel());
  return c;
}

OpCase gelu_backward_case(const Shape& shape, bool analytic) {
  OpCase c;
  c.op = "gelu_backward";
  c.label = fmt::format("shape={}{}", shape.str(), analytic ? " ref=analytic" : "");
  c.op_object = &ops::gelu_backward;
  c.inputs = {{shape, DType::f32}, {shape, DType::f32}};  // x, dy
  c.outputs = {{shape, DType::f32}};
  c.generators = {uniform(-5, 5), uniform(-1, 1)};
  c.invoke = make_invoke(ops::gelu_backward,
                         [](std::vector<Tensor>& t) { return ActivationBackwardArgs{t[0], t[1], t[2]}; });
  c.reference = [analytic](const std::vector<std::vector<double>>& in, std::vector<std::vector<double>>& out) {
    const auto n = static_cast<int64_t>(in[0].size());
    if (analytic) {
      kernels::gelu_backward_ref(in[0].data(), in[1].data(), out[0].data(), n);
      return;
    }
    const ForwardRef forward = [n](const std::vector<std::vector<double>>& x, std::vector<double>& y) {
      kernels::gelu_ref(x[0].data(), y.data(), n);
    };
    out[0] = numeric_gradient(forward, in, in[1], 0);
  };
  c.max_nmse = 1e-10;
  c.cost = kernels::gelu_backward_cost(shape.numel());
  return c;
}

OpCase softmax_case(const Shape& shape, Generator gen, const std::string& values) {
  OpCase c;
  c.op = "softmax";
  c.label = fmt::format("shape={} x={}", shape.str(), values);
  c.op_object = &ops::softmax;
  c.inputs = {{shape, DType::f32}};
  c.outputs = {{shape, DType::f32}};
  c.generators = {std::move(gen)};
  c.invoke = make_invoke(ops::softmax, [](std::vector<Tensor>& t) { return SoftmaxArgs{t[0], t[1]}; });
  const int64_t cols = shape.size() == 0 ? 1 : shape[shape.size() - 1];
  const int64_t rows = cols == 0 ? 0 : shape.numel() / cols;
  c.reference = [rows, cols](const std::vector<std::vector<double>>& in, std::vector<std::vector<double>>& out) {
    kernels::softmax_ref(in[0].data(), out[0].data(), rows, cols);
  };
  c.max_nmse = 1e-11;
  c.cost = kernels::softmax_cost(rows, cols);
  return c;
}

// Outputs: loss [1] and, when with_grad, dlogits [n, k], checked together.
OpCase cross_entropy_case(int64_t n, int64_t k, DType target_dtype, bool with_grad, Generator logits,
                          const std::string& values, bool analytic = false) {
  OpCase c;
  c.op = "cross_entropy";
  c.label = fmt::format("n={} k={} targets={} dlogits={} logits={}{}", n, k, dtype_name(target_dtype), int(with_grad),
                        values, analytic ? " ref=analytic" : "");
  c.op_object = &ops::cross_entropy;
  c.inputs = {{{n, k}, DType::f32}, {{n}, target_dtype}};
  c.outputs = {{{1}, DType::f32}};
  if (with_grad) c.outputs.push_back({{n, k}, DType::f32});
  c.generators = {std::move(logits), uniform_int(0, k - 1)};
  c.invoke = make_invoke(ops::cross_entropy, [with_grad](std::vector<Tensor>& t) {
    return CrossEntropyArgs{t[0], t[1], t[2], with_grad ? t[3] : Tensor()};
  });
  c.reference = [=](const std::vector<std::vector<double>>& in, std::vector<std::vector<double>>& out) {
    out[0][0] = kernels::cross_entropy_ref(in[0].data(), in[1].data(), n, k, analytic && with_grad ? out[1].data() : nullptr);
    if (!with_grad || analytic) return;
    // dlogits = d(loss)/d(logits): finite differences of the loss (upstream gradient 1).
    const ForwardRef loss = [n, k](const std::vector<std::vector<double>>& x, std::vector<double>& y) {
      y[0] = kernels::cross_entropy_ref(x[0].data(), x[1].data(), n, k);
    };
    out[1] = numeric_gradient(loss, in, {1.0}, 0);
  };
  // The loss (~log k) dominates the norm: 1e-11 still catches a 3e-5 relative
  // error in dlogits, and a correct f32 kernel lands near 1e-14. A single
  // sample's loss can be tiny (a confident correct prediction, k = 2: ~1e-3)
  // while log-sum-exp minus the target logit cancels in f32 to an absolute
  // error of a few 1e-7, so n = 1 gets a threshold relative to that floor;
  // a wrong loss is still off by O(1).
  c.max_nmse = n == 1 ? 1e-8 : 1e-11;
  c.cost = kernels::cross_entropy_cost(n, k, with_grad, dtype_size(target_dtype));
  return c;
}

}  // namespace

void add_activation_cases(std::vector<OpCase>& cases) {
  // gelu: awkward lengths, a 2-D shape, the threaded path; inputs out to +-8
  // cover the erf tails where 1 + erf(x) would cancel.
  for (const Shape& s : {Shape{1}, Shape{7}, Shape{13}, Shape{127}, Shape{129}, Shape{13, 64}, Shape{7, 127}}) {
    cases.push_back(gelu_case(s, 4));
  }
  cases.push_back(gelu_case({3, 129}, 8));
  cases.push_back(gelu_case({127, 129}, 3));  // 16383 elements: just below the threading threshold
  cases.push_back(gelu_case({70001}, 6));     // threaded, ragged last chunk

  for (const Shape& s : {Shape{1}, Shape{7}, Shape{13}, Shape{127}, Shape{3, 129}, Shape{13, 64}}) {
    cases.push_back(gelu_backward_case(s, false));
  }
  cases.push_back(gelu_backward_case({257, 129}, true));  // threaded

  // softmax over the last dim.
  const Shape softmax_shapes[] = {{1, 1}, {1, 7}, {7, 13}, {13, 3}, {13, 127}, {127, 129},
                                  {127, 1}, {7, 64},  {3, 4, 5}, {300, 257}};
  for (const Shape& s : softmax_shapes) cases.push_back(softmax_case(s, uniform(-4, 4), "U(-4,4)"));
  // Stability: exp(1e4) is inf in f32, so these only pass when the max is subtracted.
  cases.push_back(softmax_case({13, 64}, uniform(-1e4, 1e4), "U(-1e4,1e4)"));
  cases.push_back(softmax_case({13, 129}, uniform(1e3 - 3, 1e3 + 3), "1e3+U(-3,3)"));
  cases.push_back(softmax_case({7, 127}, uniform(1e4 - 5, 1e4 + 5), "1e4+U(-5,5)"));
  cases.push_back(softmax_case({7, 127}, uniform(-1e4 - 5, -1e4 + 5), "-1e4+U(-5,5)"));

  // cross-entropy: N 1 and 13, K 2, 10, 65, both target dtypes, with and without dlogits.
  for (int64_t n : {1, 13}) {
    for (int64_t k : {2, 10, 65}) {
      for (DType dt : {DType::i32, DType::i64}) {
        cases.push_back(cross_entropy_case(n, k, dt, true, uniform(-3, 3), "U(-3,3)"));
      }
      cases.push_back(cross_entropy_case(n, k, DType::i64, false, uniform(-3, 3), "U(-3,3)"));
    }
  }
  cases.push_back(cross_entropy_case(13, 65, DType::i32, true, uniform(1e3 - 3, 1e3 + 3), "1e3+U(-3,3)"));
  cases.push_back(cross_entropy_case(7, 10, DType::i64, true, uniform(-1e4, 1e4), "U(-1e4,1e4)"));
  cases.push_back(cross_entropy_case(4096, 65, DType::i64, true, uniform(-3, 3), "U(-3,3)", true));  // threaded
  cases.push_back(cross_entropy_case(4096, 65, DType::i32, false, uniform(-3, 3), "U(-3,3)", true));
}

}  // namespace tinyopt::conformance
