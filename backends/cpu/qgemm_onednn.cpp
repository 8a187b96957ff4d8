// cpu.onednn qgemm: oneDNN 2.x int8 matmul (u8 src, s8 weights, s32 bias,
// u8 / s32 / f32 dst), the library rung of the int8 ladder.
//
// Our w is [N, K] row-major, which oneDNN sees as the weights matrix [K, N]
// with strides {1, K}. The primitive is created with format_tag::any for the
// weights, and each weight tensor is reordered once into the layout it chose
// (cached per tensor: quantized weights are immutable). Primitives JIT-compile
// per shape, so they are cached by shape and output mode under a mutex;
// scales and zero points are runtime arguments (onednn_quant.h).
#include <map>
#include <mutex>
#include <tuple>

#include "backends/cpu/cpu_kernels_quant.h"
#include "backends/cpu/onednn_quant.h"

namespace tinyopt::cpu {

namespace {

using dt = dnnl::memory::data_type;
using dims = dnnl::memory::dims;

struct QMatmul {
  dnnl::matmul primitive;
  dnnl::memory::desc src, weights_user, weights, bias, dst;
  std::string key;
};

const QMatmul& qmatmul(const QGemmArgs& args) {
  const int64_t m = args.m(), n = args.n(), k = args.k();
  const bool has_bias = args.bias.defined();
  const std::string key = fmt::format("qmatmul m{} n{} k{} bias{} out{} relu{}", m, n, k, has_bias,
                                      dtype_name(args.y.dtype()), args.out.relu);
  static std::mutex mutex;
  static std::map<std::string, QMatmul> cache;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;

  const dnnl::memory::desc src(dims{m, k}, dt::u8, dims{k, 1});
  const dnnl::memory::desc weights_user(dims{k, n}, dt::s8, dims{1, k});
  const dnnl::memory::desc weights_any(dims{k, n}, dt::s8, dnnl::memory::format_tag::any);
  const dnnl::memory::desc bias = has_bias ? dnnl::memory::desc(dims{1, n}, dt::s32, dims{n, 1}) : dnnl::memory::desc();
  const dnnl::memory::desc dst(dims{m, n}, onednn_out_type(args.y), dims{n, 1});
  const dnnl::matmul::desc desc(src, weights_any, bias, dst);
  const dnnl::matmul::primitive_desc pd(desc, onednn_quant_attr(args.y, args.out), onednn_engine());
  QMatmul q{dnnl::matmul(pd), src, weights_user, pd.weights_desc(), bias, dst, key};
  return cache.emplace(key, std::move(q)).first->second;
}

}  // namespace

bool qgemm_onednn_supports(const QGemmArgs& args) {
  // oneDNN rejects zero-sized dims; the dispatcher then routes elsewhere.
  return qgemm_cpu_supports(args) && args.m() > 0 && args.n() > 0 && args.k() > 0 &&
         onednn_i32_output_exact(args.y, args.bias, args.k());
}

void qgemm_onednn_run(const QGemmArgs& args) {
  const QMatmul& q = qmatmul(args);
  const auto weights = onednn_reordered_weights(args.w, q.weights_user, q.weights, q.key);
  dnnl::engine& e = onednn_engine();
  std::unordered_map<int, dnnl::memory> io{{DNNL_ARG_SRC, dnnl::memory(q.src, e, args.a.raw_data())},
                                           {DNNL_ARG_WEIGHTS, weights->memory},
                                           {DNNL_ARG_DST, dnnl::memory(q.dst, e, args.y.raw_data())}};
  if (args.bias.defined()) io.emplace(DNNL_ARG_BIAS, dnnl::memory(q.bias, e, args.bias.raw_data()));
  static thread_local OnednnQuantArgs quant;
  quant.bind(args.y, args.out, args.a_zero, args.n(), /*runtime_scales=*/true, io);
  dnnl::stream& stream = onednn_stream();
  q.primitive.execute(stream, io);
  stream.wait();
}

}  // namespace tinyopt::cpu
