// The three reference architectures of the TinyMLPerf events (the plan's
// benchmarks/*.pkl), as model-file configs.
#pragma once

#include <nlohmann/json.hpp>

namespace tinyopt::nn {

// MLP Sprint: 784 -> 128 -> 64 -> 10 with ReLU.
nlohmann::json mlp_config();
// CNN Marathon: conv 1->32 k3, ReLU, maxpool 2, conv 32->64 k3, ReLU, maxpool 2,
// flatten (1600), linear 1600->128, ReLU, linear 128->10.
nlohmann::json cnn_config();
// Transformer Decathlon: char-level GPT, 4 layers, 4 heads, 128 wide, context 256.
nlohmann::json gpt_config(int64_t vocab_size);

}  // namespace tinyopt::nn
