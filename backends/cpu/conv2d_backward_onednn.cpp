// cpu.onednn conv2d_backward: oneDNN's convolution_backward_data (dx) and
// convolution_backward_weights (dw, and db fused into the same pass).
// oneDNN 2.x builds both from a forward_training primitive descriptor, used
// only as a hint of the forward pass's choices.
//
// Layouts: format_tag::any with reorders to and from our NCHW/OIHW tensors
// (onednn_layout.h). Unlike the forward pass this wins on both CNN layers:
// with plain layouts oneDNN's backward kernels are far slower. Measured at
// batch 64, one thread (CPU time per call):
//   1 -> 32 channels, 28x28, k3 (dw, db):      any 0.6 ms, plain 2.2 ms
//   32 -> 64 channels, 13x13, k3 (dx, dw, db): any 6.4 ms, plain 9.3 ms
// Caching and weights as in conv2d_onednn.cpp: primitives cached by every
// size, bias presence and which gradients are wanted, under a mutex;
// reordered weights never cached across calls.
#include <map>
#include <mutex>
#include <optional>
#include <tuple>
#include <unordered_map>

#include "backends/cpu/cpu_kernels_cnn.h"
#include "backends/cpu/onednn_layout.h"

namespace tinyopt::cpu {

namespace {

using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;
using dims = dnnl::memory::dims;

struct ConvBackwardData {
  dnnl::convolution_backward_data primitive;
  LayoutPort dy, w, dx;
};

struct ConvBackwardWeights {
  dnnl::convolution_backward_weights primitive;
  LayoutPort x, dy, dw;
  dnnl::memory::desc db;  // zero desc when db is not wanted
};

struct ConvBackward {
  std::optional<ConvBackwardData> data;  // absent when dx is not wanted
  ConvBackwardWeights weights;
};

using ConvKey = std::tuple<int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t,
                           int64_t, bool, bool>;

const ConvBackward& conv_backward(const kernels::Conv2dDims& d, bool want_dx, bool want_db) {
  static std::mutex mutex;
  static std::map<ConvKey, ConvBackward> cache;
  std::lock_guard<std::mutex> lock(mutex);
  const ConvKey key{d.n, d.c, d.h, d.w, d.o, d.kh, d.kw, d.stride_h, d.stride_w, d.pad_h, d.pad_w, want_dx, want_db};
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;

  dnnl::engine& engine = onednn_engine();
  const dims x_dims{d.n, d.c, d.h, d.w}, w_dims{d.o, d.c, d.kh, d.kw}, y_dims{d.n, d.o, d.oh, d.ow};
  const bool any = conv_layout_any(/*default_any=*/true);
  const dnnl::memory::desc x_plain(x_dims, dt::f32, tag::nchw), w_plain(w_dims, dt::f32, tag::oihw),
      y_plain(y_dims, dt::f32, tag::nchw);
  const dnnl::memory::desc x_any = any ? dnnl::memory::desc(x_dims, dt::f32, tag::any) : x_plain;
  const dnnl::memory::desc w_any = any ? dnnl::memory::desc(w_dims, dt::f32, tag::any) : w_plain;
  const dnnl::memory::desc y_any = any ? dnnl::memory::desc(y_dims, dt::f32, tag::any) : y_plain;
  const dnnl::memory::desc db = want_db ? dnnl::memory::desc(dims{d.o}, dt::f32, tag::x) : dnnl::memory::desc();
  const dims strides{d.stride_h, d.stride_w}, pad{d.pad_h, d.pad_w};  // symmetric: see conv2d_onednn.cpp

  const dnnl::convolution_forward::desc fwd_desc(dnnl::prop_kind::forward_training,
                                                 dnnl::algorithm::convolution_direct, x_any, w_any, db, y_any,
                                                 strides, pad, pad);
  const dnnl::convolution_forward::primitive_desc hint(fwd_desc, engine);

  const dnnl::convolution_backward_weights::desc bw_desc(dnnl::algorithm::convolution_direct, x_any, w_any, db, y_any,
                                                         strides, pad, pad);
  const dnnl::convolution_backward_weights::primitive_desc bw(bw_desc, engine, hint);
  ConvBackward b{std::nullopt,
                 {dnnl::convolution_backward_weights(bw), LayoutPort::input(x_plain, bw.src_desc()),
                  LayoutPort::input(y_plain, bw.diff_dst_desc()), LayoutPort::output(w_plain, bw.diff_weights_desc()),
                  db}};
  if (want_dx) {
    const dnnl::convolution_backward_data::desc bd_desc(dnnl::algorithm::convolution_direct, x_any, w_any, y_any,
                                                        strides, pad, pad);
    const dnnl::convolution_backward_data::primitive_desc bd(bd_desc, engine, hint);
    b.data = ConvBackwardData{dnnl::convolution_backward_data(bd), LayoutPort::input(y_plain, bd.diff_dst_desc()),
                              LayoutPort::input(w_plain, bd.weights_desc()),
                              LayoutPort::output(x_plain, bd.diff_src_desc())};
  }
  return cache.emplace(key, std::move(b)).first->second;
}

}  // namespace

bool conv2d_backward_onednn_supports(const Conv2dBackwardArgs& args) {
  // oneDNN rejects zero-sized dimensions; the dispatcher then routes elsewhere.
  return conv2d_backward_cpu_supports(args) && args.x.numel() > 0 && args.w.numel() > 0 && args.dy.numel() > 0;
}

void conv2d_backward_onednn_run(const Conv2dBackwardArgs& args) {
  const bool want_dx = args.dx.defined(), want_db = args.db.defined();
  const ConvBackward& b = conv_backward(conv2d_dims(args.x, args.w, args.g), want_dx, want_db);
  dnnl::stream& stream = onednn_stream();
  // One scratch buffer per reordered tensor: none is reused within a call, so
  // no buffer is regrown (freed) while an earlier primitive may still read it.
  static thread_local ScratchFloats x_scratch, w_scratch, dy_scratch, dy_data_scratch, dw_scratch, dx_scratch;

  const ConvBackwardWeights& bw = b.weights;
  std::unordered_map<int, dnnl::memory> io{
      {DNNL_ARG_SRC, bw.x.bind_input(args.x.raw_data(), x_scratch, stream)},
      {DNNL_ARG_DIFF_DST, bw.dy.bind_input(args.dy.raw_data(), dy_scratch, stream)},
      {DNNL_ARG_DIFF_WEIGHTS, bw.dw.bind_output(args.dw.raw_data(), dw_scratch)}};
  if (want_db) io.emplace(DNNL_ARG_DIFF_BIAS, dnnl::memory(bw.db, onednn_engine(), args.db.raw_data()));
  bw.primitive.execute(stream, io);
  bw.dw.finish_output(io.at(DNNL_ARG_DIFF_WEIGHTS), args.dw.raw_data(), stream);

  if (b.data) {
    const ConvBackwardData& bd = *b.data;
    // dy in the data primitive's layout: reuse the weights pass's copy when the layouts agree.
    dnnl::memory dy = bd.dy.primitive == bw.dy.primitive ? io.at(DNNL_ARG_DIFF_DST)
                                                         : bd.dy.bind_input(args.dy.raw_data(), dy_data_scratch, stream);
    std::unordered_map<int, dnnl::memory> data_io{
        {DNNL_ARG_DIFF_DST, dy},
        {DNNL_ARG_WEIGHTS, bd.w.bind_input(args.w.raw_data(), w_scratch, stream)},
        {DNNL_ARG_DIFF_SRC, bd.dx.bind_output(args.dx.raw_data(), dx_scratch)}};
    bd.primitive.execute(stream, data_io);
    bd.dx.finish_output(data_io.at(DNNL_ARG_DIFF_SRC), args.dx.raw_data(), stream);
  }
  stream.wait();
}

}  // namespace tinyopt::cpu
