// cpu.onednn matmul: the library rung of the ladder (oneDNN 2.x API:
// op descriptor -> primitive descriptor -> primitive).
//
// Creating a primitive JIT-compiles a kernel for the exact shape, which takes
// far longer than a small matmul runs, so primitives are cached by
// (M, N, K, transposes). Transposes are expressed as strides, so no copy is made.
#include <map>
#include <mutex>
#include <tuple>

#include "backends/cpu/cpu_kernels.h"
#include "backends/cpu/onednn_context.h"

namespace tinyopt::cpu {

namespace {

struct MatmulPrimitive {
  dnnl::memory::desc a, b, c;
  dnnl::matmul primitive;
};

using MatmulKey = std::tuple<int64_t, int64_t, int64_t, bool, bool>;

const MatmulPrimitive& matmul_primitive(int64_t m, int64_t n, int64_t k, bool trans_a, bool trans_b) {
  static std::mutex mutex;
  static std::map<MatmulKey, MatmulPrimitive> cache;
  std::lock_guard<std::mutex> lock(mutex);
  const MatmulKey key{m, n, k, trans_a, trans_b};
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;

  using dt = dnnl::memory::data_type;
  using dims = dnnl::memory::dims;
  // Logical A is [M, K]; stored transposed means strides {1, M}.
  const dnnl::memory::desc a_md(dims{m, k}, dt::f32, trans_a ? dims{1, m} : dims{k, 1});
  const dnnl::memory::desc b_md(dims{k, n}, dt::f32, trans_b ? dims{1, k} : dims{n, 1});
  const dnnl::memory::desc c_md(dims{m, n}, dt::f32, dims{n, 1});
  const dnnl::matmul::desc desc(a_md, b_md, c_md);
  const dnnl::matmul::primitive_desc pd(desc, onednn_engine());
  return cache.emplace(key, MatmulPrimitive{a_md, b_md, c_md, dnnl::matmul(pd)}).first->second;
}

}  // namespace

bool matmul_onednn_supports(const MatmulArgs& args) {
  // oneDNN rejects zero-sized dims; the dispatcher then routes elsewhere.
  return all_contiguous_f32(args) && args.m() > 0 && args.n() > 0 && args.k() > 0;
}

void matmul_onednn_run(const MatmulArgs& args) {
  const MatmulPrimitive& p = matmul_primitive(args.m(), args.n(), args.k(), args.trans_a, args.trans_b);
  dnnl::engine& engine = onednn_engine();
  dnnl::memory a(p.a, engine, args.a.raw_data());
  dnnl::memory b(p.b, engine, args.b.raw_data());
  dnnl::memory c(p.c, engine, args.c.raw_data());
  dnnl::stream& stream = onednn_stream();
  p.primitive.execute(stream, {{DNNL_ARG_SRC, a}, {DNNL_ARG_WEIGHTS, b}, {DNNL_ARG_DST, c}});
  stream.wait();
}

}  // namespace tinyopt::cpu
