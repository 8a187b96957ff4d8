// Numerical guards: softmax, cross-entropy and layernorm stay accurate for
// huge inputs (+-1e30 rows, logits spread by 1e4 and beyond) on every CPU
// variant; NaN inputs propagate (only into their own row); a model with a NaN
// weight is reported by `tinyopt eval` and `tinyopt infer`, never hidden.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/dispatcher.h"
#include "core/ops_nn.h"
#include "io/npy.h"
#include "nn/model.h"
#include "nn/nonfinite.h"
#include "tests/test_io_util.h"

using namespace tinyopt;

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

Tensor rows_of(const std::vector<std::vector<float>>& rows) {
  const int64_t n = static_cast<int64_t>(rows.size()), d = static_cast<int64_t>(rows[0].size());
  Tensor t = Tensor::empty({n, d}, DType::f32);
  for (int64_t r = 0; r < n; ++r)
    for (int64_t j = 0; j < d; ++j) t.data<float>()[r * d + j] = rows[r][j];
  return t;
}

template <class Args>
std::vector<std::string> cpu_variants(const Op<Args>& op) {
  std::vector<std::string> names;
  OptimizedBackend::instance();
  for (const auto& v : op.variants())
    if (v.device == DeviceType::cpu) names.push_back(v.name);
  return names;
}

template <class Args>
void run(const Op<Args>& op, const std::string& variant, const Args& args) {
  for (const auto& v : op.variants())
    if (v.name == variant) return op.run_variant(v, args);
  FAIL() << "no variant " << variant;
}

// Stable float64 softmax of one row.
std::vector<double> softmax_ref(const std::vector<float>& x) {
  double m = -INFINITY, s = 0;
  for (float v : x) m = std::max(m, double(v));
  std::vector<double> y;
  for (float v : x) y.push_back(std::exp(double(v) - m));
  for (double v : y) s += v;
  for (double& v : y) v /= s;
  return y;
}

const std::vector<std::vector<float>> kHugeRows = {
    {1e30f, -1e30f, 0.0f, 5.0f, 1e30f, -3e38f, 3e38f},
    {1e4f, 1e4f - 1, 1e4f - 2, -1e4f, 0, 1, 2},
    {-1e30f, -1e30f + 1e24f, -1e30f, -1e30f, -1e30f, -1e30f, -1e30f},
    {3.0e38f, 3.0e38f, -3.0e38f, 0, 0, 0, 0},
    {88.8f, 100.0f, 1000.0f, -1000.0f, 0, 0, 0},
};

}  // namespace

TEST(NumericalGuards, SoftmaxIsAccurateForHugeLogitsOnEveryCpuVariant) {
  const auto variants = cpu_variants(ops::softmax);
  ASSERT_FALSE(variants.empty());
  for (const std::string& v : variants) {
    SCOPED_TRACE(v);
    const Tensor x = rows_of(kHugeRows);
    Tensor y = Tensor::empty(x.shape(), DType::f32);
    run(ops::softmax, v, SoftmaxArgs{x, y});
    for (size_t r = 0; r < kHugeRows.size(); ++r) {
      const auto want = softmax_ref(kHugeRows[r]);
      double sum = 0;
      for (size_t j = 0; j < want.size(); ++j) {
        const float got = y.data<float>()[r * want.size() + j];
        ASSERT_TRUE(std::isfinite(got)) << "row " << r << " col " << j;
        EXPECT_NEAR(got, want[j], 1e-6) << "row " << r << " col " << j;
        sum += got;
      }
      EXPECT_NEAR(sum, 1.0, 1e-5) << "row " << r;
    }
  }
}

TEST(NumericalGuards, SoftmaxPropagatesNaNOnlyIntoItsRow) {
  for (const std::string& v : cpu_variants(ops::softmax)) {
    SCOPED_TRACE(v);
    const Tensor x = rows_of({{1, 2, kNaN, 4}, {1, 2, 3, 4}});
    Tensor y = Tensor::empty(x.shape(), DType::f32);
    run(ops::softmax, v, SoftmaxArgs{x, y});
    bool row0_nan = false;
    for (int j = 0; j < 4; ++j) row0_nan |= std::isnan(y.data<float>()[j]);
    EXPECT_TRUE(row0_nan) << "a NaN logit vanished from its row's softmax";
    for (int j = 4; j < 8; ++j) EXPECT_TRUE(std::isfinite(y.data<float>()[j]));
  }
}

TEST(NumericalGuards, CrossEntropyOfHugeLogitsIsFiniteAndExact) {
  for (const std::string& v : cpu_variants(ops::cross_entropy)) {
    SCOPED_TRACE(v);
    const Tensor logits = rows_of({{1e30f, -1e30f, 0}, {1e30f, -1e30f, 0}, {1e4f, 0, -1e4f}});
    Tensor targets = Tensor::empty({3}, DType::i32);
    targets.data<int32_t>()[0] = 0;  // loss 0
    targets.data<int32_t>()[1] = 2;  // loss 1e30
    targets.data<int32_t>()[2] = 1;  // loss 1e4
    Tensor loss = Tensor::empty({1}, DType::f32), dlogits = Tensor::empty({3, 3}, DType::f32);
    run(ops::cross_entropy, v, CrossEntropyArgs{logits, targets, loss, dlogits});
    const double want = (0 + 1e30 + 1e4) / 3;
    EXPECT_TRUE(std::isfinite(loss.data<float>()[0]));
    EXPECT_NEAR(loss.data<float>()[0] / want, 1.0, 1e-6);
    for (int i = 0; i < 9; ++i) EXPECT_TRUE(std::isfinite(dlogits.data<float>()[i])) << i;
  }
}

TEST(NumericalGuards, LayerNormIsScaleInvariantUpTo1e30OnEveryCpuVariant) {
  const std::vector<float> base = {1.0f, -1.0f, 0.5f, 2.0f, -0.25f, 0.0f, 3.0f};
  const int64_t d = static_cast<int64_t>(base.size());
  for (const std::string& v : cpu_variants(ops::layernorm)) {
    SCOPED_TRACE(v);
    std::vector<std::vector<float>> rows;
    for (float scale : {1.0f, 1e10f, 1e20f, 1e30f, 1e37f, -1e30f}) {
      std::vector<float> r;
      for (float b : base) r.push_back(b * scale);
      rows.push_back(r);
    }
    const Tensor x = rows_of(rows);
    Tensor gamma = Tensor::empty({d}, DType::f32), beta = Tensor::empty({d}, DType::f32);
    for (int64_t j = 0; j < d; ++j) {
      gamma.data<float>()[j] = 1.0f + 0.1f * j;
      beta.data<float>()[j] = 0.01f * j;
    }
    Tensor y = Tensor::empty(x.shape(), DType::f32);
    Tensor mean = Tensor::empty({x.size(0)}, DType::f32), rstd = Tensor::empty({x.size(0)}, DType::f32);
    run(ops::layernorm, v, LayerNormArgs{x, gamma, beta, y, mean, rstd, 1e-5f});
    // Reference: the unscaled row (eps is negligible for every scale here).
    double m = 0, var = 0;
    for (float b : base) m += b;
    m /= d;
    for (float b : base) var += (b - m) * (b - m);
    const double rs = 1.0 / std::sqrt(var / d);
    for (size_t r = 0; r < rows.size(); ++r) {
      const double sign = rows[r][0] < 0 ? -1 : 1;
      for (int64_t j = 0; j < d; ++j) {
        const double want = sign * (base[j] - m) * rs * gamma.data<float>()[j] + beta.data<float>()[j];
        const float got = y.data<float>()[r * d + j];
        ASSERT_TRUE(std::isfinite(got)) << "row " << r << " col " << j;
        EXPECT_NEAR(got, want, 1e-4) << "row " << r << " (scale " << rows[r][0] << ") col " << j;
      }
      EXPECT_TRUE(std::isfinite(mean.data<float>()[r]));
      EXPECT_GT(rstd.data<float>()[r], 0.0f) << "row " << r;
    }
  }
}

TEST(NumericalGuards, LayerNormPropagatesNaNAndInf) {
  for (const std::string& v : cpu_variants(ops::layernorm)) {
    SCOPED_TRACE(v);
    const Tensor x = rows_of({{1, kNaN, 3, 4}, {1, INFINITY, 3, 4}, {1, 2, 3, 4}});
    Tensor gamma = Tensor::empty({4}, DType::f32), beta = Tensor::zeros({4}, DType::f32);
    for (int j = 0; j < 4; ++j) gamma.data<float>()[j] = 1;
    Tensor y = Tensor::empty(x.shape(), DType::f32);
    run(ops::layernorm, v, LayerNormArgs{x, gamma, beta, y, Tensor(), Tensor(), 1e-5f});
    for (int r = 0; r < 2; ++r) {
      bool nan = false;
      for (int j = 0; j < 4; ++j) nan |= std::isnan(y.data<float>()[r * 4 + j]);
      EXPECT_TRUE(nan) << "row " << r << ": a non-finite input vanished";
    }
    for (int j = 8; j < 12; ++j) EXPECT_TRUE(std::isfinite(y.data<float>()[j]));
  }
}

TEST(NumericalGuards, NonFiniteCountsAndDescription) {
  Tensor t = Tensor::zeros({5}, DType::f32);
  t.data<float>()[1] = kNaN;
  t.data<float>()[3] = -INFINITY;
  const nn::NonFiniteCount c = nn::count_nonfinite(t);
  EXPECT_EQ(c.nan, 1);
  EXPECT_EQ(c.inf, 1);
  EXPECT_EQ(nn::describe_nonfinite({{"a", Tensor::zeros({2}, DType::f32)}, {"b", t}}), "'b' (1 NaN, 1 Inf)");
  EXPECT_EQ(nn::describe_nonfinite({{"a", Tensor::zeros({2}, DType::f32)}}), "");
  EXPECT_FALSE(nn::count_nonfinite(Tensor::zeros({3}, DType::i32)).any());
}

TEST(NumericalGuards, CliReportsANaNWeightInsteadOfHidingIt) {
  test::ScratchDir dir;
  nn::Rng rng(5);
  nn::Model m = nn::build_model({{"arch", "sequential"},
                                 {"input_shape", {1, 28, 28}},
                                 {"layers",
                                  {{{"type", "flatten"}},
                                   {{"type", "linear"}, {"in_features", 784}, {"out_features", 10}}}}},
                                &rng);
  m.state_dict().at("1.weight").data<float>()[17] = kNaN;
  const std::string model = dir.file("nan.safetensors");
  nn::save_model(m, model);
  const std::string cli = TINYOPT_CLI_PATH, err = dir.file("err");
  EXPECT_NE(std::system((cli + " eval --model " + model + " > /dev/null 2> " + err).c_str()), 0);
  const std::string eval_err = test::read_bytes(err);
  EXPECT_NE(eval_err.find("'1.weight' (1 NaN, 0 Inf)"), std::string::npos) << eval_err;
  EXPECT_NE(eval_err.find("nan.safetensors"), std::string::npos) << eval_err;

  // infer writes what the model computes (NaN propagates) and warns.
  const std::string x = dir.file("x.npy"), y = dir.file("y.npy");
  save_npy(x, Tensor::zeros({2, 1, 28, 28}, DType::f32));
  ASSERT_EQ(std::system((cli + " infer --model " + model + " --input " + x + " --output " + y + " > /dev/null 2> " + err)
                            .c_str()),
            0);
  EXPECT_NE(test::read_bytes(err).find("2 of 20 outputs are not finite (2 NaN, 0 Inf)"), std::string::npos)
      << test::read_bytes(err);
  EXPECT_EQ(nn::count_nonfinite(load_npy(y)).nan, 2);
}
