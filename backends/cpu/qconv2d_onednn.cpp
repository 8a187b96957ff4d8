// cpu.onednn qconv2d: oneDNN 2.x int8 convolution (u8 src, s8 weights, s32
// bias, u8 / s32 / f32 dst, ReLU post-op).
//
// Layouts: oneDNN's int8 direct convolutions (VNNI JIT kernels) work on
// channels-last / channel-blocked data, so the primitive is created with
// format_tag::any and our NCHW input and output are reordered around it
// (onednn_layout.h); the weights are reordered once per tensor into the
// layout it chose, including the compensation oneDNN appends for a non-zero
// source zero point (cached: quantized weights are immutable). oneDNN treats
// padding as the source zero point, i.e. real 0, as our contract does.
// oneDNN 2.6's int8 convolutions take output scales only at creation time,
// so primitives are cached by every size that defines them plus the scale
// values: one primitive per layer (a recalibrated layer gets a new one).
#include <map>
#include <mutex>
#include <utility>
#include <vector>

#include "backends/cpu/cpu_kernels_cnn.h"
#include "backends/cpu/cpu_kernels_quant.h"
#include "backends/cpu/onednn_layout.h"
#include "backends/cpu/onednn_quant.h"

namespace tinyopt::cpu {

namespace {

using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;
using dims = dnnl::memory::dims;

struct QConv {
  dnnl::convolution_forward primitive;
  LayoutPort x, y;
  dnnl::memory::desc weights_user, weights, bias;
  std::string key;
};

const QConv& qconv(const QConv2dArgs& args, const kernels::Conv2dDims& d, const std::vector<float>& scales) {
  const bool has_bias = args.bias.defined();
  const std::string key =
      fmt::format("qconv n{} c{} h{} w{} o{} k{}x{} s{}x{} p{}x{} bias{} out{} relu{}", d.n, d.c, d.h, d.w, d.o, d.kh,
                  d.kw, d.stride_h, d.stride_w, d.pad_h, d.pad_w, has_bias, dtype_name(args.y.dtype()), args.out.relu);
  static std::mutex mutex;
  static std::map<std::pair<std::string, std::vector<float>>, QConv> cache;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = cache.find({key, scales});
  if (it != cache.end()) return it->second;

  const dims x_dims{d.n, d.c, d.h, d.w}, w_dims{d.o, d.c, d.kh, d.kw}, y_dims{d.n, d.o, d.oh, d.ow};
  const dt y_type = onednn_out_type(args.y);
  const dnnl::memory::desc bias = has_bias ? dnnl::memory::desc(dims{d.o}, dt::s32, tag::x) : dnnl::memory::desc();
  const dims strides{d.stride_h, d.stride_w}, pad{d.pad_h, d.pad_w};
  const dnnl::convolution_forward::desc desc(
      dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
      dnnl::memory::desc(x_dims, dt::u8, tag::any), dnnl::memory::desc(w_dims, dt::s8, tag::any), bias,
      dnnl::memory::desc(y_dims, y_type, tag::any), strides, pad, pad);
  const dnnl::convolution_forward::primitive_desc pd(desc, onednn_quant_attr(args.y, args.out, &scales), onednn_engine());
  QConv q{dnnl::convolution_forward(pd),
          LayoutPort::input(dnnl::memory::desc(x_dims, dt::u8, tag::nchw), pd.src_desc()),
          LayoutPort::output(dnnl::memory::desc(y_dims, y_type, tag::nchw), pd.dst_desc()),
          dnnl::memory::desc(w_dims, dt::s8, tag::oihw), pd.weights_desc(), bias, key};
  return cache.emplace(std::make_pair(key, scales), std::move(q)).first->second;
}

}  // namespace

bool qconv2d_onednn_supports(const QConv2dArgs& args) {
  return qconv2d_cpu_supports(args) && args.x.numel() > 0 && args.w.numel() > 0 && args.y.numel() > 0 &&
         onednn_i32_output_exact(args.y, args.bias, args.w.size(1) * args.w.size(2) * args.w.size(3));
}

void qconv2d_onednn_run(const QConv2dArgs& args) {
  const kernels::Conv2dDims d = conv2d_dims(args.x, args.w, args.g);
  const QConv& q = qconv(args, d, onednn_output_scales(args.y, args.out, d.o));
  const auto weights = onednn_reordered_weights(args.w, q.weights_user, q.weights, q.key);
  dnnl::stream& stream = onednn_stream();
  static thread_local ScratchFloats x_scratch, y_scratch;
  std::unordered_map<int, dnnl::memory> io{{DNNL_ARG_SRC, q.x.bind_input(args.x.raw_data(), x_scratch, stream)},
                                           {DNNL_ARG_WEIGHTS, weights->memory},
                                           {DNNL_ARG_DST, q.y.bind_output(args.y.raw_data(), y_scratch)}};
  if (args.bias.defined()) io.emplace(DNNL_ARG_BIAS, dnnl::memory(q.bias, onednn_engine(), args.bias.raw_data()));
  static thread_local OnednnQuantArgs quant;
  quant.bind(args.y, args.out, args.x_zero, d.o, /*runtime_scales=*/false, io);
  q.primitive.execute(stream, io);
  q.y.finish_output(io.at(DNNL_ARG_DST), args.y.raw_data(), stream);
  stream.wait();
}

}  // namespace tinyopt::cpu
