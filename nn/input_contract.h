// What an image model expects as input, stored with the model: metadata key
// "input", a JSON object written by `tinyopt train` and kept by prune and
// quantize:
//   {"dtype": "float32", "range": [0, 1], "normalization": "pixel / 255, ..."}
// The shape is the config's input_shape (per sample), so it is not repeated.
// A model trained on differently scaled data computes garbage without any
// error; the contract lets `tinyopt infer` say so (a min/max scan, cheap next
// to a forward pass).
#pragma once

#include <optional>
#include <string>

#include "core/tensor.h"

namespace tinyopt::nn {

class Model;

inline constexpr const char* kInputMetadataKey = "input";

struct InputContract {
  std::string dtype = "float32";
  double lo = 0, hi = 1;       // declared value range
  std::string normalization;   // how raw data becomes that range, in words

  std::string to_json() const;  // the metadata value
  // "float32 in [0, 1] (pixel / 255, ...)": for --help and messages.
  std::string describe() const;
};

// The contract of the reference models (benchmarks/*.safetensors): Fashion-MNIST
// pixel / 255, no mean/std normalization (data/fashion_mnist.h).
InputContract reference_image_input();

// The model's contract, or nothing when its metadata has no "input" key.
// A malformed value is an error naming `path` and the key.
std::optional<InputContract> input_contract(const Model& model, const std::string& path);

// Values beyond the declared range by more than this fraction of its width
// are "far outside": wide enough for noise or slight augmentation, far
// narrower than what the common mistakes give (0..255 pixels: 254 widths
// over; torchvision mean/std normalization of Fashion-MNIST: down to -0.81).
inline constexpr double kInputRangeMargin = 0.25;

// One min/max scan over `x` (f32). Empty when the values lie within the
// contract's range (with the margin); otherwise a one-line warning with the
// range found, the range expected and, when the numbers say so, the likely
// mistake (0..255 pixels, mean/std normalized input). NaN values are ignored.
std::string check_input_range(const InputContract& contract, const Tensor& x);

}  // namespace tinyopt::nn
