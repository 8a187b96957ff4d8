// cpu.blocked int8 kernels on every instruction path this machine has: the
// conformance table runs them on the best one (AVX-512 VNNI here); this test
// forces the AVX2 path (vpmaddwd on widened operands, the fix for
// vpmaddubsw's 16-bit saturation) through the very same qgemm/qconv2d cases,
// including ones whose inputs maximise the pair sums that would saturate.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "core/cpu_info.h"
#include "backends/cpu/qgemm_blocked.h"
#include "backends/cpu/weight_cache.h"
#include "conformance/quant_cases.h"
#include "core/dispatcher.h"
#include "core/ops_quant.h"

using namespace tinyopt;
using namespace tinyopt::conformance;

namespace {

struct ForcedIsa {
  explicit ForcedIsa(cpu::QGemmIsa isa) { cpu::qgemm_blocked_force_isa(isa); }
  ~ForcedIsa() { cpu::qgemm_blocked_force_isa(cpu::QGemmIsa::automatic); }
};

VariantInfo blocked_variant(const OpCase& c) {
  for (const VariantInfo& v : case_variants(c))
    if (v.name == "cpu.blocked") return v;
  ADD_FAILURE() << "no cpu.blocked variant of " << c.op;
  return {};
}

void check_all_quant_cases(cpu::QGemmIsa isa, const char* name) {
  ForcedIsa forced(isa);
  ASSERT_EQ(cpu::qgemm_blocked_isa(), isa) << name << " not available";
  int checked = 0;
  for (const OpCase& c : all_cases()) {
    if (c.op != "qgemm" && c.op != "qconv2d") continue;
    const CaseResult r = check_case(c, blocked_variant(c), 1234 + checked);
    EXPECT_EQ(r.outcome, Outcome::pass) << name << ": " << c.name() << ": " << r.message;
    ++checked;
  }
  EXPECT_GT(checked, 20);
}

TEST(QGemmBlocked, Avx2PathPassesEveryQuantCase) {
  if (!cpu::cpu_info().avx2) GTEST_SKIP() << "no AVX2 on this CPU";
  check_all_quant_cases(cpu::QGemmIsa::avx2, "avx2");
}

TEST(QGemmBlocked, VnniPathPassesEveryQuantCase) {
  const cpu::CpuInfo& info = cpu::cpu_info();
  if (!(info.avx512_vnni && info.avx512bw && info.avx512vl)) GTEST_SKIP() << "no AVX-512 VNNI on this CPU";
  check_all_quant_cases(cpu::QGemmIsa::avx512_vnni, "avx512_vnni");
}

// All-255 activations against all-127 (and all -127) weights: every u8 x s8
// pair sums to +-64770, beyond the s16 that vpmaddubsw would saturate to, over a
// K with a ragged tail. Exact i32 results are checked against the closed form.
TEST(QGemmBlocked, ExtremePairsDoNotSaturate) {
  const int64_t m = 7, n = 19, k = 1003;
  Tensor a = Tensor::empty({m, k}, DType::u8), w = Tensor::empty({n, k}, DType::i8);
  for (int64_t i = 0; i < a.numel(); ++i) a.data<uint8_t>()[i] = 255;
  for (int64_t j = 0; j < n; ++j)
    for (int64_t p = 0; p < k; ++p) w.data<int8_t>()[j * k + p] = j % 2 ? -127 : 127;
  for (cpu::QGemmIsa isa : {cpu::QGemmIsa::avx2, cpu::QGemmIsa::avx512_vnni}) {
    ForcedIsa forced(isa);
    if (cpu::qgemm_blocked_isa() != isa) continue;
    Tensor y = Tensor::zeros({m, n}, DType::i32);
    const QGemmArgs args{a, w, Tensor(), y, 0, {}};
    for (const auto& v : ops::qgemm.variants())
      if (v.name == "cpu.blocked") ops::qgemm.run_variant(v, args);
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j)
        ASSERT_EQ(y.data<int32_t>()[i * n + j], (j % 2 ? -1 : 1) * 255 * 127 * static_cast<int32_t>(k)) << i << "," << j;
  }
}

// The fixed-point requantization is one formula (kernels::requantize), so
// every CPU path must give cpu.naive's u8 outputs bit for bit, not merely within
// the 1 LSB the conformance table allows a library that applies float scales.
template <class Args>
Tensor run_variant_named(const Op<Args>& op, const std::string& name, const Args& args) {
  for (const auto& v : op.variants())
    if (v.name == name) op.run_variant(v, args);
  return args.y;
}

TEST(QGemmBlocked, RequantizedOutputsEqualNaiveBitForBit) {
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int> u8(0, 255), s8(-127, 127), shift(10, 14);
  std::uniform_int_distribution<int32_t> mult(1 << 30, INT32_MAX), bias(-20000, 20000);
  const int64_t m = 37, n = 70, k = 203;
  Tensor a = Tensor::empty({m, k}, DType::u8), w = Tensor::empty({n, k}, DType::i8), b = Tensor::empty({n}, DType::i32);
  QuantOutput out;
  out.multiplier = Tensor::empty({n}, DType::i32);
  out.shift = Tensor::empty({n}, DType::i32);
  out.zero_point = 77;
  out.relu = true;
  for (int64_t i = 0; i < a.numel(); ++i) a.data<uint8_t>()[i] = static_cast<uint8_t>(u8(rng));
  for (int64_t i = 0; i < w.numel(); ++i) w.data<int8_t>()[i] = static_cast<int8_t>(s8(rng));
  for (int64_t j = 0; j < n; ++j) {
    b.data<int32_t>()[j] = bias(rng);
    out.multiplier.data<int32_t>()[j] = mult(rng);
    out.shift.data<int32_t>()[j] = shift(rng);
  }
  const Tensor want = run_variant_named(ops::qgemm, "cpu.naive", QGemmArgs{a, w, b, Tensor::empty({m, n}, DType::u8), 5, out});
  Tensor x = Tensor::empty({2, 3, 9, 8}, DType::u8), cw = Tensor::empty({n, 3, 3, 3}, DType::i8);
  for (int64_t i = 0; i < x.numel(); ++i) x.data<uint8_t>()[i] = static_cast<uint8_t>(u8(rng));
  for (int64_t i = 0; i < cw.numel(); ++i) cw.data<int8_t>()[i] = static_cast<int8_t>(s8(rng));
  const Conv2dGeometry g{1, 1, 1, 1};
  const Tensor conv_want =
      run_variant_named(ops::qconv2d, "cpu.naive", QConv2dArgs{x, cw, b, Tensor::empty({2, n, 9, 8}, DType::u8), g, 9, out});
  for (cpu::QGemmIsa isa : {cpu::QGemmIsa::avx2, cpu::QGemmIsa::avx512_vnni}) {
    ForcedIsa forced(isa);
    if (cpu::qgemm_blocked_isa() != isa) continue;
    const Tensor got =
        run_variant_named(ops::qgemm, "cpu.blocked", QGemmArgs{a, w, b, Tensor::empty({m, n}, DType::u8), 5, out});
    ASSERT_EQ(std::memcmp(got.raw_data(), want.raw_data(), want.nbytes()), 0) << "qgemm, isa " << int(isa);
    const Tensor conv_got = run_variant_named(
        ops::qconv2d, "cpu.blocked", QConv2dArgs{x, cw, b, Tensor::empty({2, n, 9, 8}, DType::u8), g, 9, out});
    ASSERT_EQ(std::memcmp(conv_got.raw_data(), conv_want.raw_data(), conv_want.nbytes()), 0) << "qconv2d, isa " << int(isa);
  }
}

// The weight cache prepares each weight once, keeps distinct layouts apart,
// and forgets weights nobody holds any more (it never outgrows the live ones).
TEST(WeightCache, PreparesOncePerWeightAndDropsDeadWeights) {
  cpu::WeightCache<int> cache;
  int prepared = 0;
  const auto prepare = [&] { return std::make_shared<const int>(++prepared); };
  Tensor w = Tensor::zeros({4, 3}, DType::i8);
  EXPECT_EQ(*cache.get(w, "a", prepare), 1);
  EXPECT_EQ(*cache.get(w, "a", prepare), 1);  // cached
  EXPECT_EQ(*cache.get(w, "b", prepare), 2);  // another layout of the same weight
  EXPECT_EQ(*cache.get(w.reshape({12}), "a", prepare), 3);  // another shape
  EXPECT_EQ(cache.size(), 3u);
  for (int i = 0; i < 10; ++i) {
    Tensor temporary = Tensor::zeros({2, 2}, DType::i8);
    cache.get(temporary, "a", prepare);
  }
  // The ten temporaries died; at most the last one's entry is left beside w's three.
  EXPECT_LE(cache.size(), 4u);
  EXPECT_EQ(*cache.get(w, "a", prepare), 1);  // w's entries survived
}

}  // namespace
