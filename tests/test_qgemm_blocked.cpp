// cpu.blocked int8 kernels on every instruction path this machine has: the
// conformance table runs them on the best one (AVX-512 VNNI here); this test
// forces the AVX2 path (vpmaddwd on widened operands, the fix for
// vpmaddubsw's 16-bit saturation) through the very same qgemm/qconv2d cases,
// including ones whose inputs maximise the pair sums that would saturate.
#include <gtest/gtest.h>

#include "backends/cpu/cpu_info.h"
#include "backends/cpu/qgemm_blocked.h"
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

}  // namespace
