// cpu.onednn conv2d: the library rung of the conv2d ladder (oneDNN 2.x API:
// op descriptor -> primitive descriptor -> primitive).
//
// Layouts: our tensors are plain NCHW / OIHW. oneDNN's fastest direct
// convolutions (brgconv / jit:avx512_core) want channel-blocked or NHWC
// layouts; created with format_tag::any it picks one and we reorder in and
// out around it (onednn_layout.h); given plain layouts it runs its own
// im2col + GEMM (gemm:jit) with no reorders. Which wins depends on how much
// compute each reordered byte carries. Measured at batch 64, one thread
// (CPU time per call):
//   1 -> 32 channels, 28x28, k3:  any 1.45 ms, plain 1.0 ms  (reordering the
//                                 32-channel output costs more than it saves)
//   32 -> 64 channels, 13x13, k3: any 3.3 ms,  plain 4.3 ms
// so format_tag::any is used from 16 input channels up (one channel block),
// plain below. TINYOPT_CONV_LAYOUT=any|plain forces either, for comparison.
//
// Reordered weights are NOT cached across calls: the optimizer updates
// weights in place at the same address and a Tensor carries no version
// counter, so a cache keyed by pointer could serve stale weights. Reordering
// O*C*KH*KW floats per call is cheap next to the convolution.
//
// Creating a primitive JIT-compiles code for the exact shape, so primitives
// (and their reorders) are cached by every size that defines them, under a
// mutex; execution needs no lock (primitives are thread-safe).
#include <map>
#include <mutex>
#include <tuple>
#include <unordered_map>

#include "backends/cpu/cpu_kernels_cnn.h"
#include "backends/cpu/onednn_layout.h"

namespace tinyopt::cpu {

namespace {

using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;
using dims = dnnl::memory::dims;

struct ConvForward {
  dnnl::convolution_forward primitive;
  LayoutPort x, w, y;
  dnnl::memory::desc bias;  // zero desc when there is none
};

using ConvKey = std::tuple<int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t,
                           int64_t, bool>;

const ConvForward& conv_forward(const kernels::Conv2dDims& d, bool has_bias) {
  static std::mutex mutex;
  static std::map<ConvKey, ConvForward> cache;
  std::lock_guard<std::mutex> lock(mutex);
  const ConvKey key{d.n, d.c, d.h, d.w, d.o, d.kh, d.kw, d.stride_h, d.stride_w, d.pad_h, d.pad_w, has_bias};
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;

  const bool any = conv_layout_any(/*default_any=*/d.c >= 16);
  const tag x_tag = any ? tag::any : tag::nchw;
  const tag w_tag = any ? tag::any : tag::oihw;
  const dims x_dims{d.n, d.c, d.h, d.w}, w_dims{d.o, d.c, d.kh, d.kw}, y_dims{d.n, d.o, d.oh, d.ow};
  const dnnl::memory::desc bias = has_bias ? dnnl::memory::desc(dims{d.o}, dt::f32, tag::x) : dnnl::memory::desc();
  // Symmetric padding: with pad_r = pad_l oneDNN's (H + 2p - K) / S + 1 rounds
  // down exactly as Conv2dGeometry::out_size does.
  const dims strides{d.stride_h, d.stride_w}, pad{d.pad_h, d.pad_w};
  const dnnl::convolution_forward::desc desc(
      dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
      dnnl::memory::desc(x_dims, dt::f32, x_tag), dnnl::memory::desc(w_dims, dt::f32, w_tag), bias,
      dnnl::memory::desc(y_dims, dt::f32, x_tag), strides, pad, pad);
  const dnnl::convolution_forward::primitive_desc pd(desc, onednn_engine());
  ConvForward f{dnnl::convolution_forward(pd),
                LayoutPort::input(dnnl::memory::desc(x_dims, dt::f32, tag::nchw), pd.src_desc()),
                LayoutPort::input(dnnl::memory::desc(w_dims, dt::f32, tag::oihw), pd.weights_desc()),
                LayoutPort::output(dnnl::memory::desc(y_dims, dt::f32, tag::nchw), pd.dst_desc()), bias};
  return cache.emplace(key, std::move(f)).first->second;
}

}  // namespace

bool conv2d_onednn_supports(const Conv2dArgs& args) {
  // oneDNN rejects zero-sized dimensions; the dispatcher then routes elsewhere.
  return conv2d_cpu_supports(args) && args.x.numel() > 0 && args.w.numel() > 0 && args.y.numel() > 0;
}

void conv2d_onednn_run(const Conv2dArgs& args) {
  const bool has_bias = args.bias.defined();
  const ConvForward& f = conv_forward(conv2d_dims(args.x, args.w, args.g), has_bias);
  dnnl::stream& stream = onednn_stream();
  static thread_local ScratchFloats x_scratch, w_scratch, y_scratch;
  std::unordered_map<int, dnnl::memory> io{{DNNL_ARG_SRC, f.x.bind_input(args.x.raw_data(), x_scratch, stream)},
                                           {DNNL_ARG_WEIGHTS, f.w.bind_input(args.w.raw_data(), w_scratch, stream)},
                                           {DNNL_ARG_DST, f.y.bind_output(args.y.raw_data(), y_scratch)}};
  if (has_bias) io.emplace(DNNL_ARG_BIAS, dnnl::memory(f.bias, onednn_engine(), args.bias.raw_data()));
  f.primitive.execute(stream, io);
  f.y.finish_output(io.at(DNNL_ARG_DST), args.y.raw_data(), stream);
  stream.wait();
}

}  // namespace tinyopt::cpu
