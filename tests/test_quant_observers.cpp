// quant/ observers and parameter formulas: hand-computed PyTorch values, the
// properties every choice must keep (0 exactly representable, zero point in
// range), constant and non-finite calibration data, and weight quantization.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "quant/histogram_observer.h"
#include "quant/minmax_observer.h"
#include "quant/moving_average_observer.h"
#include "quant/observer_factory.h"
#include "quant/percentile_observer.h"
#include "quant/qparams.h"
#include "quant/weight_quantization.h"
#include "tests/test_io_util.h"

using namespace tinyopt;
using namespace tinyopt::quant;

namespace {

Tensor tensor_of(const std::vector<float>& v) {
  Tensor t = Tensor::empty({static_cast<int64_t>(v.size())}, DType::f32);
  std::copy(v.begin(), v.end(), t.data<float>());
  return t;
}

Tensor gaussian(int64_t n, uint64_t seed, float outlier = 0) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> d(0.f, 1.f);
  Tensor t = Tensor::empty({n}, DType::f32);
  for (int64_t i = 0; i < n; ++i) t.data<float>()[i] = d(rng);
  if (outlier != 0) t.data<float>()[n / 2] = outlier;
  return t;
}

void expect_zero_exact(QParams p) {
  EXPECT_GE(p.zero_point, 0);
  EXPECT_LE(p.zero_point, 255);
  EXPECT_EQ(dequantize_u8(quantize_u8(0.0f, p), p), 0.0f);
}

}  // namespace

TEST(QuantParams, AffineMatchesPyTorchHandComputed) {
  // torch.ao.quantization.MinMaxObserver on [-1, 3]: scale 4/255, zero point 0 - round(-1 / (4/255)) = 64 (63.75).
  const QParams p = affine_u8_qparams(-1.0, 3.0, "t");
  EXPECT_FLOAT_EQ(p.scale, 4.0f / 255.0f);
  EXPECT_EQ(p.zero_point, 64);
  // A positive-only range is widened to include 0: [0.5, 2] -> [0, 2], zero point 0.
  const QParams q = affine_u8_qparams(0.5, 2.0, "t");
  EXPECT_FLOAT_EQ(q.scale, 2.0f / 255.0f);
  EXPECT_EQ(q.zero_point, 0);
  // Negative-only: [-2, -1] -> [-2, 0], zero point 255.
  const QParams r = affine_u8_qparams(-2.0, -1.0, "t");
  EXPECT_FLOAT_EQ(r.scale, 2.0f / 255.0f);
  EXPECT_EQ(r.zero_point, 255);
  for (const QParams x : {p, q, r}) expect_zero_exact(x);
  // Pixels /255 with range [0, 1] quantize back to the exact pixel value.
  const QParams pix = affine_u8_qparams(0.0, 1.0, "t");
  for (int v = 0; v < 256; ++v) EXPECT_EQ(quantize_u8(static_cast<float>(v) / 255.0f, pix), v);
}

TEST(QuantParams, ZeroRangeGetsDocumentedSafeScaleAndBadRangesThrow) {
  const QParams p = affine_u8_qparams(0.0, 0.0, "layer 2 (relu) output");
  EXPECT_EQ(p.scale, 1.0f);
  EXPECT_EQ(p.zero_point, 0);
  test::expect_error([] { affine_u8_qparams(0.0, NAN, "layer 2 (relu) output"); }, {"layer 2 (relu) output", "finite"});
  test::expect_error([] { affine_u8_qparams(1.0, -1.0, "x"); }, {"x", "empty"});
  test::expect_error([] { check_qparams({0.0f, 0}, "3.input_scale"); }, {"3.input_scale", "positive"});
  test::expect_error([] { check_qparams({1.0f, 256}, "3.input_zero_point"); }, {"3.input_zero_point", "[0, 255]"});
}

TEST(QuantParams, QuantizeRoundsHalfToEvenAndClamps) {
  const QParams p{1.0f, 10};
  EXPECT_EQ(quantize_u8(0.5f, p), 10);   // 0.5 -> 0 (even)
  EXPECT_EQ(quantize_u8(1.5f, p), 12);   // 1.5 -> 2
  EXPECT_EQ(quantize_u8(-100.f, p), 0);
  EXPECT_EQ(quantize_u8(1000.f, p), 255);
}

TEST(Observers, MinMaxAndMovingAverageFollowPyTorch) {
  MinMaxObserver mm("a");
  mm.observe(tensor_of({0.f, 1.f, 2.f}));
  mm.observe(tensor_of({-1.f, 0.5f}));
  EXPECT_EQ(mm.range(), std::make_pair(-1.0, 2.0));
  EXPECT_EQ(mm.observed_values(), 5);
  MovingAverageMinMaxObserver mv("b", 0.01);
  mv.observe(tensor_of({0.f, 1.f, 2.f}));
  mv.observe(tensor_of({-1.f, 4.f}));
  // first batch [0, 2]; then min 0 + 0.01 * (-1 - 0) = -0.01, max 2 + 0.01 * (4 - 2) = 2.02
  EXPECT_NEAR(mv.range().first, -0.01, 1e-12);
  EXPECT_NEAR(mv.range().second, 2.02, 1e-12);
}

TEST(Observers, NonFiniteCalibrationDataNamesTheLayer) {
  for (const std::string& name : observer_names()) {
    ObserverPtr o = make_observer(name, "layer 4 (linear) output");
    test::expect_error([&] { o->observe(tensor_of({1.f, NAN})); }, {"layer 4 (linear) output", "non-finite", "nan"});
    test::expect_error([&] { o->observe(tensor_of({INFINITY})); }, {"layer 4 (linear) output", "inf"});
  }
  test::expect_error([] { make_observer("kl", "x"); }, {"unknown observer 'kl'", "minmax"});
}

TEST(Observers, NoDataIsAnErrorAndConstantTensorIsSafe) {
  for (const std::string& name : observer_names()) {
    ObserverPtr o = make_observer(name, "model input");
    test::expect_error([&] { o->qparams(); }, {"model input", "no data"});
    for (int pass = 0; pass < o->passes(); ++pass) o->observe(tensor_of(std::vector<float>(64, 0.0f)), pass);
    const QParams p = o->qparams();
    EXPECT_EQ(p.scale, 1.0f) << name;
    EXPECT_EQ(p.zero_point, 0) << name;
    // A constant non-zero tensor: the range includes 0 and the constant, which must be representable to 1 LSB.
    ObserverPtr c = make_observer(name, "c");
    for (int pass = 0; pass < c->passes(); ++pass) c->observe(tensor_of(std::vector<float>(64, 3.0f)), pass);
    const QParams q = c->qparams();
    EXPECT_NEAR(dequantize_u8(quantize_u8(3.0f, q), q), 3.0f, q.scale) << name;
    expect_zero_exact(q);
  }
}

TEST(Observers, PercentileAndHistogramClipOutliersMinMaxDoesNot) {
  const Tensor x = gaussian(200000, 3, 60.0f);  // one huge outlier
  std::map<std::string, std::pair<double, double>> ranges;
  for (const std::string& name : observer_names()) {
    ObserverPtr o = make_observer(name, name);
    for (int pass = 0; pass < o->passes(); ++pass) o->observe(x, pass);
    ranges[name] = o->range();
    expect_zero_exact(o->qparams());
  }
  EXPECT_FLOAT_EQ(ranges["minmax"].second, 60.0f);
  // 99.99th percentile of a standard normal is ~3.72.
  EXPECT_NEAR(ranges["percentile"].second, 3.72, 0.25);
  EXPECT_NEAR(ranges["percentile"].first, -3.72, 0.25);
  // Entropy clips the lone outlier but not into the bulk of the data.
  EXPECT_LT(ranges["entropy"].second, 20.0);
  EXPECT_GT(ranges["entropy"].second, 2.0);
  EXPECT_LT(ranges["entropy"].first, -2.0);
  // MSE trades clipping against resolution: whatever it picks is no worse than the full range.
  Histogram h(ranges["minmax"].first, ranges["minmax"].second, 2048);
  h.add(x.data<float>(), x.numel());
  const auto bin = [&](double v) { return static_cast<int>(std::lround((v - h.lo()) / h.bin_width())); };
  EXPECT_LE(mse_error(h, bin(ranges["mse"].first), bin(ranges["mse"].second)), mse_error(h, 0, 2048));
}

TEST(Observers, HistogramErrorsPreferTheRightWindow) {
  // Uniform data on [0, 1]: clipping only adds error, so the full window wins.
  Histogram h(0.0, 1.0, 2048);
  std::vector<float> v(100000);
  for (size_t i = 0; i < v.size(); ++i) v[i] = (static_cast<float>(i) + 0.5f) / static_cast<float>(v.size());
  h.add(v.data(), static_cast<int64_t>(v.size()));
  EXPECT_LT(mse_error(h, 0, 2048), mse_error(h, 0, 1024));
  EXPECT_LT(entropy_error(h, 0, 2048), entropy_error(h, 0, 512));
  EXPECT_NEAR(h.percentile(50), 0.5, 1e-3);
}

TEST(WeightQuantization, SymmetricPerChannelWithinOneStep) {
  Tensor w = Tensor::empty({3, 4}, DType::f32);
  const float vals[12] = {0.5f, -1.27f, 0.f, 0.01f,  // absmax 1.27 -> scale 0.01
                          0.f, 0.f, 0.f, 0.f,       // zero row -> scale 1
                          2.54f, -2.54f, 1.27f, 0.f};
  std::copy(vals, vals + 12, w.data<float>());
  const QuantizedWeights q = quantize_weights(w, "0.weight");
  EXPECT_FLOAT_EQ(q.scale.data<float>()[0], 0.01f);
  EXPECT_EQ(q.scale.data<float>()[1], 1.0f);
  EXPECT_FLOAT_EQ(q.scale.data<float>()[2], 0.02f);
  const int8_t* d = q.q.data<int8_t>();
  EXPECT_EQ(d[0], 50);
  EXPECT_EQ(d[1], -127);
  EXPECT_EQ(d[8], 127);
  EXPECT_EQ(d[9], -127);
  EXPECT_NEAR(d[10], 63.5, 0.5);  // 1.27 / 0.02, on the rounding boundary
  for (int i = 0; i < 12; ++i) EXPECT_GE(d[i], -127);
  const Tensor back = dequantize_weights(q);
  for (int i = 0; i < 12; ++i) EXPECT_NEAR(back.data<float>()[i], vals[i], 0.5f * q.scale.data<float>()[i / 4] + 1e-6);
  w.data<float>()[5] = NAN;
  test::expect_error([&] { quantize_weights(w, "3.weight"); }, {"3.weight", "non-finite"});
}

TEST(WeightQuantization, BiasAtAccumulatorScaleAndClamped) {
  Tensor ws = Tensor::empty({2}, DType::f32);
  ws.data<float>()[0] = 0.01f;
  ws.data<float>()[1] = 1e-9f;
  Tensor b = Tensor::empty({2}, DType::f32);
  b.data<float>()[0] = 0.3f;
  b.data<float>()[1] = 1e6f;
  int64_t clamped = 0;
  const Tensor q = quantize_bias(b, 0.5f, ws, "0.bias", &clamped);
  EXPECT_EQ(q.data<int32_t>()[0], 60);  // 0.3 / (0.5 * 0.01)
  EXPECT_EQ(q.data<int32_t>()[1], 1 << 30);
  EXPECT_EQ(clamped, 1);
}
