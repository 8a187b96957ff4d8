// Replays every fuzz input kept in the repository through the same entry
// points the libFuzzer binaries use (fuzz/fuzz_targets.cpp), so the normal
// and ASan builds catch a regression without clang or a fuzzing run:
//   fuzz/corpus/<target>/*       seed files, all valid: each must be accepted;
//   fuzz/regressions/<target>/*  inputs that once crashed, hung or broke an
//                                invariant: each must now be accepted or
//                                refused with a tinyopt::Error, nothing else.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "fuzz/fuzz_targets.h"

namespace fs = std::filesystem;
using tinyopt::fuzz::Target;
using tinyopt::fuzz::targets;

namespace {

const fs::path kFuzzDir = fs::path(TINYOPT_SOURCE_DIR) / "fuzz";

std::vector<fs::path> files_in(const fs::path& dir) {
  std::vector<fs::path> out;
  if (!fs::is_directory(dir)) return out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file()) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

bool run(const Target& t, const std::string& bytes) {
  return t.run(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

class FuzzCorpus : public testing::TestWithParam<Target> {};

}  // namespace

namespace tinyopt::fuzz {
void PrintTo(const Target& t, std::ostream* os) { *os << t.name; }
}  // namespace tinyopt::fuzz

namespace {

TEST_P(FuzzCorpus, SeedsAreAccepted) {
  const Target& t = GetParam();
  const auto seeds = files_in(kFuzzDir / "corpus" / t.name);
  ASSERT_FALSE(seeds.empty()) << "no seed files in fuzz/corpus/" << t.name;
  for (const fs::path& p : seeds) EXPECT_TRUE(run(t, read_all(p))) << p << " was refused";
}

TEST_P(FuzzCorpus, RegressionInputsDoNotCrash) {
  const Target& t = GetParam();
  for (const fs::path& p : files_in(kFuzzDir / "regressions" / t.name)) {
    SCOPED_TRACE(p.string());
    run(t, read_all(p));  // any outcome but a crash, a sanitizer report or a stray exception
  }
}

// Mutations every parser must survive even where no fuzzer ran: each seed
// truncated and with single bytes flipped, at (up to) 512 positions each.
TEST_P(FuzzCorpus, TruncatedAndBitFlippedSeedsDoNotCrash) {
  const Target& t = GetParam();
  size_t tried = 0;
  for (const fs::path& p : files_in(kFuzzDir / "corpus" / t.name)) {
    const std::string seed = read_all(p);
    SCOPED_TRACE(p.string());
    // Every position of small seeds; about 512 evenly spread ones of larger seeds.
    const size_t step = std::max<size_t>(1, seed.size() / 512);
    for (size_t n = 0; n < seed.size(); n += step, ++tried) run(t, seed.substr(0, n));
    for (size_t i = 0; i < seed.size(); i += step, ++tried) {
      std::string m = seed;
      m[i] = static_cast<char>(m[i] ^ 0xff);
      run(t, m);
    }
  }
  EXPECT_GT(tried, 0u);
}

INSTANTIATE_TEST_SUITE_P(AllTargets, FuzzCorpus, testing::ValuesIn(targets()),
                         [](const testing::TestParamInfo<Target>& info) { return std::string(info.param.name); });

}  // namespace
