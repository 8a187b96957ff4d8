// Conformance cases of layernorm, embedding and attention, forward and backward.
//
// Awkward shapes throughout (rows 1, 7, 13, 127; dims 1, 3, 7, 13, 64, 127,
// 129; attention with B 1 and 2, T 1, 7, 13, 64 and a T that is not a multiple
// of the 32-key chunk, 1, 2 and 4 heads of 1, 4, 13, 32 columns, and the
// padded head widths 33, 64 and 128 of cpu.blocked's other tile shapes), plus
// one call per op large enough for the OpenMP path. LayerNorm also runs on
// inputs with an offset of 1e3 and a magnitude of 1e4.
//
// Backward references are finite differences of the forward float64 reference
// with a random upstream gradient (gradient.h), so those shapes stay small;
// the one large call per backward op uses the closed-form reference from
// kernels/ (checked against finite differences in tests/test_transformer_ops.cpp).
//
// A backward op's saved inputs must agree with its other inputs (layernorm's
// mean/rstd with x, attention's probs with qkv). The generator of the source
// input records what it drew (rounded to f32, i.e. exactly what the kernel
// sees) and the saved inputs' generators compute from that record: prepare()
// runs the generators in input order, and the source comes first in both ops.
#include <memory>

#include "conformance/cases.h"
#include "conformance/gradient.h"
#include "core/ops_nn.h"
#include "kernels/attention.h"
#include "kernels/embedding.h"
#include "kernels/layernorm.h"

namespace tinyopt::conformance {

namespace {

using Values = std::vector<double>;
using Record = std::shared_ptr<Values>;

Generator uniform_int(int64_t lo, int64_t hi) {
  return [lo, hi](Values& values, std::mt19937_64& rng) {
    std::uniform_int_distribution<int64_t> dist(lo, hi);
    for (double& v : values) v = static_cast<double>(dist(rng));
  };
}

// uniform(lo, hi) rounded to f32, with a copy kept in `record`.
Generator recorded_uniform(Record record, double lo, double hi) {
  return [record, lo, hi](Values& values, std::mt19937_64& rng) {
    std::uniform_real_distribution<double> dist(lo, hi);
    for (double& v : values) v = static_cast<double>(static_cast<float>(dist(rng)));
    *record = values;
  };
}

Generator derived(Record record, std::function<void(const Values& source, Values& values)> fn) {
  return [record, fn](Values& values, std::mt19937_64&) { fn(*record, values); };
}

// ---- layernorm ---------------------------------------------------------------

OpCase layernorm_case(int64_t rows, int64_t d, bool with_stats, Generator x, const std::string& values,
                      float eps = 1e-5f) {
  OpCase c;
  c.op = "layernorm";
  c.label = fmt::format("rows={} d={} stats={} x={} eps={}", rows, d, int(with_stats), values, eps);
  c.op_object = &ops::layernorm;
  c.inputs = {{{rows, d}, DType::f32}, {{d}, DType::f32}, {{d}, DType::f32}};
  c.outputs = {{{rows, d}, DType::f32}};
  if (with_stats) c.outputs.insert(c.outputs.end(), {{{rows}, DType::f32}, {{rows}, DType::f32}});
  c.generators = {std::move(x), uniform(0.5, 1.5), uniform(-1, 1)};
  c.invoke = make_invoke(ops::layernorm, [with_stats, eps](std::vector<Tensor>& t) {
    return LayerNormArgs{t[0], t[1], t[2], t[3], with_stats ? t[4] : Tensor(), with_stats ? t[5] : Tensor(), eps};
  });
  c.reference = [=](const std::vector<Values>& in, std::vector<Values>& out) {
    kernels::layernorm_ref(in[0].data(), in[1].data(), in[2].data(), out[0].data(),
                           with_stats ? out[1].data() : nullptr, with_stats ? out[2].data() : nullptr, rows, d, eps);
  };
  c.max_nmse = 1e-11;
  c.cost = kernels::layernorm_cost(rows, d);
  return c;
}

OpCase layernorm_backward_case(int64_t rows, int64_t d, bool analytic) {
  const float eps = 1e-5f;
  OpCase c;
  c.op = "layernorm_backward";
  c.label = fmt::format("rows={} d={}{}", rows, d, analytic ? " ref=analytic" : "");
  c.op_object = &ops::layernorm_backward;
  // x, gamma, mean, rstd, dy
  c.inputs = {{{rows, d}, DType::f32}, {{d}, DType::f32}, {{rows}, DType::f32}, {{rows}, DType::f32},
              {{rows, d}, DType::f32}};
  c.outputs = {{{rows, d}, DType::f32}, {{d}, DType::f32}, {{d}, DType::f32}};  // dx, dgamma, dbeta
  auto x = std::make_shared<Values>();
  auto stats = [rows, d, eps](const Values& xs, Values& out, bool want_mean) {
    for (int64_t r = 0; r < rows; ++r) {
      double m = 0, var = 0;
      for (int64_t j = 0; j < d; ++j) m += xs[r * d + j];
      m /= double(d);
      for (int64_t j = 0; j < d; ++j) var += (xs[r * d + j] - m) * (xs[r * d + j] - m);
      out[r] = want_mean ? m : 1.0 / std::sqrt(var / double(d) + eps);
    }
  };
  c.generators = {recorded_uniform(x, -2, 2), uniform(0.5, 1.5),
                  derived(x, [stats](const Values& xs, Values& out) { stats(xs, out, true); }),
                  derived(x, [stats](const Values& xs, Values& out) { stats(xs, out, false); }), uniform(-1, 1)};
  c.invoke = make_invoke(ops::layernorm_backward, [](std::vector<Tensor>& t) {
    return LayerNormBackwardArgs{t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7]};
  });
  c.reference = [=](const std::vector<Values>& in, std::vector<Values>& out) {
    if (analytic) {
      kernels::layernorm_backward_ref(in[0].data(), in[1].data(), in[4].data(), out[0].data(), out[1].data(),
                                      out[2].data(), rows, d, eps);
      return;
    }
    // d/d(x, gamma, beta) of sum(layernorm(x, gamma, beta) * dy).
    const ForwardRef forward = [=](const std::vector<Values>& p, Values& y) {
      kernels::layernorm_ref(p[0].data(), p[1].data(), p[2].data(), y.data(), nullptr, nullptr, rows, d, eps);
    };
    const std::vector<Values> params = {in[0], in[1], Values(static_cast<size_t>(d), 0.0)};
    for (size_t i = 0; i < 3; ++i) out[i] = numeric_gradient(forward, params, in[4], i);
  };
  c.max_nmse = 1e-9;
  c.cost = kernels::layernorm_backward_cost(rows, d);
  return c;
}

// ---- embedding ---------------------------------------------------------------

OpCase embedding_case(const Shape& ids_shape, DType id_dtype, int64_t vocab, int64_t d) {
  const int64_t n = ids_shape.numel();
  OpCase c;
  c.op = "embedding";
  c.label = fmt::format("ids={}{} vocab={} d={}", dtype_name(id_dtype), ids_shape.str(), vocab, d);
  c.op_object = &ops::embedding;
  c.inputs = {{ids_shape, id_dtype}, {{vocab, d}, DType::f32}};
  c.outputs = {{{n, d}, DType::f32}};
  c.generators = {uniform_int(0, vocab - 1), uniform(-1, 1)};
  c.invoke = make_invoke(ops::embedding, [](std::vector<Tensor>& t) { return EmbeddingArgs{t[0], t[1], t[2]}; });
  c.reference = [n, d](const std::vector<Values>& in, std::vector<Values>& out) {
    kernels::embedding_ref(in[0].data(), in[1].data(), out[0].data(), n, d);
  };
  c.max_nmse = 0;  // a gather is exact
  c.cost = kernels::embedding_cost(n, d, dtype_size(id_dtype));
  return c;
}

// ids drawn from [0, vocab) with n > vocab repeat, so rows of dtable collect several updates.
OpCase embedding_backward_case(const Shape& ids_shape, DType id_dtype, int64_t vocab, int64_t d) {
  const int64_t n = ids_shape.numel();
  OpCase c;
  c.op = "embedding_backward";
  c.label = fmt::format("ids={}{} vocab={} d={}{}", dtype_name(id_dtype), ids_shape.str(), vocab, d,
                        n > vocab ? " repeats" : "");
  c.op_object = &ops::embedding_backward;
  c.inputs = {{ids_shape, id_dtype}, {{n, d}, DType::f32}};
  c.outputs = {{{vocab, d}, DType::f32}};
  c.generators = {uniform_int(0, vocab - 1), uniform(-1, 1)};
  c.invoke = make_invoke(ops::embedding_backward,
                         [](std::vector<Tensor>& t) { return EmbeddingBackwardArgs{t[0], t[1], t[2]}; });
  c.reference = [=](const std::vector<Values>& in, std::vector<Values>& out) {
    // d/d(table) of sum(embedding(ids, table) * dout); the table's values do not matter.
    const ForwardRef forward = [n, d](const std::vector<Values>& p, Values& y) {
      kernels::embedding_ref(p[0].data(), p[1].data(), y.data(), n, d);
    };
    out[0] = numeric_gradient(forward, {in[0], Values(static_cast<size_t>(vocab * d), 0.0)}, in[1], 1);
  };
  c.max_nmse = 1e-10;
  c.cost = kernels::embedding_backward_cost(n, vocab, d, dtype_size(id_dtype));
  return c;
}

// ---- attention ---------------------------------------------------------------

struct AttnShape {
  int64_t b, t, h, hd;
  int64_t c() const { return h * hd; }
};

OpCase attention_case(AttnShape s, bool with_probs) {
  OpCase c;
  c.op = "attention";
  c.label = fmt::format("B={} T={} H={} hd={} probs={}", s.b, s.t, s.h, s.hd, int(with_probs));
  c.op_object = &ops::attention;
  c.inputs = {{{s.b, s.t, 3 * s.c()}, DType::f32}};
  c.outputs = {{{s.b, s.t, s.c()}, DType::f32}};
  if (with_probs) c.outputs.push_back({{s.b, s.h, s.t, s.t}, DType::f32});
  c.generators = {uniform(-2, 2)};  // scores of a few units: softmaxes neither flat nor one-hot
  c.invoke = make_invoke(ops::attention, [s, with_probs](std::vector<Tensor>& t) {
    return AttentionArgs{t[0], t[1], with_probs ? t[2] : Tensor(), s.h};
  });
  c.reference = [s, with_probs](const std::vector<Values>& in, std::vector<Values>& out) {
    kernels::attention_ref(in[0].data(), out[0].data(), with_probs ? out[1].data() : nullptr, s.b, s.t, s.c(), s.h);
  };
  c.max_nmse = 1e-10;
  c.cost = kernels::attention_cost(s.b, s.t, s.c(), s.h, with_probs);
  return c;
}

OpCase attention_backward_case(AttnShape s, bool analytic) {
  OpCase c;
  c.op = "attention_backward";
  c.label = fmt::format("B={} T={} H={} hd={}{}", s.b, s.t, s.h, s.hd, analytic ? " ref=analytic" : "");
  c.op_object = &ops::attention_backward;
  c.inputs = {{{s.b, s.t, 3 * s.c()}, DType::f32}, {{s.b, s.h, s.t, s.t}, DType::f32}, {{s.b, s.t, s.c()}, DType::f32}};
  c.outputs = {{{s.b, s.t, 3 * s.c()}, DType::f32}};
  auto qkv = std::make_shared<Values>();
  c.generators = {recorded_uniform(qkv, -2, 2), derived(qkv, [s](const Values& src, Values& probs) {
                    Values out(static_cast<size_t>(s.b * s.t * s.c()));
                    kernels::attention_ref(src.data(), out.data(), probs.data(), s.b, s.t, s.c(), s.h);
                  }),
                  uniform(-1, 1)};
  c.invoke = make_invoke(ops::attention_backward, [s](std::vector<Tensor>& t) {
    return AttentionBackwardArgs{t[0], t[1], t[2], t[3], s.h};
  });
  c.reference = [s, analytic](const std::vector<Values>& in, std::vector<Values>& out) {
    if (analytic) {
      kernels::attention_backward_ref(in[0].data(), in[2].data(), out[0].data(), s.b, s.t, s.c(), s.h);
      return;
    }
    // d/d(qkv) of sum(attention(qkv) * dout); probs are a function of qkv, not an input of the math.
    const ForwardRef forward = [s](const std::vector<Values>& p, Values& y) {
      kernels::attention_ref(p[0].data(), y.data(), nullptr, s.b, s.t, s.c(), s.h);
    };
    out[0] = numeric_gradient(forward, {in[0]}, in[2], 0);
  };
  c.max_nmse = 1e-9;
  c.cost = kernels::attention_backward_cost(s.b, s.t, s.c(), s.h);
  return c;
}

}  // namespace

void add_transformer_cases(std::vector<OpCase>& cases) {
  // layernorm: rows 1, 7, 13, 127 against dims 1, 3, 7, 13, 64, 127, 129.
  struct Rd {
    int64_t rows, d;
  };
  const Rd ln_shapes[] = {{1, 1}, {7, 3}, {13, 7}, {127, 13}, {1, 64}, {13, 127}, {7, 129}, {127, 64}, {300, 129}};
  bool stats = true;
  for (const Rd& s : ln_shapes) {
    cases.push_back(layernorm_case(s.rows, s.d, stats, uniform(-2, 2), "U(-2,2)"));
    stats = !stats;
  }
  cases.push_back(layernorm_case(13, 129, true, uniform(-2, 2), "U(-2,2)", 0.5f));  // eps matters at var ~1
  // Stability: a 1e3 offset on unit-scale data (E[x^2] - E[x]^2 cancels to noise
  // there) and values of magnitude 1e4. Only y is compared, so an error in
  // the (large) mean cannot hide behind the norm.
  cases.push_back(layernorm_case(13, 129, false, uniform(1e3 - 1, 1e3 + 1), "1e3+U(-1,1)"));
  cases.push_back(layernorm_case(7, 64, false, uniform(-1e4, 1e4), "U(-1e4,1e4)"));
  cases.push_back(layernorm_case(127, 13, false, uniform(-1e4 - 1, -1e4 + 1), "-1e4+U(-1,1)"));

  const Rd lnb_shapes[] = {{1, 1}, {1, 7}, {7, 3}, {13, 7}, {7, 13}, {3, 64}, {1, 127}, {7, 129}};
  for (const Rd& s : lnb_shapes) cases.push_back(layernorm_backward_case(s.rows, s.d, false));
  cases.push_back(layernorm_backward_case(300, 129, true));  // threaded

  // embedding: both id dtypes, multi-dimensional ids, n > vocab (repeats).
  cases.push_back(embedding_case({1}, DType::i64, 1, 1));
  cases.push_back(embedding_case({7}, DType::i32, 13, 3));
  cases.push_back(embedding_case({13}, DType::i64, 7, 13));
  cases.push_back(embedding_case({2, 7}, DType::i32, 65, 64));
  cases.push_back(embedding_case({127}, DType::i64, 10, 129));
  cases.push_back(embedding_case({16, 256}, DType::i32, 65, 127));  // threaded

  cases.push_back(embedding_backward_case({1}, DType::i64, 1, 1));
  cases.push_back(embedding_backward_case({7}, DType::i32, 13, 3));
  cases.push_back(embedding_backward_case({13}, DType::i64, 3, 13));
  cases.push_back(embedding_backward_case({2, 7}, DType::i32, 5, 64));
  cases.push_back(embedding_backward_case({127}, DType::i64, 10, 129));
  cases.push_back(embedding_backward_case({300}, DType::i32, 17, 64));  // threaded (columns split), repeats
  cases.push_back(embedding_backward_case({13, 40}, DType::i64, 65, 33));  // ragged column split

  // attention forward, with and without the saved weights.
  const AttnShape fwd[] = {
      {1, 1, 1, 1},  {1, 7, 1, 4},  {2, 7, 2, 4},  {1, 13, 2, 13}, {2, 13, 4, 4},  {1, 64, 4, 32},
      {2, 64, 1, 1}, {1, 64, 2, 13}, {2, 13, 1, 32}, {1, 100, 2, 32}, {2, 37, 2, 33}, {1, 7, 2, 64},
      {1, 45, 1, 128}, {1, 5, 1, 129}, {2, 256, 4, 32},
  };
  bool probs = false;
  for (const AttnShape& s : fwd) {
    cases.push_back(attention_case(s, probs));
    probs = !probs;
  }
  // Both modes for the shapes that matter most: GPT's head and a chunk-straddling T.
  cases.push_back(attention_case({2, 64, 4, 32}, true));
  cases.push_back(attention_case({2, 100, 2, 32}, false));
  cases.push_back(attention_case({1, 13, 4, 4}, true));

  // attention backward (finite differences: keep qkv small).
  const AttnShape bwd[] = {
      {1, 1, 1, 1},  {1, 7, 1, 4},  {2, 7, 2, 4},  {1, 13, 2, 13}, {2, 13, 4, 4},
      {1, 13, 1, 32}, {1, 64, 2, 4}, {1, 37, 1, 13}, {1, 7, 1, 64},  {1, 5, 1, 128}, {1, 9, 2, 33},
  };
  for (const AttnShape& s : bwd) cases.push_back(attention_backward_case(s, false));
  cases.push_back(attention_backward_case({2, 64, 4, 32}, true));   // GPT's head, threaded
  cases.push_back(attention_backward_case({2, 100, 2, 16}, true));  // T not a multiple of the row block or chunk
}

}  // namespace tinyopt::conformance
