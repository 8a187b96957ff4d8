#include <gtest/gtest.h>

#include <filesystem>

#include "data/fashion_mnist.h"
#include "data/idx.h"
#include "test_io_util.h"

using namespace tinyopt;
using tinyopt::test::expect_error;
using tinyopt::test::ScratchDir;

namespace {

// Small synthetic Fashion-MNIST files: `n_train` / `n_test` images of 28x28.
void write_fake_dataset(const std::string& dir, int64_t n_train, int64_t n_train_labels, int64_t n_test,
                        uint8_t bad_label = 0) {
  auto images = [](int64_t n) {
    IdxArray a;
    a.dims = {n, 28, 28};
    a.data.resize(static_cast<size_t>(n) * 784);
    for (size_t i = 0; i < a.data.size(); ++i) a.data[i] = static_cast<uint8_t>(i / 784 % 256);
    return a;
  };
  auto labels = [](int64_t n) {
    IdxArray a;
    a.dims = {n};
    for (int64_t i = 0; i < n; ++i) a.data.push_back(static_cast<uint8_t>(i % 10));
    return a;
  };
  write_idx_gz(dir + "/train-images-idx3-ubyte.gz", images(n_train));
  IdxArray train_labels = labels(n_train_labels);
  if (bad_label) train_labels.data[3] = bad_label;
  write_idx_gz(dir + "/train-labels-idx1-ubyte.gz", train_labels);
  write_idx_gz(dir + "/t10k-images-idx3-ubyte.gz", images(n_test));
  write_idx_gz(dir + "/t10k-labels-idx1-ubyte.gz", labels(n_test));
}

}  // namespace

TEST(FashionMnist, RealDatasetCountsRangesAndSplit) {
  if (!std::filesystem::is_directory(kFashionMnistDefaultDir))
    GTEST_SKIP() << kFashionMnistDefaultDir << " is missing (apt-get install dataset-fashion-mnist)";
  const FashionMnist d = load_fashion_mnist();
  EXPECT_EQ(d.full_train_images.shape(), Shape({60000, 1, 28, 28}));
  EXPECT_EQ(d.full_train_labels.shape(), Shape({60000}));
  EXPECT_EQ(d.train_images.shape(), Shape({55000, 1, 28, 28}));
  EXPECT_EQ(d.train_labels.shape(), Shape({55000}));
  EXPECT_EQ(d.calibration_images.shape(), Shape({5000, 1, 28, 28}));
  EXPECT_EQ(d.calibration_labels.shape(), Shape({5000}));
  EXPECT_EQ(d.test_images.shape(), Shape({10000, 1, 28, 28}));
  EXPECT_EQ(d.test_labels.shape(), Shape({10000}));
  EXPECT_EQ(d.train_images.dtype(), DType::f32);
  EXPECT_EQ(d.train_labels.dtype(), DType::i64);

  for (const Tensor* images : {&d.full_train_images, &d.test_images}) {
    const float* p = images->data<float>();
    float lo = 1e9f, hi = -1e9f;
    double sum = 0;
    for (int64_t i = 0; i < images->numel(); ++i) {
      lo = std::min(lo, p[i]);
      hi = std::max(hi, p[i]);
      sum += p[i];
    }
    EXPECT_EQ(lo, 0.0f);
    EXPECT_EQ(hi, 1.0f);
    EXPECT_NEAR(sum / images->numel(), 0.286, 0.01);  // Fashion-MNIST's well-known mean pixel
  }
  // Both official sets are balanced: 6,000 / 1,000 per class.
  for (const auto& [labels, per_class] : {std::pair{&d.full_train_labels, 6000}, std::pair{&d.test_labels, 1000}}) {
    std::vector<int> counts(10, 0);
    for (int64_t i = 0; i < labels->numel(); ++i) {
      const int64_t l = labels->data<int64_t>()[i];
      ASSERT_GE(l, 0);
      ASSERT_LT(l, 10);
      ++counts[l];
    }
    for (int c = 0; c < 10; ++c) EXPECT_EQ(counts[c], per_class) << "class " << c;
  }
  // The split: train = rows [0, 55000), calibration = rows [55000, 60000) of the official train set.
  EXPECT_EQ(d.train_images.data<float>(), d.full_train_images.data<float>());
  EXPECT_EQ(d.calibration_images.data<float>(), d.full_train_images.data<float>() + 55000 * 784);
  EXPECT_EQ(d.calibration_labels.data<int64_t>()[4999], d.full_train_labels.data<int64_t>()[59999]);
  EXPECT_EQ(d.train_labels.data<int64_t>()[0], 9);  // the first training image is an ankle boot
}

TEST(FashionMnist, SyntheticFilesGiveTheFixedSplit) {
  ScratchDir dir;
  write_fake_dataset(dir.path(), 5003, 5003, 4);
  const FashionMnist d = load_fashion_mnist(dir.path());
  EXPECT_EQ(d.train_images.shape(), Shape({3, 1, 28, 28}));
  EXPECT_EQ(d.calibration_images.shape(), Shape({5000, 1, 28, 28}));
  EXPECT_EQ(d.test_images.shape(), Shape({4, 1, 28, 28}));
  EXPECT_FLOAT_EQ(d.train_images.data<float>()[784 * 2], 2.0f / 255.0f);
  EXPECT_FLOAT_EQ(d.calibration_images.data<float>()[0], 3.0f / 255.0f);
  EXPECT_EQ(d.calibration_labels.data<int64_t>()[0], 3);
  EXPECT_EQ(d.test_labels.data<int64_t>()[3], 3);
}

TEST(FashionMnist, ClearErrorsForMissingOrInconsistentFiles) {
  ScratchDir dir;
  const std::string missing = dir.file("nope");
  expect_error([&] { load_fashion_mnist(missing); }, {missing, "apt-get install dataset-fashion-mnist"});

  expect_error([&] { load_fashion_mnist(dir.path()); },
               {dir.file("train-images-idx3-ubyte.gz"), "apt-get install dataset-fashion-mnist"});

  write_fake_dataset(dir.path(), 5003, 5002, 4);
  expect_error([&] { load_fashion_mnist(dir.path()); }, {"5003 images", "5002 labels"});

  write_fake_dataset(dir.path(), 5003, 5003, 4, /*bad_label=*/12);
  expect_error([&] { load_fashion_mnist(dir.path()); }, {"label 12 at index 3", "train-labels-idx1-ubyte.gz"});

  write_fake_dataset(dir.path(), 100, 100, 4);
  expect_error([&] { load_fashion_mnist(dir.path()); }, {"100 images", "5000 calibration"});

  // A labels file where an images file belongs.
  write_fake_dataset(dir.path(), 5003, 5003, 4);
  std::filesystem::copy_file(dir.file("t10k-labels-idx1-ubyte.gz"), dir.file("t10k-images-idx3-ubyte.gz"),
                             std::filesystem::copy_options::overwrite_existing);
  expect_error([&] { load_fashion_mnist(dir.path()); }, {"t10k-images-idx3-ubyte.gz", "wrong IDX magic"});
}
