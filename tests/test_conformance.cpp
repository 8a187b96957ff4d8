// The conformance test: every case of the table against every registered
// variant of its op. Inputs are drawn fresh each run (the seed is printed;
// TINYOPT_SEED=<n> reproduces a run). Unsupported and skipped pairs are
// reported as GoogleTest skips with their reason, never as passes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <random>

#include "conformance/conformance.h"
#include "core/dispatcher.h"

using namespace tinyopt;
using namespace tinyopt::conformance;

namespace {

struct Pair {
  size_t case_index;
  VariantInfo variant;
};

void PrintTo(const Pair& p, std::ostream* os) {
  *os << all_cases()[p.case_index].name() << " on " << p.variant.name;
}

// In a fixed order (variants by name, not by priority): a priority can depend
// on the ISA flavour (TINYOPT_SIMD), and the tests' names, which carry their
// index, must be the same under every flavour that runs them.
std::vector<Pair> all_pairs() {
  std::vector<Pair> pairs;
  const auto& cases = all_cases();
  for (size_t i = 0; i < cases.size(); ++i) {
    std::vector<VariantInfo> variants = case_variants(cases[i]);
    std::sort(variants.begin(), variants.end(),
              [](const VariantInfo& a, const VariantInfo& b) { return a.name < b.name; });
    for (const VariantInfo& v : variants) pairs.push_back({i, v});
  }
  return pairs;
}

uint64_t run_seed() {
  static const uint64_t seed = [] {
    if (const char* s = std::getenv("TINYOPT_SEED")) return static_cast<uint64_t>(std::strtoull(s, nullptr, 10));
    return static_cast<uint64_t>(std::random_device{}());
  }();
  return seed;
}

std::string test_name(const testing::TestParamInfo<Pair>& info) {
  const OpCase& c = all_cases()[info.param.case_index];
  std::string name = c.op + "_" + info.param.variant.name + "_" + c.label;
  for (char& ch : name)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return name + "_" + std::to_string(info.index);
}

class Conformance : public testing::TestWithParam<Pair> {};

TEST_P(Conformance, MatchesFloat64Reference) {
  const Pair& p = GetParam();
  const OpCase& c = all_cases()[p.case_index];
  const uint64_t seed = run_seed() + p.case_index;
  const CaseResult r = check_case(c, p.variant, seed);
  switch (r.outcome) {
    case Outcome::pass: SUCCEED() << "NMSE " << r.nmse; break;
    case Outcome::fail:
      FAIL() << c.name() << " on " << p.variant.name << ": " << r.message << " (seed " << seed
             << "; rerun with TINYOPT_SEED=" << run_seed() << ")";
    case Outcome::unsupported: GTEST_SKIP() << "unsupported: " << r.message;
    case Outcome::skipped: GTEST_SKIP() << "skipped: " << r.message;
  }
}

INSTANTIATE_TEST_SUITE_P(AllVariants, Conformance, testing::ValuesIn(all_pairs()), test_name);

// The table itself must cover every registered variant of every op it lists,
// so a new variant cannot be registered without being checked.
TEST(ConformanceTable, EveryRegisteredVariantHasCases) {
  const auto& cases = all_cases();
  ASSERT_FALSE(cases.empty());
  for (const OpBase* op : OptimizedBackend::instance().ops()) {
    bool covered = false;
    for (const OpCase& c : cases) covered = covered || c.op_object == op;
    EXPECT_TRUE(covered) << "op " << op->name() << " has no conformance cases";
  }
}

}  // namespace
