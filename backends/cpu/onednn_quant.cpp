#include "backends/cpu/onednn_quant.h"

#include <cstdlib>

#include "backends/cpu/weight_cache.h"
#include "kernels/quant.h"

namespace tinyopt::cpu {

using dt = dnnl::memory::data_type;

dnnl::memory::data_type onednn_out_type(const Tensor& y) {
  switch (y.dtype()) {
    case DType::u8: return dt::u8;
    case DType::f32: return dt::f32;
    default: return dt::s32;
  }
}

std::vector<float> onednn_output_scales(const Tensor& y, const QuantOutput& out, int64_t channels) {
  std::vector<float> scales(static_cast<size_t>(channels), 1.0f);
  if (y.dtype() == DType::u8) {
    const int32_t* m = out.multiplier.data<int32_t>();
    const int32_t* s = out.shift.data<int32_t>();
    for (int64_t i = 0; i < channels; ++i) scales[i] = static_cast<float>(kernels::requant_real(m[i], s[i]));
  } else if (y.dtype() == DType::f32) {
    const float* s = out.scale.data<float>();
    for (int64_t i = 0; i < channels; ++i) scales[i] = s[i];
  }
  return scales;
}

dnnl::primitive_attr onednn_quant_attr(const Tensor& y, const QuantOutput& out, const std::vector<float>* fixed_scales) {
  dnnl::primitive_attr attr;
  if (fixed_scales != nullptr)
    attr.set_output_scales(1 << 1, *fixed_scales);
  else
    attr.set_output_scales(1 << 1, {DNNL_RUNTIME_F32_VAL});
  attr.set_zero_points(DNNL_ARG_SRC, 0, {DNNL_RUNTIME_S32_VAL});
  if (y.dtype() == DType::u8) attr.set_zero_points(DNNL_ARG_DST, 0, {DNNL_RUNTIME_S32_VAL});
  if (out.relu) {
    dnnl::post_ops ops;
    ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
    attr.set_post_ops(ops);
  }
  return attr;
}

void OnednnQuantArgs::bind(const Tensor& y, const QuantOutput& out, int32_t src_zero_point, int64_t channels,
                           bool runtime_scales, std::unordered_map<int, dnnl::memory>& io) {
  src_zero = src_zero_point;
  dst_zero = out.zero_point;
  dnnl::engine& e = onednn_engine();
  keep.clear();
  if (runtime_scales) {
    scales = onednn_output_scales(y, out, channels);
    keep.emplace_back(dnnl::memory::desc({channels}, dt::f32, dnnl::memory::format_tag::x), e, scales.data());
    io[DNNL_ARG_ATTR_OUTPUT_SCALES] = keep.back();
  }
  keep.emplace_back(dnnl::memory::desc({1}, dt::s32, dnnl::memory::format_tag::x), e, &src_zero);
  io[DNNL_ARG_ATTR_ZERO_POINTS | DNNL_ARG_SRC] = keep.back();
  if (y.dtype() == DType::u8) {
    keep.emplace_back(dnnl::memory::desc({1}, dt::s32, dnnl::memory::format_tag::x), e, &dst_zero);
    io[DNNL_ARG_ATTR_ZERO_POINTS | DNNL_ARG_DST] = keep.back();
  }
}

std::shared_ptr<const OnednnWeights> onednn_reordered_weights(const Tensor& w, const dnnl::memory::desc& user,
                                                              const dnnl::memory::desc& wanted,
                                                              const std::string& tag) {
  static WeightCache<OnednnWeights> cache;
  return cache.get(w, tag, [&] {
    dnnl::engine& e = onednn_engine();
    auto prepared = std::make_shared<OnednnWeights>();
    prepared->memory = dnnl::memory(wanted, e);  // oneDNN owns this buffer
    dnnl::memory src(user, e, w.raw_data());
    dnnl::stream& stream = onednn_stream();
    dnnl::reorder(src, prepared->memory).execute(stream, src, prepared->memory);
    stream.wait();
    return std::shared_ptr<const OnednnWeights>(prepared);
  });
}

bool onednn_i32_output_exact(const Tensor& y, const Tensor& bias, int64_t depth) {
  if (y.dtype() != DType::i32) return true;
  int64_t largest_bias = 0;
  if (bias.defined()) {
    const int32_t* b = bias.data<int32_t>();
    for (int64_t i = 0; i < bias.numel(); ++i) largest_bias = std::max<int64_t>(largest_bias, std::llabs(b[i]));
  }
  return depth * 255 * 127 + largest_bias < (int64_t{1} << 24);
}

}  // namespace tinyopt::cpu
