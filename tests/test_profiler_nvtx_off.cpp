// With TINYOPT_HAVE_NVTX undefined, the NVTX calls are empty constexpr
// functions: this translation unit undefines it (the build may define it for
// everything else) and proves the calls can run at compile time, i.e. they
// have no side effects and reach no NVTX symbol.
#undef TINYOPT_HAVE_NVTX
#include "profiler/nvtx.h"
// (nothing above may include nvtx.h with the macro still defined)

#include <gtest/gtest.h>

namespace nvtx = tinyopt::nvtx;

static_assert(!nvtx::kEnabled, "NVTX must be off in this translation unit");

constexpr bool calls_are_compile_time_noops() {
  nvtx::push_layer("0:linear");
  nvtx::push_op("matmul");
  nvtx::pop();
  nvtx::pop();
  return true;
}
static_assert(calls_are_compile_time_noops());

TEST(ProfilerNvtx, DisabledCallsCompileToNothingAndCategoriesStillWork) {
  nvtx::push_op("conv2d");
  nvtx::pop();
  static_assert(nvtx::category_of("matmul") == nvtx::Category::compute);
  static_assert(nvtx::category_of("conv2d_backward") == nvtx::Category::backward);
  static_assert(nvtx::category_of("attention") == nvtx::Category::attention);
  static_assert(nvtx::category_of("attention_decode") == nvtx::Category::attention);
  static_assert(nvtx::category_of("layernorm") == nvtx::Category::normalization);
  static_assert(nvtx::category_of("embedding") == nvtx::Category::memory);
  EXPECT_EQ(nvtx::category_of("relu"), nvtx::Category::elementwise);
}
