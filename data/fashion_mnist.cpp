#include "data/fashion_mnist.h"

#include <filesystem>

#include "data/idx.h"

namespace tinyopt {
namespace {

constexpr int64_t kSide = 28;

std::string join_path(const std::string& dir, const char* name) { return (std::filesystem::path(dir) / name).string(); }

void require_file(const std::string& path) {
  std::error_code ec;
  TINYOPT_CHECK(std::filesystem::is_regular_file(path, ec),
                "Fashion-MNIST file '{}' not found (install it with `apt-get install dataset-fashion-mnist`)", path);
}

// [N, 1, 28, 28] f32 in [0, 1] from an IDX image file.
Tensor load_images(const std::string& path) {
  require_file(path);
  const IdxArray idx = read_idx(path, kIdxMagicImages);
  TINYOPT_CHECK(idx.dims[1] == kSide && idx.dims[2] == kSide,
                "'{}': expected {}x{} images, found {}x{}", path, kSide, kSide, idx.dims[1], idx.dims[2]);
  Tensor t = Tensor::empty({idx.dims[0], 1, kSide, kSide}, DType::f32);
  float* dst = t.data<float>();
  const size_t n = idx.data.size();
  for (size_t i = 0; i < n; ++i) dst[i] = static_cast<float>(idx.data[i]) * (1.0f / 255.0f);
  return t;
}

// [N] i64 in 0..9 from an IDX label file.
Tensor load_labels(const std::string& path) {
  require_file(path);
  const IdxArray idx = read_idx(path, kIdxMagicLabels);
  Tensor t = Tensor::empty({idx.dims[0]}, DType::i64);
  int64_t* dst = t.data<int64_t>();
  for (size_t i = 0; i < idx.data.size(); ++i) {
    TINYOPT_CHECK(idx.data[i] < kFashionMnistClasses, "'{}': label {} at index {} is outside 0..{}", path,
                  int(idx.data[i]), i, kFashionMnistClasses - 1);
    dst[i] = idx.data[i];
  }
  return t;
}

void check_counts(const Tensor& images, const Tensor& labels, const std::string& images_path,
                  const std::string& labels_path) {
  TINYOPT_CHECK(images.size(0) == labels.size(0), "Fashion-MNIST: '{}' holds {} images but '{}' holds {} labels",
                images_path, images.size(0), labels_path, labels.size(0));
}

// Rows [begin, begin + count) of a contiguous tensor, sharing its storage.
Tensor rows(const Tensor& t, int64_t begin, int64_t count) {
  Shape shape = t.shape();
  const int64_t row_elems = shape[0] == 0 ? 0 : t.numel() / shape[0];
  shape[0] = count;
  return Tensor::view_of(t.storage(), shape, t.dtype(),
                         static_cast<size_t>(begin * row_elems) * dtype_size(t.dtype()));
}

}  // namespace

FashionMnist load_fashion_mnist(const std::string& dir) {
  std::error_code ec;
  TINYOPT_CHECK(std::filesystem::is_directory(dir, ec),
                "Fashion-MNIST directory '{}' not found (install it with `apt-get install dataset-fashion-mnist`)",
                dir);
  FashionMnist out;
  out.dir = dir;
  const std::string train_images = join_path(dir, "train-images-idx3-ubyte.gz");
  const std::string train_labels = join_path(dir, "train-labels-idx1-ubyte.gz");
  const std::string test_images = join_path(dir, "t10k-images-idx3-ubyte.gz");
  const std::string test_labels = join_path(dir, "t10k-labels-idx1-ubyte.gz");
  for (const std::string& p : {train_images, train_labels, test_images, test_labels}) require_file(p);

  out.full_train_images = load_images(train_images);
  out.full_train_labels = load_labels(train_labels);
  check_counts(out.full_train_images, out.full_train_labels, train_images, train_labels);
  out.test_images = load_images(test_images);
  out.test_labels = load_labels(test_labels);
  check_counts(out.test_images, out.test_labels, test_images, test_labels);

  const int64_t n = out.full_train_images.size(0);
  TINYOPT_CHECK(n > kFashionMnistCalibrationCount,
                "Fashion-MNIST: '{}' holds {} images; the split needs more than the {} calibration images",
                train_images, n, kFashionMnistCalibrationCount);
  const int64_t n_train = n - kFashionMnistCalibrationCount;
  out.train_images = rows(out.full_train_images, 0, n_train);
  out.train_labels = rows(out.full_train_labels, 0, n_train);
  out.calibration_images = rows(out.full_train_images, n_train, kFashionMnistCalibrationCount);
  out.calibration_labels = rows(out.full_train_labels, n_train, kFashionMnistCalibrationCount);
  return out;
}

}  // namespace tinyopt
