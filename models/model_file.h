// Reading any model file tinyopt writes: FP32 sequential and GPT models
// (nn/), pruned models with CSR layers (nn/ and prune/), and INT8 models
// (quant/). This layer sits above every technique, so nn/ never has to know
// the file formats the layers above it add.
//
// Every error names the file and the offending tensor or config key. Models
// are written with nn::save_model (atomic) whatever their kind.
#pragma once

#include <string>

#include "nn/model.h"

namespace tinyopt::models {

nn::Model load_model(const std::string& path);
// Same, from the bytes of a model file held in memory; `name` stands in for
// the path in errors (the fuzz targets and in-memory payloads use this).
nn::Model load_model_from_bytes(const std::string& bytes, const std::string& name);

}  // namespace tinyopt::models
