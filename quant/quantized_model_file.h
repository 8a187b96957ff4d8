// Quantized model files: the safetensors layout of a model made by
// quantize_model (docs/QUANTIZATION.md describes it in full).
//
// __metadata__["config"] is the FP32 sequential config plus a "quantization"
// object {"format_version": 1, "scheme", "observer", "calibration_size",
// "layers": [indices of the quantized layers], ...}. For each quantized layer i:
//   i.weight            I8  [same shape as the FP32 weight], values in [-127, 127]
//   i.weight_scale      F32 [out]   finite, > 0
//   i.bias              I32 [out]   (when the FP32 layer has a bias)
//   i.input_scale       F32 [1]     finite, > 0
//   i.input_zero_point  I32 [1]     in [0, 255]
//   i.output_scale      F32 [1]     only when the layer writes u8
//   i.output_zero_point I32 [1]     only when the layer writes u8
// Save with nn::save_model (atomic); models::load_model calls the loader below
// when the config has a "quantization" object.
#pragma once

#include <nlohmann/json.hpp>

#include "io/safetensors.h"
#include "nn/model.h"

namespace tinyopt::quant {

// Every error names the file and the offending tensor or config key.
nn::Model load_quantized_model(const SafetensorsFile& file, const nlohmann::json& config);

}  // namespace tinyopt::quant
