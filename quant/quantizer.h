// Post-training static INT8 quantization of sequential models.
//
//   nn::Model q = quant::quantize_model(fp32, calibration_images, options);
//
// INT8Quantizer::calibrate runs the calibration images (Fashion-MNIST's fixed
// calibration split, never test data) through the FP32 model layer by layer,
// with an observer on every tensor that becomes u8: the input of each
// quantize step and the output of each quantized layer that writes u8 (after
// its fused ReLU). quantize() then quantizes the weights (per channel) and
// biases and builds the quantized model (see quantization_plan.h for which
// layers are quantized). The result saves with nn::save_model and loads
// with models::load_model; its config carries a "quantization" object, its
// metadata is the FP32 model's. A pruned model's sparse_linear (CSR) layers
// are quantized as dense INT8 linear layers: 0 quantizes to 0, so the pruned
// zeros are kept exactly. A model with no layer to quantize is an error.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "nn/model.h"
#include "quant/qparams.h"
#include "quant/quantization_plan.h"

namespace tinyopt::quant {

// The observer that gave the best test accuracy on the reference models
// (docs/QUANTIZATION.md has the comparison).
inline constexpr const char* kDefaultObserver = "moving";

struct QuantizeOptions {
  std::string observer = kDefaultObserver;  // minmax | moving | percentile | entropy | mse
  int64_t calibration_size = 0;             // the first N calibration images (0 = all given)
  double percentile = 99.99;                // for "percentile"
  int64_t batch_size = 100;                 // calibration batch size (the moving average steps per batch)
};

struct CalibrationResult {
  QuantizationPlan plan;
  std::map<int, QParams> qparams;                     // observation point -> parameters
  std::map<int, std::pair<double, double>> observed;  // point -> exact [min, max] seen
  int64_t images = 0;
};

class INT8Quantizer {
 public:
  explicit INT8Quantizer(QuantizeOptions options = {});
  // Throws for an empty calibration set, a size mismatch, NaN/Inf (naming the
  // layer) or a model that is not sequential / already quantized.
  CalibrationResult calibrate(nn::Model& model, const Tensor& calibration_set);
  nn::Model quantize(nn::Model& model, const CalibrationResult& calibration);

 private:
  QuantizeOptions options_;
};

nn::Model quantize_model(nn::Model& fp32, const Tensor& calibration_images, const QuantizeOptions& options = {});
bool is_quantized(const nn::Model& model);

// "model input" or "layer 3 (relu) output": how errors and reports name an observation point.
std::string point_name(const nlohmann::json& layers, int point);

}  // namespace tinyopt::quant
