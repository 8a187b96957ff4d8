// Fashion-MNIST (Xiao et al. 2017) from Debian's `dataset-fashion-mnist`
// package: four gzip'd IDX files, 60,000 training and 10,000 test images of
// 28x28 grey pixels, labels 0..9 (T-shirt/top, Trouser, Pullover, Dress, Coat,
// Sandal, Shirt, Sneaker, Bag, Ankle boot).
//
// The fixed split every part of tinyopt uses: `train` = the first 55,000
// images of the official training set, `calibration` = its last 5,000 (for
// quantization calibration and validation); `test` = the official test set,
// never used for calibration or model selection.
#pragma once

#include <array>
#include <string>

#include "core/tensor.h"

namespace tinyopt {

inline constexpr const char* kFashionMnistDefaultDir = "/usr/share/datasets/fashion-mnist";
inline constexpr int64_t kFashionMnistCalibrationCount = 5000;
inline constexpr int kFashionMnistClasses = 10;
inline constexpr std::array<const char*, 10> kFashionMnistClassNames = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};

// Images are f32 [N, 1, 28, 28] (NCHW) with pixel / 255 in [0, 1]; labels are
// i64 [N] in 0..9 (int64 like PyTorch's class targets).
// train_* and calibration_* are views into the storage of full_train_*, so
// the split costs no copy.
struct FashionMnist {
  std::string dir;
  Tensor full_train_images, full_train_labels;  // the official 60,000
  Tensor train_images, train_labels;            // first N - 5,000
  Tensor calibration_images, calibration_labels;  // last 5,000
  Tensor test_images, test_labels;              // the official 10,000
};

// Loads the four files from `dir` (train-images-idx3-ubyte.gz,
// train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz,
// t10k-labels-idx1-ubyte.gz). Errors name the path: a missing directory or
// file suggests `apt-get install dataset-fashion-mnist`; image and label
// counts must agree, images must be 28x28, labels in 0..9, and the training
// set must be larger than the calibration set.
FashionMnist load_fashion_mnist(const std::string& dir = kFashionMnistDefaultDir);

}  // namespace tinyopt
