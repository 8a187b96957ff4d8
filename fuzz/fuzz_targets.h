// The fuzz entry points: one per parser of outside input. Each takes
// arbitrary bytes and returns normally when the parser accepted them or
// refused them with a tinyopt::Error; every other outcome is a bug: a crash,
// a sanitizer report, any other exception escaping, or an accepted input that
// breaks an invariant (which aborts via FUZZ_INVARIANT).
//
// The same table serves the libFuzzer binaries (fuzz_main.cpp, clang) and the
// corpus replay test in the normal build (tests/test_fuzz_corpus.cpp), so ASan
// CI covers every seed and crash regression even without clang.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tinyopt::fuzz {

struct Target {
  const char* name;  // also the corpus folder: fuzz/corpus/<name>/, fuzz/regressions/<name>/
  // Returns true when the input was accepted, false when refused with tinyopt::Error.
  bool (*run)(const uint8_t* data, size_t size);
};

const std::vector<Target>& targets();
// The target called `name`; aborts when there is none (a build mistake).
const Target& target(std::string_view name);

}  // namespace tinyopt::fuzz
