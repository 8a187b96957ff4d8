// INT8 conformance cases: qgemm, qconv2d, quantize, dequantize and maxpool2d on u8.
//
// Integer accumulators (y i32) must match the int64 reference exactly.
// Requantized outputs (y u8) must lie within 1 LSB of the float64 reference
// clamp(zp + round(acc * real), lo, 255), where real is the exact value of the
// case's (multiplier, shift) pair: the fixed-point path rounds twice, a library
// applying float scales (oneDNN) rounds differently, and both are allowed one
// unit. Dequantized outputs (y f32) are judged by NMSE.
//
// Inputs are fresh random integers over the whole u8 / s8 range (weights in
// [-127, 127] as the contract restricts them). The requantization shift is
// drawn per channel around the value that maps the accumulators' typical
// spread onto about +-100 codes, one step either way, so every case exercises
// rounding in the middle of the range and saturation at both clamps.
// quantize is exact (f32 division, round half to even): one case puts every
// input on the half-way grid of a power-of-two scale, plus NaN and +-Inf.
#include "conformance/quant_cases.h"

#include <cmath>
#include <limits>

#include "conformance/cases.h"
#include "core/ops_nn.h"
#include "core/ops_quant.h"
#include "kernels/pool.h"
#include "kernels/quant.h"

namespace tinyopt::conformance {

namespace {

Generator integers(int64_t lo, int64_t hi) {
  return [lo, hi](std::vector<double>& values, std::mt19937_64& rng) {
    std::uniform_int_distribution<int64_t> dist(lo, hi);
    for (double& v : values) v = static_cast<double>(dist(rng));
  };
}

constexpr int64_t kBiasRange = 20000;

// Per-channel shifts around the one that maps an accumulator of typical size
// (sqrt(k) * ~74 * ~73 for uniform u8/s8 around their zero points, plus the bias)
// onto ~100 codes.
Generator shifts_for(int64_t k, int offset) {
  const double typical = 5400.0 * std::sqrt(static_cast<double>(k)) + kBiasRange;
  const int64_t centre = static_cast<int64_t>(std::ceil(std::log2(typical / 100.0))) + offset;
  return integers(centre - 1, centre + 1);
}

const char* out_name(const QuantOutSpec& o) {
  switch (o.dtype) {
    case DType::i32: return "i32";
    case DType::f32: return "f32";
    default: return "u8";
  }
}

std::string out_label(const QuantOutSpec& o) {
  std::string s = std::string(" out=") + out_name(o);
  if (o.dtype == DType::u8) s += fmt::format("(zp {})", o.zero_point);
  if (o.shift_offset != 0) s += fmt::format(" shift{:+}", o.shift_offset);
  if (o.relu) s += " relu";
  return s;
}

// Appends the output-stage inputs (multiplier+shift or scale) and sets the
// tolerance for y's dtype. Returns the index of the first such input.
size_t add_output_inputs(OpCase& c, const QuantOutSpec& o, int64_t channels, int64_t k) {
  const size_t first = c.inputs.size();
  if (o.dtype == DType::u8) {
    c.inputs.push_back({Shape{channels}, DType::i32});
    c.generators.push_back(integers(int64_t{1} << 30, (int64_t{1} << 31) - 1));
    c.inputs.push_back({Shape{channels}, DType::i32});
    c.generators.push_back(shifts_for(k, o.shift_offset));
    c.max_lsb = 1;
  } else if (o.dtype == DType::f32) {
    c.inputs.push_back({Shape{channels}, DType::f32});
    c.generators.push_back(uniform(1e-4, 1e-2));
    c.max_nmse = 1e-12;
  } else {
    c.max_nmse = 0;  // exact
  }
  return first;
}

QuantOutput make_output(const QuantOutSpec& o, std::vector<Tensor>& t, size_t first) {
  QuantOutput out;
  out.zero_point = o.zero_point;
  out.relu = o.relu;
  if (o.dtype == DType::u8) {
    out.multiplier = t[first];
    out.shift = t[first + 1];
  } else if (o.dtype == DType::f32) {
    out.scale = t[first];
  }
  return out;
}

// y = output stage of the accumulators acc (channel of element i = channel_of(i)).
template <class ChannelOf>
void reference_output(const QuantOutSpec& o, const std::vector<std::vector<double>>& in, size_t first,
                      const std::vector<double>& acc, std::vector<double>& y, ChannelOf channel_of) {
  for (size_t i = 0; i < acc.size(); ++i) {
    const int64_t ch = channel_of(static_cast<int64_t>(i));
    if (o.dtype == DType::u8) {
      const double real = kernels::requant_real(static_cast<int32_t>(in[first][ch]), static_cast<int32_t>(in[first + 1][ch]));
      y[i] = kernels::requantize_ref(acc[i], real, o.zero_point, o.relu);
    } else if (o.dtype == DType::f32) {
      y[i] = kernels::dequantize_acc_ref(acc[i], in[first][ch], o.relu);
    } else {
      y[i] = acc[i];
    }
  }
}

OpCase quantize_case(const Shape& shape, float scale, int32_t zp, Generator gen, const char* note) {
  OpCase c;
  c.op = "quantize";
  c.label = fmt::format("x={} scale={} zp={}{}", shape.str(), scale, zp, note);
  c.op_object = &ops::quantize;
  c.inputs = {{shape, DType::f32}};
  c.generators = {std::move(gen)};
  c.outputs = {{shape, DType::u8}};
  c.invoke = make_invoke(ops::quantize, [scale, zp](std::vector<Tensor>& t) { return QuantizeArgs{t[0], t[1], scale, zp}; });
  c.reference = [scale, zp](const std::vector<std::vector<double>>& in, std::vector<std::vector<double>>& o) {
    for (size_t i = 0; i < in[0].size(); ++i) o[0][i] = kernels::quantize_ref(in[0][i], scale, zp);
  };
  c.max_nmse = 0;  // exact
  c.cost = kernels::quantize_cost(shape.numel());
  return c;
}

// Values on the half-way grid (j + 1/2) * scale (and on the grid itself),
// exact in f32 for a power-of-two scale, with NaN and +-Inf sprinkled in.
Generator halfway_grid(double scale) {
  return [scale](std::vector<double>& values, std::mt19937_64& rng) {
    std::uniform_int_distribution<int> half_steps(-300, 300), special(0, 40);
    for (double& v : values) {
      const int s = special(rng);
      if (s == 0) v = std::numeric_limits<double>::quiet_NaN();
      else if (s == 1) v = std::numeric_limits<double>::infinity();
      else if (s == 2) v = -std::numeric_limits<double>::infinity();
      else v = half_steps(rng) * 0.5 * scale;
    }
  };
}

OpCase dequantize_case(const Shape& shape, float scale, int32_t zp) {
  OpCase c;
  c.op = "dequantize";
  c.label = fmt::format("x={} scale={} zp={}", shape.str(), scale, zp);
  c.op_object = &ops::dequantize;
  c.inputs = {{shape, DType::u8}};
  c.generators = {integers(0, 255)};
  c.outputs = {{shape, DType::f32}};
  c.invoke = make_invoke(ops::dequantize, [scale, zp](std::vector<Tensor>& t) { return DequantizeArgs{t[0], t[1], scale, zp}; });
  c.reference = [scale, zp](const std::vector<std::vector<double>>& in, std::vector<std::vector<double>>& o) {
    for (size_t i = 0; i < in[0].size(); ++i) o[0][i] = kernels::dequantize_ref(in[0][i], scale, zp);
  };
  c.max_nmse = 1e-13;  // one f32 rounding of an exact product
  c.cost = kernels::dequantize_cost(shape.numel());
  return c;
}

OpCase maxpool2d_u8_case(int64_t n, int64_t ch, int64_t h, int64_t w, int64_t kernel, int64_t stride, int64_t pad,
                         bool want_argmax) {
  const int64_t oh = (h + 2 * pad - kernel) / stride + 1, ow = (w + 2 * pad - kernel) / stride + 1;
  OpCase c;
  c.op = "maxpool2d";
  c.label = fmt::format("u8 x=[{},{},{},{}] kernel={} stride={} pad={}{}", n, ch, h, w, kernel, stride, pad,
                        want_argmax ? " argmax" : "");
  c.op_object = &ops::maxpool2d;
  const Shape out{n, ch, oh, ow};
  c.inputs = {{Shape{n, ch, h, w}, DType::u8}};
  c.generators = {integers(0, 255)};  // many ties: the first maximum in scan order must win
  c.outputs = {{out, DType::u8}};
  if (want_argmax) c.outputs.push_back({out, DType::i32});
  c.invoke = make_invoke(ops::maxpool2d, [kernel, stride, pad, want_argmax](std::vector<Tensor>& t) {
    return MaxPool2dArgs{t[0], t[1], want_argmax ? t[2] : Tensor(), kernel, stride, pad};
  });
  c.reference = [=](const std::vector<std::vector<double>>& in, std::vector<std::vector<double>>& o) {
    kernels::maxpool2d_ref(in[0].data(), o[0].data(), want_argmax ? o[1].data() : nullptr, n * ch, h, w, oh, ow, kernel,
                           stride, pad);
  };
  c.max_nmse = 0;
  c.cost = kernels::maxpool2d_cost(n * ch, h, w, oh, ow, kernel, want_argmax, 1);
  return c;
}

}  // namespace

OpCase qgemm_case(int64_t m, int64_t n, int64_t k, int32_t a_zero, bool bias, QuantOutSpec o) {
  OpCase c;
  c.op = "qgemm";
  c.label = fmt::format("m={} n={} k={} a_zero={}{}{}", m, n, k, a_zero, bias ? " bias" : "", out_label(o));
  c.op_object = &ops::qgemm;
  c.inputs = {{Shape{m, k}, DType::u8}, {Shape{n, k}, DType::i8}};
  c.generators = {integers(0, 255), integers(-127, 127)};
  if (bias) {
    c.inputs.push_back({Shape{n}, DType::i32});
    c.generators.push_back(integers(-kBiasRange, kBiasRange));
  }
  const size_t first = add_output_inputs(c, o, n, k);
  const size_t y_index = c.inputs.size();
  c.outputs = {{Shape{m, n}, o.dtype}};
  c.invoke = make_invoke(ops::qgemm, [=](std::vector<Tensor>& t) {
    return QGemmArgs{t[0], t[1], bias ? t[2] : Tensor(), t[y_index], a_zero, make_output(o, t, first)};
  });
  c.reference = [=](const std::vector<std::vector<double>>& in, std::vector<std::vector<double>>& out) {
    std::vector<double> acc(static_cast<size_t>(m * n));
    kernels::qgemm_acc_ref(in[0].data(), in[1].data(), bias ? in[2].data() : nullptr, acc.data(), m, n, k, a_zero);
    reference_output(o, in, first, acc, out[0], [n](int64_t i) { return i % n; });
  };
  c.cost = kernels::qgemm_cost(m, n, k, bias, dtype_size(o.dtype));
  return c;
}

OpCase qconv2d_case(int64_t n, int64_t ch, int64_t h, int64_t w, int64_t o_ch, int64_t kernel, int64_t stride,
                    int64_t pad, int32_t x_zero, bool bias, QuantOutSpec o, int64_t pool) {
  const kernels::Conv2dDims d = kernels::conv2d_dims(n, ch, h, w, o_ch, kernel, kernel, stride, stride, pad, pad);
  const int64_t ph = pool > 0 ? d.oh / pool : d.oh, pw = pool > 0 ? d.ow / pool : d.ow;
  OpCase c;
  c.op = "qconv2d";
  c.label = fmt::format("x=[{},{},{},{}] w=[{},{},{},{}] stride={} pad={} x_zero={}{}{}{}", n, ch, h, w, o_ch, ch, kernel,
                        kernel, stride, pad, x_zero, bias ? " bias" : "", out_label(o),
                        pool > 0 ? fmt::format(" maxpool={}", pool) : std::string());
  c.op_object = &ops::qconv2d;
  c.inputs = {{Shape{n, ch, h, w}, DType::u8}, {Shape{o_ch, ch, kernel, kernel}, DType::i8}};
  c.generators = {integers(0, 255), integers(-127, 127)};
  if (bias) {
    c.inputs.push_back({Shape{o_ch}, DType::i32});
    c.generators.push_back(integers(-kBiasRange, kBiasRange));
  }
  const size_t first = add_output_inputs(c, o, o_ch, d.patch());
  const size_t y_index = c.inputs.size();
  c.outputs = {{Shape{n, o_ch, ph, pw}, o.dtype}};
  const Conv2dGeometry g{stride, stride, pad, pad};
  c.invoke = make_invoke(ops::qconv2d, [=](std::vector<Tensor>& t) {
    return QConv2dArgs{t[0], t[1], bias ? t[2] : Tensor(), t[y_index], g, x_zero, make_output(o, t, first), pool};
  });
  c.reference = [=](const std::vector<std::vector<double>>& in, std::vector<std::vector<double>>& out) {
    std::vector<double> acc(static_cast<size_t>(d.n * d.o * d.oh * d.ow));
    kernels::qconv2d_acc_ref(in[0].data(), in[1].data(), bias ? in[2].data() : nullptr, acc.data(), d, x_zero);
    const int64_t plane = d.oh * d.ow, channels = d.o;
    if (pool == 0) {
      reference_output(o, in, first, acc, out[0], [=](int64_t i) { return (i / plane) % channels; });
      return;
    }
    // The definition: the whole output stage, then the max over each window.
    std::vector<double> full(acc.size());
    reference_output(o, in, first, acc, full, [=](int64_t i) { return (i / plane) % channels; });
    for (int64_t p = 0; p < d.n * d.o; ++p)
      for (int64_t r = 0; r < ph; ++r)
        for (int64_t q = 0; q < pw; ++q) {
          double best = -std::numeric_limits<double>::infinity();
          for (int64_t i = 0; i < pool; ++i)
            for (int64_t j = 0; j < pool; ++j) best = std::max(best, full[p * plane + (r * pool + i) * d.ow + q * pool + j]);
          out[0][(p * ph + r) * pw + q] = best;
        }
  };
  c.cost = kernels::qconv2d_cost(d, bias, dtype_size(o.dtype), pool);
  return c;
}

void add_quant_cases(std::vector<OpCase>& cases) {
  const QuantOutSpec i32{DType::i32, 0, false};
  const QuantOutSpec u8{DType::u8, 3, false}, u8_relu{DType::u8, 128, true}, u8_zp255{DType::u8, 255, false};
  const QuantOutSpec u8_zp0_relu{DType::u8, 0, true};
  const QuantOutSpec f32{DType::f32, 0, false}, f32_relu{DType::f32, 0, true};

  // qgemm: awkward shapes (M = 1, 7, 13, 127; K not a multiple of 4 or 64; N not a
  // tile multiple), every output mode, zero points 0 / 128 / 255, ReLU and bias on/off.
  struct G { int64_t m, n, k; int32_t a_zero; bool bias; QuantOutSpec out; };
  const G gemms[] = {
      {1, 1, 1, 0, false, i32},          {1, 1, 1, 255, true, u8},
      {7, 13, 127, 128, true, i32},      {7, 13, 127, 128, true, u8_relu},
      {13, 7, 3, 255, false, u8},        {13, 17, 5, 0, true, f32_relu},
      {127, 33, 65, 7, true, u8_zp255},  {127, 65, 63, 128, false, i32},
      {1, 129, 257, 128, true, u8},      {2, 31, 1001, 200, true, f32},
      {16, 64, 64, 128, true, u8_zp0_relu}, {33, 48, 96, 0, false, u8},
      {4, 256, 4, 128, true, u8_relu},   {64, 1, 300, 50, true, u8},
      {127, 127, 127, 255, true, f32},   {200, 200, 200, 128, true, u8_relu},
      {3, 20, 5, 128, true, {DType::u8, 100, false, -12}},  // left shifts: saturating path
      {250, 70, 36, 9, true, u8},        // two M blocks, the second short
      {300, 40, 100, 3, true, u8_relu},  // the same, enough work to be threaded
      {480, 70, 64, 200, true, i32},     // two full M blocks, threaded
      {4, 5, 0, 7, true, u8},            // K = 0: the output stage of the bias alone
      // The MLP's layers at batch 1 and 64 (784->128 relu, 128->64 relu, 64->10 logits).
      {1, 128, 784, 0, true, u8_relu},   {64, 128, 784, 0, true, u8_relu},
      {1, 64, 128, 0, true, u8_relu},    {64, 64, 128, 0, true, u8_relu},
      {1, 10, 64, 0, true, f32},         {64, 10, 64, 0, true, f32},
      {64, 128, 784, 17, true, i32},
  };
  for (const G& g : gemms) cases.push_back(qgemm_case(g.m, g.n, g.k, g.a_zero, g.bias, g.out));

  // qconv2d: stride, padding, odd sizes, 1x1, every output mode, and the CNN's
  // layers (1->32 k3 on 28x28, 32->64 k3 on 13x13) at batch 1 and 64.
  struct C { int64_t n, c, h, w, o, k, stride, pad; int32_t x_zero; bool bias; QuantOutSpec out; };
  const C convs[] = {
      {1, 1, 1, 1, 1, 1, 1, 0, 0, false, i32},     {1, 1, 5, 5, 1, 3, 1, 1, 255, true, u8},
      {2, 3, 7, 9, 5, 3, 2, 1, 128, true, i32},    {2, 3, 7, 9, 5, 3, 2, 1, 128, true, u8_relu},
      {1, 5, 13, 13, 7, 3, 1, 0, 37, false, f32},  {3, 4, 11, 6, 13, 1, 1, 0, 128, true, u8_zp255},
      {1, 2, 9, 9, 3, 5, 2, 2, 0, true, u8_zp0_relu}, {2, 17, 6, 7, 9, 2, 3, 1, 255, true, f32_relu},
      {1, 16, 8, 8, 32, 3, 1, 1, 128, true, i32},
      {1, 1, 28, 28, 32, 3, 1, 0, 0, true, u8_relu},   {64, 1, 28, 28, 32, 3, 1, 0, 0, true, u8_relu},
      {1, 32, 13, 13, 64, 3, 1, 0, 0, true, u8_relu},  {64, 32, 13, 13, 64, 3, 1, 0, 0, true, u8_relu},
      {1, 32, 13, 13, 64, 3, 1, 0, 90, true, i32},
      // More than one 64-channel panel, channel counts that are not multiples
      // of 4 or 16, wide rows with stride 2 (the direct VNNI path's edges).
      {1, 3, 20, 37, 70, 5, 2, 2, 7, true, u8_relu},  {2, 6, 9, 31, 129, 3, 1, 1, 200, true, u8},
  };
  for (const C& v : convs)
    cases.push_back(qconv2d_case(v.n, v.c, v.h, v.w, v.o, v.k, v.stride, v.pad, v.x_zero, v.bias, v.out));
  // With a fused max-pool: the quantized CNN's conv + pool pairs at batch 1 and
  // 64, odd conv outputs (the last row and column fall outside every window),
  // 3x3 windows, more than one panel, f32 and u8 outputs.
  struct P { int64_t n, c, h, w, o, k, stride, pad; int32_t x_zero; QuantOutSpec out; int64_t pool; };
  const P pooled[] = {
      {1, 1, 28, 28, 32, 3, 1, 0, 0, u8_relu, 2},   {64, 1, 28, 28, 32, 3, 1, 0, 0, u8_relu, 2},
      {1, 32, 13, 13, 64, 3, 1, 0, 0, u8_relu, 2},  {64, 32, 13, 13, 64, 3, 1, 0, 0, u8_relu, 2},
      {2, 3, 12, 17, 70, 3, 1, 1, 128, u8, 3},      {1, 5, 9, 8, 7, 2, 1, 0, 255, f32_relu, 2},
      {3, 4, 11, 13, 20, 3, 2, 1, 9, u8_zp255, 2},  {1, 2, 6, 6, 17, 3, 1, 1, 33, u8, 1},
  };
  for (const P& v : pooled)
    cases.push_back(qconv2d_case(v.n, v.c, v.h, v.w, v.o, v.k, v.stride, v.pad, v.x_zero, true, v.out, v.pool));

  cases.push_back(quantize_case({1}, 0.1f, 0, uniform(-1, 1), ""));
  cases.push_back(quantize_case({7, 13}, 0.05f, 128, uniform(-8, 8), ""));  // saturates at both ends
  cases.push_back(quantize_case({64, 784}, 1.0f / 255.0f, 0, uniform(0, 1), ""));  // Fashion-MNIST pixels
  cases.push_back(quantize_case({3, 127}, 0.015625f, 100, halfway_grid(0.015625), " halfway+nan+inf"));
  cases.push_back(quantize_case({70001}, 0.02f, 255, uniform(-6, 1), ""));  // threaded path
  cases.push_back(dequantize_case({1}, 0.1f, 0));
  cases.push_back(dequantize_case({13, 7}, 0.0371f, 128));
  cases.push_back(dequantize_case({70001}, 0.02f, 255));

  cases.push_back(maxpool2d_u8_case(1, 32, 26, 26, 2, 2, 0, false));   // the CNN's first pool
  cases.push_back(maxpool2d_u8_case(64, 64, 11, 11, 2, 2, 0, false));  // its second, batch 64
  cases.push_back(maxpool2d_u8_case(2, 3, 13, 7, 3, 2, 1, true));
  // The u8 2x2 row loop's edges: rows past one 64-byte chunk, odd widths and
  // heights (the last column/row is dropped), and 2x2 with argmax (scalar path).
  cases.push_back(maxpool2d_u8_case(1, 3, 9, 131, 2, 2, 0, false));
  cases.push_back(maxpool2d_u8_case(2, 5, 7, 65, 2, 2, 0, false));
  cases.push_back(maxpool2d_u8_case(1, 2, 4, 5, 2, 2, 0, true));
  cases.push_back(maxpool2d_u8_case(1, 3, 9, 8, 3, 3, 0, true));
}

}  // namespace tinyopt::conformance
