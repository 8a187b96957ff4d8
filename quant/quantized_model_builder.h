// Assembles the quantized Sequential from a plan: shared by quantize_model
// (layer data from calibration) and the file loader (layer data from the file).
#pragma once

#include <functional>
#include <memory>

#include "nn/sequential.h"
#include "quant/quantization_plan.h"
#include "quant/quantized_layer.h"

namespace tinyopt::quant {

// `skeleton` is the FP32 architecture built from the same config (its
// parameterless layers are moved into the result; its weights are not read).
// `layer_data` returns the quantized data of each quantized_layer step.
std::unique_ptr<nn::Sequential> build_quantized_sequential(
    nn::Sequential& skeleton, const QuantizationPlan& plan,
    const std::function<QuantizedLayerData(const PlanStep&)>& layer_data);

// Fuses each u8 QuantizedConv2d that feeds a k x k, stride-k, unpadded
// QuantizedMaxPool2d: the conv pools (its kernel requantizes only the window
// maxima) and the pool layer passes its input through. Same outputs, fewer
// requantizations; build_quantized_sequential applies it. With on = false it
// is undone (the per-layer report compares every layer's own output).
void fuse_conv_max_pool(nn::Sequential& seq, bool on = true);

}  // namespace tinyopt::quant
