// Threads: every CPU kernel variant of the conformance table, run on the same
// inputs with 1 and with 2 OpenMP threads, gives bit-identical outputs, except
// the variants listed in kSummationOrderTolerance below, whose parallel split
// changes the order of a floating-point sum; those must agree within the
// stated relative error (docs/RELIABILITY.md).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <map>
#include <random>

#include "conformance/conformance.h"
#include "core/threads.h"

using namespace tinyopt;
using namespace tinyopt::conformance;

namespace {

// variant name -> max |a - b| / max(1, max |a|) allowed between 1 and 2 threads.
// Empty by default: every variant is deterministic unless measured otherwise.
const std::map<std::string, double> kSummationOrderTolerance = {};

struct Pair {
  const OpCase* c;
  VariantInfo variant;
  uint64_t seed;
};

// Most table cases are below the kernels' parallel thresholds (~16K
// elements), so a few large matmuls make sure the split really happens.
const std::vector<OpCase>& large_cases() {
  static const std::vector<OpCase> cases = {matmul_case(256, 300, 513, false, false),
                                            matmul_case(129, 257, 1000, true, false),
                                            matmul_case(64, 1024, 96, false, true)};
  return cases;
}

std::vector<Pair> cpu_pairs() {
  std::vector<Pair> out;
  std::vector<const OpCase*> cases;
  for (const OpCase& c : all_cases()) cases.push_back(&c);
  for (const OpCase& c : large_cases()) cases.push_back(&c);
  for (size_t i = 0; i < cases.size(); ++i)
    for (const VariantInfo& v : case_variants(*cases[i]))
      if (v.device == DeviceType::cpu) out.push_back({cases[i], v, 1234 + i});
  return out;
}

// Runs the case's variant with `threads` threads on inputs drawn from `seed`;
// returns the outputs' bytes, or nothing when the variant declines the call.
std::optional<std::vector<Tensor>> run_with(const OpCase& c, const std::string& variant, int threads, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Tensor> tensors;
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    std::vector<double> values(static_cast<size_t>(c.inputs[i].shape.numel()));
    const Generator gen = i < c.generators.size() && c.generators[i] ? c.generators[i] : uniform(-1, 1);
    gen(values, rng);
    Tensor t = Tensor::empty(c.inputs[i].shape, c.inputs[i].dtype);
    for (int64_t j = 0; j < t.numel(); ++j) write_element(t.raw_data(), t.dtype(), j, values[static_cast<size_t>(j)]);
    tensors.push_back(t);
  }
  for (const TensorSpec& spec : c.outputs) tensors.push_back(Tensor::zeros(spec.shape, spec.dtype));
  const int saved = num_threads();
  set_num_threads(threads);
  const bool ran = c.invoke(variant, tensors);
  set_num_threads(saved);
  if (!ran) return std::nullopt;
  return std::vector<Tensor>(tensors.begin() + static_cast<std::ptrdiff_t>(c.inputs.size()), tensors.end());
}

void PrintTo(const Pair& p, std::ostream* os) { *os << p.c->name() << " on " << p.variant.name; }

class ThreadDeterminism : public testing::TestWithParam<Pair> {};

TEST_P(ThreadDeterminism, OneAndTwoThreadsAgree) {
  const Pair& p = GetParam();
  const OpCase& c = *p.c;
  const uint64_t seed = p.seed;
  const auto one = run_with(c, p.variant.name, 1, seed);
  if (!one) GTEST_SKIP() << p.variant.name << " declines " << c.label;
  const auto two = run_with(c, p.variant.name, 2, seed);
  ASSERT_TRUE(two.has_value());
  const auto tol = kSummationOrderTolerance.find(p.variant.name);
  for (size_t o = 0; o < one->size(); ++o) {
    const Tensor& a = (*one)[o];
    const Tensor& b = (*two)[o];
    if (tol == kSummationOrderTolerance.end()) {
      EXPECT_EQ(std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()), 0)
          << c.name() << " on " << p.variant.name << ": output " << o << " differs between 1 and 2 threads";
      continue;
    }
    double max_diff = 0, max_abs = 1;
    for (int64_t i = 0; i < a.numel(); ++i) {
      const double x = read_element(a.raw_data(), a.dtype(), i), y = read_element(b.raw_data(), b.dtype(), i);
      ASSERT_EQ(std::isnan(x), std::isnan(y)) << "element " << i;
      if (!std::isnan(x)) max_diff = std::max(max_diff, std::abs(x - y));
      max_abs = std::max(max_abs, std::abs(x));
    }
    EXPECT_LE(max_diff / max_abs, tol->second) << c.name() << " on " << p.variant.name << ": output " << o;
  }
}

std::string pair_name(const testing::TestParamInfo<Pair>& info) {
  const OpCase& c = *info.param.c;
  std::string name = c.op + "_" + info.param.variant.name + "_" + c.label;
  for (char& ch : name)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return name + "_" + std::to_string(info.index);
}

INSTANTIATE_TEST_SUITE_P(CpuVariants, ThreadDeterminism, testing::ValuesIn(cpu_pairs()), pair_name);

}  // namespace
