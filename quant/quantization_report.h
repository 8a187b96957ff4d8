// How far a quantized model strays from its FP32 original, layer by layer:
// the SQNR of each quantized layer's output (dequantized) against the FP32
// layer's output on the same images, and how many values the clamps to
// [0, 255] changed (at the input quantize and in each requantization).
#pragma once

#include <string>
#include <vector>

#include "nn/model.h"
#include "quant/eval_only_module.h"

namespace tinyopt::quant {

struct LayerReport {
  std::string name;          // "layer 3 (conv2d) + relu"
  bool u8_output = false;
  double sqnr_db = 0;        // 10 log10(sum ref^2 / sum (ref - quantized)^2); +inf when equal
  SaturationStats saturation;  // requantization clamps (u8 outputs only)
};

struct QuantizationReport {
  int64_t images = 0;
  SaturationStats input_saturation;  // all quantize steps together
  std::vector<LayerReport> layers;
};

// `images` shaped for the model ([N, ...input_shape]); run in batches of `batch`.
QuantizationReport analyze_quantization(nn::Model& fp32, nn::Model& int8, const Tensor& images, int64_t batch = 100);

}  // namespace tinyopt::quant
