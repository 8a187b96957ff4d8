// `tinyopt prune` end to end on a small random model and real Fashion-MNIST:
// the JSON report, the saved sparse model working with `tinyopt eval`, and
// bad input (sparsity outside [0, 1), pruning every filter, malformed CSR in a
// model file) exiting non-zero with a clear error. Fine-tuning runs unless
// --finetune-epochs 0, which then reports no fine-tuned accuracy, and a drop
// beyond --max-accuracy-drop is a warning on stderr.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "data/fashion_mnist.h"
#include "io/safetensors.h"
#include "models/model_file.h"
#include "nn/model.h"
#include "tests/test_io_util.h"

using namespace tinyopt;
using nlohmann::json;

namespace {

int run(const std::string& cmd) { return std::system(cmd.c_str()); }

bool have_fashion_mnist() { return std::filesystem::exists(std::string(kFashionMnistDefaultDir) + "/t10k-images-idx3-ubyte.gz"); }

// An input contract as `tinyopt train` writes it: prune must keep it.
const std::map<std::string, std::string> kInputMeta = {{"input", R"({"dtype":"float32","range":[0,1]})"}};

std::string small_model(const test::ScratchDir& dir, const json& layers, const json& input_shape) {
  nn::Rng rng(3);
  nn::Model model = nn::build_model({{"arch", "sequential"}, {"input_shape", input_shape}, {"layers", layers}}, &rng);
  const std::string path = dir.file("small.safetensors");
  nn::save_model(model, path, kInputMeta);
  return path;
}

std::string small_mlp(const test::ScratchDir& dir) {
  return small_model(dir,
                     {{{"type", "linear"}, {"in_features", 784}, {"out_features", 24}},
                      {{"type", "relu"}},
                      {{"type", "linear"}, {"in_features", 24}, {"out_features", 10}}},
                     {784});
}

std::string small_cnn(const test::ScratchDir& dir) {
  return small_model(dir,
                     {{{"type", "conv2d"}, {"in_channels", 1}, {"out_channels", 2}, {"kernel_size", 5}, {"stride", 3}},
                      {{"type", "relu"}},
                      {{"type", "flatten"}},
                      {{"type", "linear"}, {"in_features", 2 * 8 * 8}, {"out_features", 10}}},
                     {1, 28, 28});
}

}  // namespace

TEST(PruneCommand, ReportsAndSavesAModelEveryCommandLoads) {
  if (!have_fashion_mnist()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  test::ScratchDir dir;
  const std::string cli = TINYOPT_CLI_PATH, model = small_mlp(dir), out = dir.file("pruned.safetensors");
  const std::string report = dir.file("report.json");
  ASSERT_EQ(run(cli + " prune --model " + model + " --sparsity 0.8 --global --seconds 0.02 --out " + out +
                " --json >" + report),
            0);
  std::ifstream in(report);
  const json r = json::parse(in);
  EXPECT_NEAR(r["weight_sparsity"].get<double>(), 0.8, 0.01);
  EXPECT_EQ(r["saved_as"], "sparse");
  EXPECT_LT(r["file_bytes_after"].get<int64_t>(), r["file_bytes_before"].get<int64_t>());
  EXPECT_LT(r["nonzero_params_after"].get<int64_t>(), r["params_before"].get<int64_t>() / 4);
  ASSERT_EQ(r["latency"].size(), 2u);
  EXPECT_GT(r["latency"][1]["pruned"]["p50_s"].get<double>(), 0.0);
  // Fine-tuned by default, each epoch reported.
  EXPECT_EQ(r["finetune_epochs"], 2);
  EXPECT_EQ(r["finetune"].size(), 2u);
  const double acc = r["test_accuracy_after_finetune"].get<double>();
  EXPECT_GE(acc, 0.0);
  EXPECT_LE(acc, 1.0);
  EXPECT_EQ(r["test_accuracy_final"].get<double>(), acc);
  EXPECT_EQ(models::load_model(out).metadata.at("input"), kInputMeta.at("input"));
  // The sparse file evaluates like any model.
  const std::string eval = dir.file("eval.json");
  ASSERT_EQ(run(cli + " eval --model " + out + " --json >" + eval), 0);
  std::ifstream e(eval);
  EXPECT_NEAR(json::parse(e)["test_accuracy"].get<double>(), r["test_accuracy_saved_model"].get<double>(), 1e-9);
  EXPECT_EQ(load_safetensors(out).tensors.count("0.weight.row_ptr"), 1u);
}

TEST(PruneCommand, WithoutFineTuningSaysSoAndWarnsAboutTheDrop) {
  if (!have_fashion_mnist()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  test::ScratchDir dir;
  const std::string cli = TINYOPT_CLI_PATH, mlp = std::string(TINYOPT_SOURCE_DIR) + "/benchmarks/mlp.safetensors";
  const std::string out = dir.file("p.safetensors"), report = dir.file("r.json"), err = dir.file("err");
  // 90% without fine-tuning loses far more than 2 points on the reference MLP.
  const std::string args = " prune --model " + mlp + " --sparsity 0.9 --finetune-epochs 0 --seconds 0.02 --out " + out;
  ASSERT_EQ(run(cli + args + " --json >" + report + " 2>" + err), 0);
  std::ifstream in(report);
  const json r = json::parse(in);
  EXPECT_TRUE(r["global"].get<bool>());  // the default for unstructured pruning
  EXPECT_TRUE(r["test_accuracy_after_finetune"].is_null()) << r["test_accuracy_after_finetune"];
  EXPECT_TRUE(r["finetune"].empty());
  EXPECT_EQ(r["test_accuracy_after_pruning"].get<double>(), r["test_accuracy_final"].get<double>());
  EXPECT_GT(r["accuracy_drop_points"].get<double>(), 2.0);
  EXPECT_EQ(r["max_accuracy_drop_points"].get<double>(), 2.0);
  EXPECT_TRUE(r["accuracy_drop_exceeded"].get<bool>());
  const std::string warning = test::read_bytes(err);
  EXPECT_NE(warning.find("warning: prune: test accuracy fell"), std::string::npos) << warning;
  EXPECT_NE(warning.find("--max-accuracy-drop 2"), std::string::npos) << warning;
  EXPECT_NE(warning.find("no fine-tuning ran"), std::string::npos) << warning;
  EXPECT_TRUE(std::filesystem::exists(out));  // a warning: the model is still written

  // The text report has no "after fine-tuning"; a looser threshold silences the warning.
  const std::string text = dir.file("out.txt");
  ASSERT_EQ(run(cli + args + " --max-accuracy-drop 99 >" + text + " 2>" + err), 0);
  const std::string printed = test::read_bytes(text);
  EXPECT_EQ(printed.find("after fine-tuning"), std::string::npos) << printed;
  EXPECT_NE(printed.find("not fine-tuned (--finetune-epochs 0)"), std::string::npos) << printed;
  EXPECT_EQ(test::read_bytes(err).find("warning"), std::string::npos) << test::read_bytes(err);
}

TEST(PruneCommand, BadInputExitsNonZeroWithAClearError) {
  test::ScratchDir dir;
  const std::string cli = TINYOPT_CLI_PATH, mlp = small_mlp(dir), err = dir.file("err.txt");
  const std::string out = " --out " + dir.file("o.safetensors") + " 2>" + err;
  auto expect_fail = [&](const std::string& args, const std::string& expect) {
    EXPECT_NE(run(cli + " prune " + args + out), 0) << args;
    const std::string msg = test::read_bytes(err);
    EXPECT_NE(msg.find(expect), std::string::npos) << args << " -> " << msg;
  };
  expect_fail("--model " + mlp + " --sparsity 1.0", "[0, 1)");
  expect_fail("--model " + mlp + " --sparsity -0.1", "[0, 1)");
  expect_fail("--model " + mlp + " --sparsity 1.5", "[0, 1)");
  expect_fail("--model " + mlp + " --sparsity 0.5 --global --per-layer", "exclude each other");
  expect_fail("--model " + mlp + " --sparsity 0.5 --structured --per-layer", "unstructured pruning only");
  expect_fail("--model " + dir.file("missing.safetensors") + " --sparsity 0.5", "missing.safetensors");
  if (have_fashion_mnist()) {
    test::ScratchDir other;
    const std::string cnn = small_cnn(other);
    expect_fail("--model " + cnn + " --sparsity 0.8 --structured", "would remove all");
  }
  EXPECT_FALSE(std::filesystem::exists(dir.file("o.safetensors")));
}

TEST(PruneCommand, MalformedCsrFileIsRefusedByEval) {
  test::ScratchDir dir;
  const std::string cli = TINYOPT_CLI_PATH, err = dir.file("err.txt");
  // A one-layer sparse model whose row 1 has unsorted columns.
  std::map<std::string, Tensor> t;
  Tensor rp = Tensor::empty({11}, DType::i32), ci = Tensor::empty({4}, DType::i32);
  const int32_t rpv[11] = {0, 2, 4, 4, 4, 4, 4, 4, 4, 4, 4}, civ[4] = {1, 5, 9, 3};
  std::copy(rpv, rpv + 11, rp.data<int32_t>());
  std::copy(civ, civ + 4, ci.data<int32_t>());
  t["0.weight.row_ptr"] = rp;
  t["0.weight.col_idx"] = ci;
  t["0.weight.values"] = Tensor::zeros({4}, DType::f32);
  t["0.bias"] = Tensor::zeros({10}, DType::f32);
  const json config = {{"arch", "sequential"},
                       {"input_shape", {784}},
                       {"layers", {{{"type", "sparse_linear"}, {"in_features", 784}, {"out_features", 10}}}}};
  const std::string path = dir.file("bad_csr.safetensors");
  save_safetensors(path, t, {{"config", config.dump()}});
  EXPECT_NE(run(cli + " eval --model " + path + " 2>" + err), 0);
  const std::string msg = test::read_bytes(err);
  EXPECT_NE(msg.find("bad_csr.safetensors"), std::string::npos) << msg;
  EXPECT_NE(msg.find("0.weight."), std::string::npos) << msg;
  EXPECT_NE(msg.find("strictly increasing"), std::string::npos) << msg;
}
