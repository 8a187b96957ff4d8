// Transformer ops beyond what the conformance table checks: bad indices
// become tinyopt::Error with a useful message, the scatter-adds and column sums
// are bit-identical across thread counts, and the closed-form float64
// backward references (used by the table's large cases) agree with finite
// differences of the forward references.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <random>
#include <string>

#include "conformance/gradient.h"
#include "core/ops_nn.h"
#include "core/threads.h"
#include "kernels/activations.h"
#include "kernels/attention.h"
#include "kernels/layernorm.h"
#include "kernels/softmax.h"

using namespace tinyopt;

namespace {

Tensor random_f32(const Shape& shape, uint64_t seed, float lo = -1, float hi = 1) {
  Tensor t = Tensor::empty(shape, DType::f32);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = dist(rng);
  return t;
}

template <class T>
Tensor indices(std::initializer_list<T> values) {
  Tensor t = Tensor::empty({static_cast<int64_t>(values.size())}, dtype_of<T>::value);
  std::copy(values.begin(), values.end(), t.data<T>());
  return t;
}

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

bool same_bits(const Tensor& a, const Tensor& b) { return std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()) == 0; }

// Restores the thread count a test changed.
struct ThreadsGuard {
  int saved = num_threads();
  ~ThreadsGuard() { set_num_threads(saved); }
};

TEST(CrossEntropy, TargetOutOfRangeNamesRowAndValue) {
  const Tensor logits = random_f32({4, 10}, 1);
  const Tensor loss = Tensor::empty({1}, DType::f32);
  std::string what = error_of([&] { ops::cross_entropy({logits, indices<int32_t>({0, 9, 10, 3}), loss, Tensor()}); });
  EXPECT_NE(what.find("target 10 at row 2"), std::string::npos) << what;
  EXPECT_NE(what.find("[0, 10)"), std::string::npos) << what;
  what = error_of([&] { ops::cross_entropy({logits, indices<int64_t>({0, 1, 2, -1}), loss, Tensor()}); });
  EXPECT_NE(what.find("target -1 at row 3"), std::string::npos) << what;
}

TEST(CrossEntropy, LossMatchesReferenceForBothTargetTypes) {
  const Tensor logits = random_f32({5, 7}, 2, -3, 3);
  std::vector<double> x(logits.data<float>(), logits.data<float>() + logits.numel());
  const std::vector<double> t = {0, 6, 3, 3, 1};
  const double want = kernels::cross_entropy_ref(x.data(), t.data(), 5, 7);
  for (const Tensor& targets : {indices<int32_t>({0, 6, 3, 3, 1}), indices<int64_t>({0, 6, 3, 3, 1})}) {
    Tensor loss = Tensor::empty({1}, DType::f32);
    ops::cross_entropy({logits, targets, loss, Tensor()});
    EXPECT_NEAR(loss.data<float>()[0], want, 1e-5 * want);
  }
}

TEST(Embedding, IdOutOfRangeNamesIndexAndVocabulary) {
  const Tensor table = random_f32({5, 3}, 3);
  std::string what = error_of([&] {
    ops::embedding({indices<int64_t>({1, 4, 5}), table, Tensor::empty({3, 3}, DType::f32)});
  });
  EXPECT_NE(what.find("id 5 at index 2"), std::string::npos) << what;
  EXPECT_NE(what.find("vocabulary of 5 rows"), std::string::npos) << what;
  what = error_of([&] {
    ops::embedding_backward({indices<int32_t>({-2, 0}), random_f32({2, 3}, 4), Tensor::empty({5, 3}, DType::f32)});
  });
  EXPECT_NE(what.find("id -2 at index 0"), std::string::npos) << what;
}

TEST(Embedding, BackwardIsBitIdenticalAcrossThreadCounts) {
  ThreadsGuard guard;
  // 4096 ids over a vocabulary of 7: every row of dtable collects ~600 updates.
  Tensor ids = Tensor::empty({4096}, DType::i32);
  for (int64_t i = 0; i < ids.numel(); ++i) ids.data<int32_t>()[i] = static_cast<int32_t>((i * 5 + i / 3) % 7);
  const Tensor dout = random_f32({4096, 128}, 5);
  Tensor one = Tensor::empty({7, 128}, DType::f32), two = Tensor::empty({7, 128}, DType::f32);
  set_num_threads(1);
  ops::embedding_backward({ids, dout, one});
  set_num_threads(2);
  ops::embedding_backward({ids, dout, two});
  EXPECT_TRUE(same_bits(one, two));
}

TEST(LayerNorm, BackwardParamsAreBitIdenticalAcrossThreadCounts) {
  ThreadsGuard guard;
  const int64_t rows = 512, d = 128;
  const Tensor x = random_f32({rows, d}, 6), gamma = random_f32({d}, 7), beta = random_f32({d}, 8);
  const Tensor dy = random_f32({rows, d}, 9);
  Tensor y = Tensor::empty({rows, d}, DType::f32), mean = Tensor::empty({rows}, DType::f32),
         rstd = Tensor::empty({rows}, DType::f32);
  ops::layernorm({x, gamma, beta, y, mean, rstd, 1e-5f});
  Tensor results[2][3];
  for (int threads = 1; threads <= 2; ++threads) {
    set_num_threads(threads);
    Tensor* r = results[threads - 1];
    r[0] = Tensor::empty({rows, d}, DType::f32);
    r[1] = Tensor::empty({d}, DType::f32);
    r[2] = Tensor::empty({d}, DType::f32);
    ops::layernorm_backward({x, gamma, mean, rstd, dy, r[0], r[1], r[2]});
  }
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(same_bits(results[0][i], results[1][i])) << "output " << i;
}

TEST(Attention, ProbsAreCausalAndSumToOne) {
  const int64_t B = 2, T = 77, C = 64, H = 2;
  const Tensor qkv = random_f32({B, T, 3 * C}, 10, -2, 2);
  Tensor out = Tensor::empty({B, T, C}, DType::f32), probs = Tensor::empty({B, H, T, T}, DType::f32);
  ops::attention({qkv, out, probs, H});
  for (int64_t row = 0; row < B * H * T; ++row) {
    const int64_t t = row % T;
    const float* p = probs.data<float>() + row * T;
    double sum = 0;
    for (int64_t j = 0; j < T; ++j) {
      if (j > t) {
        ASSERT_EQ(p[j], 0.0f) << "row " << row << " key " << j;
      }
      sum += p[j];
    }
    ASSERT_NEAR(sum, 1.0, 1e-5) << "row " << row;
  }
}

// ---- the closed-form references agree with finite differences -----------------

double max_abs_diff(const std::vector<double>& a, const std::vector<double>& b) {
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(a[i] - b[i]));
  return m;
}

std::vector<double> random_doubles(size_t n, uint64_t seed, double lo = -1, double hi = 1) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> dist(lo, hi);
  std::vector<double> v(n);
  for (double& x : v) x = dist(rng);
  return v;
}

TEST(AnalyticReferences, AttentionBackwardMatchesFiniteDifferences) {
  const int64_t B = 2, T = 9, C = 12, H = 3;
  const auto qkv = random_doubles(B * T * 3 * C, 11, -2, 2);
  const auto dout = random_doubles(B * T * C, 12);
  std::vector<double> analytic(qkv.size());
  kernels::attention_backward_ref(qkv.data(), dout.data(), analytic.data(), B, T, C, H);
  const auto numeric = conformance::numeric_gradient(
      [&](const std::vector<std::vector<double>>& in, std::vector<double>& out) {
        kernels::attention_ref(in[0].data(), out.data(), nullptr, B, T, C, H);
      },
      {qkv}, dout, 0);
  EXPECT_LT(max_abs_diff(analytic, numeric), 1e-7);
}

TEST(AnalyticReferences, LayerNormBackwardMatchesFiniteDifferences) {
  const int64_t rows = 5, d = 11;
  const double eps = 1e-5;
  const auto x = random_doubles(rows * d, 13, -2, 2), gamma = random_doubles(d, 14, 0.5, 1.5);
  const auto dy = random_doubles(rows * d, 15);
  std::vector<double> dx(x.size()), dgamma(d), dbeta(d);
  kernels::layernorm_backward_ref(x.data(), gamma.data(), dy.data(), dx.data(), dgamma.data(), dbeta.data(), rows, d,
                                  eps);
  const conformance::ForwardRef fwd = [&](const std::vector<std::vector<double>>& in, std::vector<double>& out) {
    kernels::layernorm_ref(in[0].data(), in[1].data(), in[2].data(), out.data(), nullptr, nullptr, rows, d, eps);
  };
  const std::vector<std::vector<double>> params = {x, gamma, std::vector<double>(d, 0.0)};
  EXPECT_LT(max_abs_diff(dx, conformance::numeric_gradient(fwd, params, dy, 0)), 1e-7);
  EXPECT_LT(max_abs_diff(dgamma, conformance::numeric_gradient(fwd, params, dy, 1)), 1e-7);
  EXPECT_LT(max_abs_diff(dbeta, conformance::numeric_gradient(fwd, params, dy, 2)), 1e-7);
}

TEST(AnalyticReferences, GeluAndCrossEntropyGradientsMatchFiniteDifferences) {
  const auto x = random_doubles(50, 16, -6, 6), dy = random_doubles(50, 17);
  std::vector<double> dx(50);
  kernels::gelu_backward_ref(x.data(), dy.data(), dx.data(), 50);
  const auto numeric = conformance::numeric_gradient(
      [](const std::vector<std::vector<double>>& in, std::vector<double>& out) {
        kernels::gelu_ref(in[0].data(), out.data(), 50);
      },
      {x}, dy, 0);
  EXPECT_LT(max_abs_diff(dx, numeric), 1e-8);

  const int64_t n = 4, k = 6;
  const auto logits = random_doubles(n * k, 18, -3, 3);
  const std::vector<double> targets = {5, 0, 2, 2};
  std::vector<double> dlogits(n * k);
  kernels::cross_entropy_ref(logits.data(), targets.data(), n, k, dlogits.data());
  const auto numeric_ce = conformance::numeric_gradient(
      [&](const std::vector<std::vector<double>>& in, std::vector<double>& out) {
        out[0] = kernels::cross_entropy_ref(in[0].data(), in[1].data(), n, k);
      },
      {logits, targets}, {1.0}, 0);
  EXPECT_LT(max_abs_diff(dlogits, numeric_ce), 1e-8);
}

// The f32 GELU (fast erf) against the float64 definition over the range where
// activations live, and its tails: relative error, not just absolute.
TEST(Gelu, FastErfIsAccurateIncludingTails) {
  std::vector<float> xs;
  for (double x = -12; x <= 12; x += 1.0 / 1024) xs.push_back(static_cast<float>(x));
  Tensor in = Tensor::empty({static_cast<int64_t>(xs.size())}, DType::f32);
  std::copy(xs.begin(), xs.end(), in.data<float>());
  Tensor out = Tensor::empty(in.shape(), DType::f32);
  ops::gelu({in, out});
  double worst = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    const double want = kernels::gelu_ref_scalar(xs[i]);
    if (std::abs(want) < 1e-30) continue;  // below f32's normal range
    worst = std::max(worst, std::abs(out.data<float>()[i] - want) / std::abs(want));
  }
  EXPECT_LT(worst, 2e-5);
}

}  // namespace
