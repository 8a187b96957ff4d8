// Sparse storage and SparseLinear: spmm's CSR validation (out of range,
// unsorted, duplicate columns, non-monotone row_ptr, wrong sizes), SparseLinear
// against the dense Linear it came from, to_sparse(), sparse model files
// (round trip through models::load_model, malformed CSR in a file named by tensor).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "core/dispatcher.h"
#include "core/ops_sparse.h"
#include "io/safetensors.h"
#include "models/model_file.h"
#include "nn/linear.h"
#include "nn/model.h"
#include "nn/reference_models.h"
#include "nn/sparse_linear.h"
#include "prune/magnitude_pruner.h"
#include "prune/sparse_model.h"
#include "tests/test_io_util.h"

using namespace tinyopt;

namespace {

Tensor i32s(const std::vector<int32_t>& v) {
  Tensor t = Tensor::empty({int64_t(v.size())}, DType::i32);
  std::copy(v.begin(), v.end(), t.data<int32_t>());
  return t;
}

Tensor f32s(const std::vector<float>& v, const Shape& shape) {
  Tensor t = Tensor::empty(shape, DType::f32);
  std::copy(v.begin(), v.end(), t.data<float>());
  return t;
}

Tensor random_f32(const Shape& shape, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> d(-1, 1);
  Tensor t = Tensor::empty(shape, DType::f32);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = d(rng);
  return t;
}

// W = [[0, 2, 0], [0, 0, 0], [1, 0, 3]] as CSR, x [2, 3].
struct Small {
  Tensor row_ptr = i32s({0, 1, 1, 3});
  Tensor col_idx = i32s({1, 0, 2});
  Tensor values = f32s({2, 1, 3}, {3});
  Tensor x = f32s({1, 2, 3, 4, 5, 6}, {2, 3});
};

}  // namespace

TEST(Spmm, ComputesXTimesWTransposedPlusBias) {
  Small s;
  Tensor bias = f32s({10, 20, 30}, {3});
  for (const char* variant : {"cpu.naive", "cpu.blocked"}) {
    OptimizedBackend::instance();
    for (const auto& v : ops::spmm.variants()) {
      if (v.name != variant) continue;
      SpmmArgs a{s.x, s.row_ptr, s.col_idx, s.values, bias, Tensor::empty({2, 3}, DType::f32)};
      ops::spmm.run_variant(v, a);
      const float* y = a.y.data<float>();
      // row 0 of x = [1, 2, 3]: [2*2 + 10, 20, 1*1 + 3*3 + 30]
      EXPECT_FLOAT_EQ(y[0], 14) << variant;
      EXPECT_FLOAT_EQ(y[1], 20) << variant;
      EXPECT_FLOAT_EQ(y[2], 40) << variant;
      EXPECT_FLOAT_EQ(y[3], 2 * 5 + 10) << variant;
      EXPECT_FLOAT_EQ(y[5], 4 + 18 + 30) << variant;
    }
  }
}

TEST(Spmm, RejectsMalformedCsrWithAClearError) {
  Small s;
  auto call = [&](const Tensor& rp, const Tensor& ci, const Tensor& v) {
    spmm(s.x, rp, ci, v, Tensor(), 3);
  };
  test::expect_error([&] { call(i32s({0, 1, 1, 3}), i32s({1, 0, 3}), s.values); }, {"col_idx[2] = 3", "out of range"});
  test::expect_error([&] { call(i32s({0, 1, 1, 3}), i32s({1, 0, -1}), s.values); }, {"out of range"});
  test::expect_error([&] { call(i32s({0, 1, 1, 3}), i32s({1, 2, 0}), s.values); }, {"strictly increasing", "row 2"});
  test::expect_error([&] { call(i32s({0, 1, 1, 3}), i32s({1, 2, 2}), s.values); }, {"no duplicates"});
  test::expect_error([&] { call(i32s({0, 2, 1, 3}), i32s({1, 0, 2}), s.values); }, {"not monotone"});
  test::expect_error([&] { call(i32s({1, 1, 1, 3}), i32s({1, 0, 2}), s.values); }, {"row_ptr[0] must be 0"});
  test::expect_error([&] { call(i32s({0, 1, 1, 2}), i32s({1, 0, 2}), s.values); }, {"must equal the number of stored"});
  test::expect_error([&] { call(i32s({0, 1, 3}), i32s({1, 0, 2}), s.values); }, {"N + 1"});
  test::expect_error([&] { call(s.row_ptr, s.col_idx, f32s({1, 2}, {2})); }, {"equal length"});
}

TEST(SparseLinear, MatchesTheDenseLinearItCameFrom) {
  nn::Rng rng(3);
  nn::Linear dense("0", 37, 19, true, &rng);
  const prune::MaskResult m = prune::MagnitudePruner::prune(dense.weight.value, 0.8);
  prune::apply_mask(dense.weight, m.mask);
  nn::SparseLinear sparse("0", 37, 19, true);
  sparse.set_dense(dense.weight.value);
  sparse.bias.value.copy_from(dense.bias.value);
  EXPECT_EQ(sparse.nnz(), m.stats.nonzero_after);
  EXPECT_NEAR(double(sparse.nnz()) / (37 * 19), 0.2, 0.01);
  for (int64_t batch : {1, 7, 64}) {
    const Tensor x = random_f32({batch, 37}, 5 + batch);
    const Tensor yd = dense.forward(x), ys = sparse.forward(x);
    for (int64_t i = 0; i < yd.numel(); ++i) EXPECT_NEAR(ys.data<float>()[i], yd.data<float>()[i], 1e-5) << i;
  }
  const Tensor back = sparse.to_dense();
  for (int64_t i = 0; i < back.numel(); ++i) EXPECT_EQ(back.data<float>()[i], dense.weight.value.data<float>()[i]);
  sparse.set_training(true);
  test::expect_error([&] { sparse.backward(Tensor::zeros({1, 19}, DType::f32)); }, {"fine-tune the masked dense"});
}

TEST(SparseModel, ToSparseSavesAndLoadsLikeAnyModel) {
  test::ScratchDir dir;
  nn::Rng rng(7);
  nn::Model model = nn::build_model(nn::mlp_config(), &rng);
  prune::MagnitudePruner::prune_global(prune::prunable_weights(model), 0.9);
  EXPECT_NEAR(prune::measured_weight_sparsity(model), 0.9, 1e-4);
  nn::Model sparse = prune::to_sparse(model, 0.5);
  EXPECT_EQ(sparse.config["layers"][1]["type"], "sparse_linear");  // mlp: flatten, linear, relu, ...
  EXPECT_NEAR(prune::measured_sparsity(sparse), prune::measured_sparsity(model), 1e-12);
  EXPECT_LT(sparse.module->parameter_count(), model.module->parameter_count() / 5);
  const std::string path = dir.file("sparse.safetensors");
  nn::save_model(sparse, path);
  nn::Model loaded = models::load_model(path);
  EXPECT_EQ(loaded.num_classes(), 10);
  const Tensor x = random_f32(model.batch_shape(13), 11);
  const Tensor yd = model.forward(x), yl = loaded.forward(x);
  for (int64_t i = 0; i < yd.numel(); ++i) EXPECT_NEAR(yl.data<float>()[i], yd.data<float>()[i], 1e-4);
  // The file holds three CSR tensors per sparse layer and no dense weight.
  const SafetensorsFile f = load_safetensors(path);
  EXPECT_TRUE(f.contains("1.weight.row_ptr") && f.contains("1.weight.col_idx") && f.contains("1.weight.values"));
  EXPECT_FALSE(f.contains("1.weight"));
  EXPECT_EQ(f.tensors.at("1.weight.row_ptr").dtype(), DType::i32);
}

TEST(SparseModel, MalformedCsrInAFileNamesTheTensor) {
  test::ScratchDir dir;
  nn::Rng rng(7);
  nn::Model model = nn::build_model(nn::mlp_config(), &rng);
  prune::MagnitudePruner::prune_global(prune::prunable_weights(model), 0.9);
  nn::Model sparse = prune::to_sparse(model, 0.0);  // every linear layer in CSR
  std::map<std::string, Tensor> tensors = sparse.state_dict();
  std::map<std::string, std::string> meta = {{"config", sparse.config.dump()}};
  auto write_with = [&](const std::string& name, const Tensor& t) {
    std::map<std::string, Tensor> changed = tensors;
    changed[name] = t;
    const std::string path = dir.file("bad.safetensors");
    save_safetensors(path, changed, meta);
    return path;
  };
  // Column out of range.
  Tensor ci = tensors.at("3.weight.col_idx").clone();
  ci.data<int32_t>()[0] = 128;
  std::string p = write_with("3.weight.col_idx", ci);
  test::expect_error([&] { models::load_model(p); }, {"bad.safetensors", "3.weight.", "out of range"});
  // Unsorted columns within a row.
  ci = tensors.at("1.weight.col_idx").clone();
  std::swap(ci.data<int32_t>()[0], ci.data<int32_t>()[1]);
  p = write_with("1.weight.col_idx", ci);
  test::expect_error([&] { models::load_model(p); }, {"1.weight.", "strictly increasing"});
  // row_ptr of the wrong length / dtype; values of the wrong length.
  p = write_with("1.weight.row_ptr", Tensor::zeros({5}, DType::i32));
  test::expect_error([&] { models::load_model(p); }, {"1.weight.row_ptr", "[129]"});
  p = write_with("1.weight.row_ptr", Tensor::zeros({129}, DType::f32));
  test::expect_error([&] { models::load_model(p); }, {"1.weight.row_ptr", "I32 or I64"});
  p = write_with("5.weight.values", Tensor::zeros({3}, DType::f32));
  test::expect_error([&] { models::load_model(p); }, {"5.weight.values"});
  // A missing CSR tensor.
  std::map<std::string, Tensor> missing = tensors;
  missing.erase("5.weight.col_idx");
  save_safetensors(dir.file("missing.safetensors"), missing, meta);
  test::expect_error([&] { models::load_model(dir.file("missing.safetensors")); }, {"5.weight.col_idx"});
}
