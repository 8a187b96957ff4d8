// What the int8 oneDNN variants (qgemm_onednn.cpp, qconv2d_onednn.cpp) share:
// the primitive attributes that express our QuantOutput in oneDNN 2.x terms,
// the per-call runtime arguments, and weights reordered once per tensor.
//
// oneDNN 2.x int8 semantics: dst = zp_dst + post_ops(scale[n] * (acc + bias)),
// with acc = sum (src - zp_src) * wei in s32, rounded to nearest (even) and
// saturated into dst's type. Our requantization multiplier enters as the f32
// scale[n] = multiplier * 2^-31 * 2^-shift, so the result may differ from the
// fixed-point path by one unit in the last place (allowed by the contract);
// the ReLU post-op clamps at real 0 before the zero point is added, which is
// our clamp at zero_point. Zero points are runtime arguments. Scales are too
// for matmul, so one primitive serves every layer of a shape; oneDNN 2.6's
// int8 convolutions (brgconv) accept only scales fixed at creation, so the
// conv primitive is created per (shape, scales), i.e. once per layer.
#pragma once

#include <dnnl.hpp>

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "backends/cpu/onednn_context.h"
#include "core/ops_quant.h"

namespace tinyopt::cpu {

// y's dtype as a oneDNN data type.
dnnl::memory::data_type onednn_out_type(const Tensor& y);

// The f32 output scale of each channel: the requantization multiplier's real
// value (u8 out), out.scale (f32 out) or 1 (i32 out).
std::vector<float> onednn_output_scales(const Tensor& y, const QuantOutput& out, int64_t channels);

// Attributes: per-channel output scales (mask over dst dim 1), runtime ones
// when `fixed_scales` is null; a runtime source zero point; the runtime
// destination zero point (u8 out); ReLU.
dnnl::primitive_attr onednn_quant_attr(const Tensor& y, const QuantOutput& out,
                                       const std::vector<float>* fixed_scales = nullptr);

// Per-call values for those attributes, bound as primitive arguments.
struct OnednnQuantArgs {
  std::vector<float> scales;
  int32_t src_zero = 0, dst_zero = 0;
  std::vector<dnnl::memory> keep;  // the memories wrapping the values above
  // runtime_scales: bind `scales` too (the primitive was created with runtime scales).
  void bind(const Tensor& y, const QuantOutput& out, int32_t src_zero_point, int64_t channels, bool runtime_scales,
            std::unordered_map<int, dnnl::memory>& io);
};

// Weights reordered once into the layout a primitive chose (with any
// compensation oneDNN appends for the source zero point).
struct OnednnWeights {
  dnnl::memory memory;
};
std::shared_ptr<const OnednnWeights> onednn_reordered_weights(const Tensor& w, const dnnl::memory::desc& user,
                                                              const dnnl::memory::desc& wanted,
                                                              const std::string& tag);

// i32 outputs pass through oneDNN's f32 post-processing (acc + bias as f32),
// exact only while |acc + bias| < 2^24: true when depth * 255 * 127 plus the
// largest bias stays below it. Checked per call (bias values on the host).
bool onednn_i32_output_exact(const Tensor& y, const Tensor& bias, int64_t depth);

}  // namespace tinyopt::cpu
