// Model files: one .safetensors file per model, PyTorch-compatible.
//
// __metadata__["config"] is a JSON string describing the architecture:
//   sequential: {"arch": "sequential", "input_shape": [1, 28, 28], "layers": [
//                 {"type": "conv2d", "in_channels": 1, "out_channels": 32, "kernel_size": 3, ...},
//                 {"type": "relu"}, {"type": "maxpool2d", "kernel_size": 2}, {"type": "flatten"},
//                 {"type": "linear", "in_features": 1600, "out_features": 128}, ...]}
//     layer types: linear, conv2d, relu, gelu, maxpool2d, flatten, dropout, with the
//     constructor arguments of the matching torch.nn module under their PyTorch names;
//     tensors are named like torch.nn.Sequential's state_dict ("0.weight", "0.bias", ...).
//     A pruned layer may be {"type": "sparse_linear", "in_features", "out_features", "bias"}
//     with its weight in CSR: "<i>.weight.row_ptr/col_idx/values" (nn/sparse_linear.h).
//   gpt: {"arch": "gpt", "vocab_size", "n_layer", "n_head", "n_embd", "block_size", "bias"}
//     (nanoGPT's GPTConfig), tensors named as nanoGPT's state_dict; without
//     lm_head.weight the head is tied to transformer.wte.weight. __metadata__["vocab"]
//     is a JSON list of the characters in token-id order.
// Every other metadata key (e.g. measured test accuracy) is kept as is; "input"
// says what an image model takes (nn/input_contract.h).
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "nn/gpt.h"
#include "nn/init.h"
#include "nn/module.h"
#include "nn/sequential.h"

namespace tinyopt {
class SafetensorsFile;
}

namespace tinyopt::nn {

enum class ModelKind { sequential, gpt };

class Model {
 public:
  ModelKind kind = ModelKind::sequential;
  nlohmann::json config;
  std::map<std::string, std::string> metadata;  // all metadata except "config" and "vocab"
  std::vector<int64_t> input_shape;             // sequential: per-sample shape, e.g. [1, 28, 28]
  std::vector<std::string> vocab;               // gpt: token id -> character (UTF-8)
  std::unique_ptr<Module> module;

  Sequential& sequential();
  GPT& gpt();
  Tensor forward(const Tensor& x) { return module->forward(x); }
  int64_t num_classes();  // sequential: outputs of the last layer
  // Holds INT8 layers (written by quant/): its config has a "quantization" object.
  bool is_quantized() const { return config.is_object() && config.contains("quantization"); }
  // sequential: elements per sample (product of input_shape) and the shape of a batch of n.
  int64_t sample_numel() const;
  Shape batch_shape(int64_t n) const;
  // name -> tensor in PyTorch state_dict naming (tied GPT head omitted).
  std::map<std::string, Tensor> state_dict();
};

// Builds a model from its config (random init from rng when given).
// Throws a clear error naming the layer for any invalid or inconsistent config.
// `available_bytes` (when loading a file): what file_parameter_bytes() says the
// file holds; a config declaring far more parameters than that is refused
// before they are allocated.
Model build_model(const nlohmann::json& config, Rng* rng, const std::vector<std::string>& vocab = {},
                  std::optional<uint64_t> available_bytes = std::nullopt);
// 4 bytes (one f32) per element of every tensor in `file`: each parameter a
// model allocates is one element of some tensor there (an f32 weight, an i8
// quantized weight, an i32/i64 CSR offset), so this bounds what a file can
// honestly ask a model to allocate.
uint64_t file_parameter_bytes(const SafetensorsFile& file);
// The parsed metadata "config" of a model file; `path` names it in errors.
nlohmann::json read_model_config(const SafetensorsFile& file, const std::string& path);
// Builds the FP32 model (dense or with CSR layers) that a parsed file and its
// config describe and fills its weights. Every file tinyopt writes, INT8 ones
// included, is read by models::load_model (models/model_file.h), which calls this.
Model model_from_file(SafetensorsFile& file, const nlohmann::json& config, const std::string& path);
// Writes atomically; `metadata` entries are added to the model's own.
void save_model(Model& model, const std::string& path, const std::map<std::string, std::string>& metadata = {});

}  // namespace tinyopt::nn
