// libFuzzer driver for one target, chosen at build time (fuzz/CMakeLists.txt
// compiles this once per name in TINYOPT_FUZZ_TARGETS).
#include <cstdlib>

#include "core/threads.h"
#include "fuzz/fuzz_targets.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // One thread: libFuzzer measures coverage per input, and OpenMP worker
  // threads only add noise (and RSS) to that.
  tinyopt::set_num_threads(1);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const tinyopt::fuzz::Target& t = tinyopt::fuzz::target(TINYOPT_FUZZ_TARGET);
  t.run(data, size);
  return 0;
}
