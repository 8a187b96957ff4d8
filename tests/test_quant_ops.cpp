// INT8 ops beyond the conformance table: the fixed-point arithmetic of
// kernels/quant.h against exact rational arithmetic, and the argument
// checks (each error names the tensor and what was expected).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>

#include "core/error.h"
#include "core/ops_quant.h"
#include "kernels/quant.h"

using namespace tinyopt;
namespace k = tinyopt::kernels;

namespace {

TEST(QuantArithmetic, QuantizeMultiplierNormalisesAndRoundTrips) {
  int32_t m = 0, s = 0;
  k::quantize_multiplier(0.5, m, s);
  EXPECT_EQ(m, 1 << 30);
  EXPECT_EQ(s, 0);
  k::quantize_multiplier(1.0, m, s);  // 1.0 = 0.5 * 2^1: a left shift
  EXPECT_EQ(m, 1 << 30);
  EXPECT_EQ(s, -1);
  k::quantize_multiplier(0.0, m, s);
  EXPECT_EQ(m, 0);
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> log2_real(-31, 8);
  for (int i = 0; i < 2000; ++i) {
    const double real = std::exp2(log2_real(rng));
    k::quantize_multiplier(real, m, s);
    ASSERT_GE(m, 1 << 30);
    ASSERT_LE(int64_t{m}, (int64_t{1} << 31) - 1);
    // Q31 keeps 31 significant bits: relative error at most 2^-31.
    ASSERT_LE(std::fabs(k::requant_real(m, s) - real) / real, std::ldexp(1.0, -30)) << real;
  }
}

TEST(QuantArithmetic, RoundingIsHalfAwayFromZero) {
  EXPECT_EQ(k::rounding_right_shift(5, 1), 3);
  EXPECT_EQ(k::rounding_right_shift(-5, 1), -3);
  EXPECT_EQ(k::rounding_right_shift(4, 1), 2);
  EXPECT_EQ(k::rounding_right_shift(-7, 2), -2);  // -1.75
  EXPECT_EQ(k::rounding_right_shift(-6, 2), -2);  // -1.5 rounds away
  EXPECT_EQ(k::rounding_right_shift(-5, 2), -1);  // -1.25
  EXPECT_EQ(k::rounding_doubling_high_mul(INT32_MIN, INT32_MIN), INT32_MAX);  // the one overflow saturates
  EXPECT_EQ(k::rounding_doubling_high_mul(3, 1 << 30), 2);    // 1.5 -> 2
  // gemmlowp's nudge makes exact ties of the high multiply round toward +inf.
  EXPECT_EQ(k::rounding_doubling_high_mul(-3, 1 << 30), -1);  // -1.5 -> -1
  EXPECT_EQ(k::rounding_doubling_high_mul(-5, 1 << 29), -1);  // -1.25 -> -1
  EXPECT_EQ(k::rounding_doubling_high_mul(-7, 1 << 29), -2);  // -1.75 -> -2
}

// The integer requantization is within 1 of the exact rounding for random
// accumulators and multipliers, and equal to it in the vast majority of cases.
TEST(QuantArithmetic, RequantizeTracksExactRounding) {
  std::mt19937_64 rng(11);
  std::uniform_int_distribution<int32_t> acc_dist(-(1 << 24), 1 << 24), zp_dist(0, 255);
  std::uniform_real_distribution<double> log2_real(-24, 2);
  int exact = 0;
  const int trials = 100000;
  for (int i = 0; i < trials; ++i) {
    const double real = std::exp2(log2_real(rng));
    int32_t m = 0, s = 0;
    k::quantize_multiplier(real, m, s);
    const int32_t acc = acc_dist(rng), zp = zp_dist(rng);
    const bool relu = (i & 1) != 0;
    const int32_t got = k::requantize(acc, m, s, zp, relu ? zp : 0, 255);
    const double want = k::requantize_ref(acc, k::requant_real(m, s), zp, relu);
    ASSERT_LE(std::fabs(got - want), 1.0) << "acc " << acc << " real " << real;
    exact += got == want;
  }
  EXPECT_GT(exact, trials * 99 / 100);
}

TEST(QuantArithmetic, ReluClampsAtTheZeroPoint) {
  int32_t m = 0, s = 0;
  k::quantize_multiplier(0.01, m, s);
  EXPECT_EQ(k::requantize(-1000, m, s, 100, 100, 255), 100);  // real -10 -> clamped to real 0
  EXPECT_EQ(k::requantize(-1000, m, s, 100, 0, 255), 90);
  EXPECT_EQ(k::requantize(1000000, m, s, 100, 0, 255), 255);
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

TEST(QuantOps, ArgumentErrorsNameTheTensor) {
  Tensor a = Tensor::zeros({2, 3}, DType::u8), w = Tensor::zeros({4, 3}, DType::i8);
  Tensor y = Tensor::zeros({2, 4}, DType::u8);
  QGemmArgs args{a, w, Tensor(), y, 0, {}};
  // u8 output without multiplier/shift.
  EXPECT_NE(error_of([&] { ops::qgemm(args); }).find("out.multiplier"), std::string::npos);
  args.out.multiplier = Tensor::zeros({4}, DType::i32);
  args.out.shift = Tensor::zeros({4}, DType::i32);
  args.a_zero = 256;
  EXPECT_NE(error_of([&] { ops::qgemm(args); }).find("a_zero"), std::string::npos);
  args.a_zero = 0;
  args.w = Tensor::zeros({4, 3}, DType::u8);
  EXPECT_NE(error_of([&] { ops::qgemm(args); }).find("'w' must be i8"), std::string::npos);
  args.w = Tensor::zeros({4, 5}, DType::i8);
  EXPECT_NE(error_of([&] { ops::qgemm(args); }).find("K=5"), std::string::npos);
  args.w = w;
  args.out.shift.data<int32_t>()[2] = 99;
  EXPECT_NE(error_of([&] { ops::qgemm(args); }).find("out.shift[2]"), std::string::npos);
  args.out.shift.data<int32_t>()[2] = 0;
  args.bias = Tensor::zeros({4}, DType::f32);
  EXPECT_NE(error_of([&] { ops::qgemm(args); }).find("'bias' must be i32"), std::string::npos);
  args.bias = Tensor();
  EXPECT_EQ(error_of([&] { ops::qgemm(args); }), "");
  // i32 output with a fused ReLU is rejected; f32 output needs its scale.
  QGemmArgs raw{a, w, Tensor(), Tensor::zeros({2, 4}, DType::i32), 0, {}};
  raw.out.relu = true;
  EXPECT_NE(error_of([&] { ops::qgemm(raw); }).find("ReLU"), std::string::npos);
  QGemmArgs logits{a, w, Tensor(), Tensor::zeros({2, 4}, DType::f32), 0, {}};
  EXPECT_NE(error_of([&] { ops::qgemm(logits); }).find("out.scale"), std::string::npos);

  QuantizeArgs q{Tensor::zeros({3}, DType::f32), Tensor::zeros({3}, DType::u8), 0.0f, 0};
  EXPECT_NE(error_of([&] { ops::quantize(q); }).find("scale"), std::string::npos);
  q.scale = NAN;
  EXPECT_NE(error_of([&] { ops::quantize(q); }).find("scale"), std::string::npos);
  DequantizeArgs dq{Tensor::zeros({3}, DType::u8), Tensor::zeros({4}, DType::f32), 1.0f, 0};
  EXPECT_NE(error_of([&] { ops::dequantize(dq); }).find("'y' must have shape"), std::string::npos);

  Tensor x = Tensor::zeros({1, 2, 5, 5}, DType::u8);
  QConv2dArgs conv{x, Tensor::zeros({3, 2, 3, 3}, DType::i8), Tensor(), Tensor::zeros({1, 3, 4, 4}, DType::i32), {}, 0, {}};
  EXPECT_NE(error_of([&] { ops::qconv2d(conv); }).find("'y' must have shape [1, 3, 3, 3]"), std::string::npos);
  MaxPool2dArgs pool{x, Tensor::zeros({1, 2, 2, 2}, DType::f32), Tensor(), 2, 2, 0};
  EXPECT_NE(error_of([&] { ops::maxpool2d(pool); }).find("'y' must be u8"), std::string::npos);
}

// A quantize -> dequantize round trip lands within half a step of the input.
TEST(QuantOps, QuantizeDequantizeRoundTrip) {
  Tensor x = Tensor::empty({1000}, DType::f32);
  for (int i = 0; i < 1000; ++i) x.data<float>()[i] = -1.0f + 2.0f * i / 999.0f;
  const float scale = 2.0f / 255.0f;
  const int32_t zp = 128;
  Tensor q = Tensor::empty({1000}, DType::u8), back = Tensor::empty({1000}, DType::f32);
  ops::quantize(QuantizeArgs{x, q, scale, zp});
  ops::dequantize(DequantizeArgs{q, back, scale, zp});
  for (int i = 0; i < 1000; ++i) {
    const float v = x.data<float>()[i];
    if (v / scale + zp > 255.0f) continue;  // above the representable range (clamped)
    ASSERT_LE(std::fabs(back.data<float>()[i] - v), scale * 0.5f + 1e-6f) << v;
  }
}

}  // namespace
