#include "models/model_file.h"

#include "io/safetensors.h"
#include "quant/quantized_model_file.h"

namespace tinyopt::models {

namespace {

// The config says which kind of model the file holds: an INT8 model carries
// a "quantization" object (its own tensors and checks), anything else is FP32.
nn::Model model_from_file(SafetensorsFile& file, const std::string& path) {
  const nlohmann::json config = nn::read_model_config(file, path);
  if (config.is_object() && config.contains("quantization")) return quant::load_quantized_model(file, config);
  return nn::model_from_file(file, config, path);
}

}  // namespace

nn::Model load_model(const std::string& path) {
  SafetensorsFile file = load_safetensors(path);
  return model_from_file(file, path);
}

nn::Model load_model_from_bytes(const std::string& bytes, const std::string& name) {
  SafetensorsFile file = parse_safetensors(bytes, name);
  return model_from_file(file, name);
}

}  // namespace tinyopt::models
