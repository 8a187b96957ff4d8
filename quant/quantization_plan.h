// Which layers of a sequential model run in INT8 and where the data changes
// domain, decided from the layer list alone (so quantize_model and the file
// loader agree without storing the plan).
//
// Rules:
// - linear and conv2d are quantized. A ReLU that follows (dropouts in between
//   are identities in eval mode) is fused as a clamp.
// - A quantized layer writes u8 when another quantized layer consumes its
//   output through u8-capable layers only (maxpool2d, flatten, dropout, relu);
//   otherwise (the logits, or a float op such as gelu next) it writes f32
//   through the kernels' f32 output mode, so no dequantize is needed.
// - f32 data entering a quantized layer passes a Quantize step first; u8 data
//   entering a float-only layer (gelu, or any type the quantizer does not
//   know) passes a Dequantize step. Such layers stay FP32 with a note.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tinyopt::quant {

struct PlanStep {
  enum class Kind { quantize, quantized_layer, u8_layer, float_layer, dequantize };
  Kind kind;
  int layer = -1;            // index in the FP32 layer list (-1 for quantize/dequantize)
  std::string type;          // the FP32 layer's type
  bool fuse_relu = false;    // quantized_layer: the ReLU at `relu_layer` is fused
  int relu_layer = -1;
  bool u8_output = false;    // quantized_layer: u8 (true) or f32 (false) output
  // Index of the FP32 layer whose output this step's output equals: the
  // observation point for quantize steps' input (-1 = the model input) and
  // quantized layers' output.
  int point = -1;
};

struct QuantizationPlan {
  std::vector<PlanStep> steps;
  std::vector<std::string> notes;  // layers left in FP32, and why
  std::vector<int> quantized_layers() const;
};

// `layers` is the config's "layers" list (types only are read).
QuantizationPlan plan_quantization(const nlohmann::json& layers);

}  // namespace tinyopt::quant
