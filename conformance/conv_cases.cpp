// conv2d and conv2d_backward conformance cases.
//
// Forward: awkward shapes against the direct float64 reference: batch 1 and
// 3, channels 1, 3, 7, 13, 32, kernels 1, 3, 5 (and a non-square 3x5),
// strides 1 and 2 (and unequal 1x2), padding 0, 1, 2, non-square inputs,
// a 1x1 output, inputs smaller than the kernel, the 1x1 stride-1 path that
// skips im2col next to 1x1 convs that must not take it, and the CNN's two layers.
//
// Backward (gradient mode): the reference is the central finite difference
// of the forward reference, L = sum(conv(x, w, b) * dy), for every gradient
// the case asks for; each output combination (dx and db optional) appears.
// Shapes stay small because finite differences cost O(inputs x forward).
#include "conformance/cases.h"
#include "conformance/gradient.h"
#include "core/ops_nn.h"
#include "kernels/conv2d.h"

namespace tinyopt::conformance {

namespace {

struct ConvSpec {
  int64_t n, c, h, w, o, kh, kw, stride_h, stride_w, pad_h, pad_w;
};

kernels::Conv2dDims dims_of(const ConvSpec& s) {
  return kernels::conv2d_dims(s.n, s.c, s.h, s.w, s.o, s.kh, s.kw, s.stride_h, s.stride_w, s.pad_h, s.pad_w);
}

std::string conv_label(const ConvSpec& s) {
  return fmt::format("x=[{},{},{},{}] w=[{},{},{},{}] stride={}x{} pad={}x{}", s.n, s.c, s.h, s.w, s.o, s.c, s.kh,
                     s.kw, s.stride_h, s.stride_w, s.pad_h, s.pad_w);
}

OpCase conv2d_case(const ConvSpec& s, bool bias) {
  const kernels::Conv2dDims d = dims_of(s);
  const Conv2dGeometry g{s.stride_h, s.stride_w, s.pad_h, s.pad_w};
  OpCase c;
  c.op = "conv2d";
  c.label = conv_label(s) + (bias ? " bias" : "");
  c.op_object = &ops::conv2d;
  c.inputs = {{Shape{s.n, s.c, s.h, s.w}, DType::f32}, {Shape{s.o, s.c, s.kh, s.kw}, DType::f32}};
  if (bias) c.inputs.push_back({Shape{s.o}, DType::f32});
  c.outputs = {{Shape{s.n, s.o, d.oh, d.ow}, DType::f32}};
  c.invoke = make_invoke(ops::conv2d, [bias, g](std::vector<Tensor>& t) {
    return bias ? Conv2dArgs{t[0], t[1], t[2], t[3], g} : Conv2dArgs{t[0], t[1], Tensor(), t[2], g};
  });
  c.reference = [d, bias](const std::vector<std::vector<double>>& in, std::vector<std::vector<double>>& out) {
    kernels::conv2d_ref(in[0].data(), in[1].data(), bias ? in[2].data() : nullptr, out[0].data(), d);
  };
  // f32 sums of C*KH*KW products (up to 288 here): relative error ~1e-7, so
  // NMSE ~1e-14; a wrong tap or a missed output is orders of magnitude above 1e-9.
  c.max_nmse = 1e-9;
  c.cost = kernels::conv2d_cost(d, bias);
  return c;
}

OpCase conv2d_backward_case(const ConvSpec& s, bool want_dx, bool want_db) {
  const kernels::Conv2dDims d = dims_of(s);
  const Conv2dGeometry g{s.stride_h, s.stride_w, s.pad_h, s.pad_w};
  OpCase c;
  c.op = "conv2d_backward";
  c.label = conv_label(s) + (want_dx ? " dx" : "") + " dw" + (want_db ? " db" : "");
  c.op_object = &ops::conv2d_backward;
  c.inputs = {{Shape{s.n, s.c, s.h, s.w}, DType::f32},
              {Shape{s.o, s.c, s.kh, s.kw}, DType::f32},
              {Shape{s.n, s.o, d.oh, d.ow}, DType::f32}};
  if (want_dx) c.outputs.push_back({Shape{s.n, s.c, s.h, s.w}, DType::f32});
  c.outputs.push_back({Shape{s.o, s.c, s.kh, s.kw}, DType::f32});
  if (want_db) c.outputs.push_back({Shape{s.o}, DType::f32});
  c.invoke = make_invoke(ops::conv2d_backward, [want_dx, want_db, g](std::vector<Tensor>& t) {
    size_t k = 3;
    Conv2dBackwardArgs args{t[0], t[1], t[2], Tensor(), Tensor(), Tensor(), g};
    if (want_dx) args.dx = t[k++];
    args.dw = t[k++];
    if (want_db) args.db = t[k++];
    return args;
  });
  c.reference = [d, want_dx, want_db](const std::vector<std::vector<double>>& in,
                                      std::vector<std::vector<double>>& out) {
    // Parameters of the forward pass: x, w and a bias (zero: the loss is
    // linear in it, so its value does not change any gradient).
    const std::vector<std::vector<double>> params{in[0], in[1], std::vector<double>(d.o, 0.0)};
    const ForwardRef forward = [d](const std::vector<std::vector<double>>& p, std::vector<double>& y) {
      kernels::conv2d_ref(p[0].data(), p[1].data(), p[2].data(), y.data(), d);
    };
    size_t k = 0;
    if (want_dx) out[k++] = numeric_gradient(forward, params, in[2], 0);
    out[k++] = numeric_gradient(forward, params, in[2], 1);
    if (want_db) out[k++] = numeric_gradient(forward, params, in[2], 2);
  };
  // The loss is linear in every parameter, so central differences are exact
  // up to float64 rounding (~1e-10 relative); the f32 kernels sum up to
  // N*OH*OW products per dw element (NMSE ~1e-13).
  c.max_nmse = 1e-9;
  c.cost = kernels::conv2d_backward_cost(d, want_dx, want_db);
  return c;
}

}  // namespace

void add_conv_cases(std::vector<OpCase>& cases) {
  // {n, c, h, w, o, kh, kw, stride_h, stride_w, pad_h, pad_w}, with and without bias.
  const ConvSpec forward[] = {
      {1, 1, 5, 5, 1, 5, 5, 1, 1, 0, 0},       // 1x1 output, k5 covers the whole input
      {3, 3, 13, 7, 7, 3, 3, 1, 1, 1, 1},      // non-square input, same padding
      {1, 7, 13, 7, 13, 3, 3, 2, 2, 1, 1},     // stride 2, odd sizes
      {3, 13, 9, 11, 5, 5, 5, 2, 2, 2, 2},     // k5 stride 2 pad 2
      {1, 32, 28, 28, 7, 1, 1, 1, 1, 0, 0},    // pointwise: no im2col
      {3, 7, 8, 6, 3, 1, 1, 2, 2, 0, 0},       // 1x1 stride 2: needs im2col
      {1, 3, 5, 4, 2, 1, 1, 1, 1, 1, 1},       // 1x1 with padding: border outputs are bias only
      {1, 3, 7, 13, 2, 3, 5, 1, 2, 2, 0},      // non-square kernel, unequal stride/padding
      {3, 1, 2, 2, 3, 3, 3, 1, 1, 1, 1},       // input smaller than the kernel
      {1, 3, 5, 5, 4, 5, 5, 2, 2, 2, 2},       // 5x5 k5 stride 2 pad 2 -> 3x3
      {3, 1, 28, 28, 32, 3, 3, 1, 1, 0, 0},    // the CNN's first layer
      {3, 32, 13, 13, 64, 3, 3, 1, 1, 0, 0},   // the CNN's second layer
      {1, 13, 6, 9, 1, 3, 3, 1, 1, 0, 0},      // a single output channel
  };
  int i = 0;
  for (const ConvSpec& s : forward) {
    cases.push_back(conv2d_case(s, /*bias=*/true));
    if (i++ % 2 == 0) cases.push_back(conv2d_case(s, /*bias=*/false));
  }

  struct BackwardSpec {
    ConvSpec s;
    bool dx, db;
  };
  const BackwardSpec backward[] = {
      {{1, 1, 5, 5, 1, 5, 5, 1, 1, 0, 0}, true, true},     // 1x1 output
      {{3, 3, 7, 6, 4, 3, 3, 1, 1, 1, 1}, true, true},     // batch 3, same padding, non-square
      {{3, 7, 9, 5, 3, 3, 3, 2, 2, 1, 1}, false, true},    // stride 2, no dx
      {{1, 3, 8, 8, 5, 5, 5, 2, 2, 2, 2}, true, false},    // k5 stride 2 pad 2, no db
      {{3, 13, 4, 4, 2, 1, 1, 1, 1, 0, 0}, true, true},    // pointwise: no im2col / col2im
      {{2, 1, 10, 10, 6, 3, 3, 1, 1, 0, 0}, false, false}, // the first layer's shape: dw only
      {{2, 32, 5, 5, 3, 3, 3, 1, 1, 0, 0}, true, true},    // 32 input channels
      {{1, 2, 8, 7, 2, 3, 3, 2, 2, 0, 0}, true, true},     // last input row/column unused: dx = 0 there
      {{2, 2, 7, 5, 3, 3, 2, 2, 1, 1, 0}, true, true},     // non-square kernel, unequal stride/padding
      {{3, 3, 5, 5, 7, 1, 1, 2, 2, 1, 1}, true, true},     // 1x1 stride 2 with padding
  };
  for (const BackwardSpec& b : backward) cases.push_back(conv2d_backward_case(b.s, b.dx, b.db));
}

}  // namespace tinyopt::conformance
