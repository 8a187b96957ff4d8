#include "nn/reference_models.h"

namespace tinyopt::nn {

using json = nlohmann::json;

json mlp_config() {
  return {{"arch", "sequential"},
          {"input_shape", {1, 28, 28}},
          {"layers",
           {{{"type", "flatten"}},
            {{"type", "linear"}, {"in_features", 784}, {"out_features", 128}, {"bias", true}},
            {{"type", "relu"}},
            {{"type", "linear"}, {"in_features", 128}, {"out_features", 64}, {"bias", true}},
            {{"type", "relu"}},
            {{"type", "linear"}, {"in_features", 64}, {"out_features", 10}, {"bias", true}}}}};
}

json cnn_config() {
  auto conv = [](int in, int out) {
    return json{{"type", "conv2d"}, {"in_channels", in}, {"out_channels", out}, {"kernel_size", 3},
                {"stride", 1},      {"padding", 0},      {"bias", true}};
  };
  const json pool = {{"type", "maxpool2d"}, {"kernel_size", 2}, {"stride", 2}, {"padding", 0}};
  return {{"arch", "sequential"},
          {"input_shape", {1, 28, 28}},
          {"layers",
           {conv(1, 32), {{"type", "relu"}}, pool, conv(32, 64), {{"type", "relu"}}, pool, {{"type", "flatten"}},
            {{"type", "linear"}, {"in_features", 1600}, {"out_features", 128}, {"bias", true}},
            {{"type", "relu"}},
            {{"type", "linear"}, {"in_features", 128}, {"out_features", 10}, {"bias", true}}}}};
}

json gpt_config(int64_t vocab_size) {
  return {{"arch", "gpt"}, {"vocab_size", vocab_size}, {"n_layer", 4},   {"n_head", 4},
          {"n_embd", 128}, {"block_size", 256},        {"bias", true}};
}

}  // namespace tinyopt::nn
