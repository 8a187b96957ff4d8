// `tinyopt quantize` end to end on the reference MLP (fast): the JSON report
// holds measured accuracy, sizes, latency, SQNR and saturation; the written
// model works with eval, infer and profile; bad flags and files exit
// non-zero with a one-line error naming the problem. A pruned model (CSR
// layers) quantizes with its zeros kept.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "io/npy.h"
#include "io/safetensors.h"
#include "models/model_file.h"
#include "nn/model.h"
#include "nn/reference_models.h"
#include "prune/magnitude_pruner.h"
#include "prune/sparse_model.h"
#include "tests/test_io_util.h"

using namespace tinyopt;

namespace {

int run(const std::string& cmd) { return std::system(cmd.c_str()); }

// Runs `args` and returns its exit status; stderr goes to `err`.
int run_cli(const std::string& args, const std::string& err) {
  return run(std::string(TINYOPT_CLI_PATH) + " " + args + " >/dev/null 2>" + err);
}

}  // namespace

TEST(QuantizeCommand, QuantizesTheMlpAndOtherCommandsUseTheResult) {
  test::ScratchDir dir;
  const std::string mlp = std::string(TINYOPT_SOURCE_DIR) + "/benchmarks/mlp.safetensors";
  const std::string out = dir.file("mlp_int8.safetensors"), report = dir.file("report.json");
  ASSERT_EQ(run(std::string(TINYOPT_CLI_PATH) + " quantize --model " + mlp + " --out " + out +
                " --calib 500 --observer percentile --seconds 0.02 --report-images 200 --json >" + report),
            0);
  std::ifstream in(report);
  const nlohmann::json j = nlohmann::json::parse(in);
  EXPECT_EQ(j["test_images"], 10000);
  EXPECT_EQ(j["calibration_images"], 500);
  EXPECT_GT(j["fp32_accuracy"].get<double>(), 0.85);
  EXPECT_LT(std::fabs(j["accuracy_drop_points"].get<double>()), 1.0);
  EXPECT_GT(j["size_ratio"].get<double>(), 3.5);
  ASSERT_EQ(j["latency"].size(), 2u);
  EXPECT_GT(j["latency"][1]["int8"]["p50_s"].get<double>(), 0.0);
  ASSERT_EQ(j["layers"].size(), 3u);
  for (const auto& l : j["layers"]) EXPECT_GT(l["sqnr_db"].get<double>(), 10.0) << l.dump();
  EXPECT_EQ(j["layers"][2]["output"], "f32");
  EXPECT_EQ(j["layers"][0]["saturation"]["values"], 200 * 128);
  EXPECT_EQ(j["input_saturation"]["values"], 200 * 784);

  // eval, infer and profile read the quantized file like any other.
  const std::string eval = dir.file("eval.json");
  ASSERT_EQ(run(std::string(TINYOPT_CLI_PATH) + " eval --model " + out + " --json >" + eval), 0);
  std::ifstream ein(eval);
  const nlohmann::json e = nlohmann::json::parse(ein);
  EXPECT_DOUBLE_EQ(e["test_accuracy"].get<double>(), j["int8_accuracy"].get<double>());
  Tensor x = Tensor::zeros({2, 1, 28, 28}, DType::f32);
  save_npy(dir.file("x.npy"), x);
  EXPECT_EQ(run_cli("infer --model " + out + " --input " + dir.file("x.npy") + " --output " + dir.file("y.npy"),
                    dir.file("err")), 0);
  const Tensor y = load_npy(dir.file("y.npy"));
  EXPECT_EQ(y.shape(), Shape({2, 10}));
  EXPECT_EQ(run_cli("profile --model " + out + " --runs 2 --warmup 1", dir.file("err")), 0);
}

TEST(QuantizeCommand, BadInputExitsNonZeroNamingTheProblem) {
  test::ScratchDir dir;
  const std::string mlp = std::string(TINYOPT_SOURCE_DIR) + "/benchmarks/mlp.safetensors";
  const std::string err = dir.file("err"), out = dir.file("o.safetensors");
  auto expect_fail = [&](const std::string& args, const std::string& needle) {
    EXPECT_NE(run_cli(args, err), 0) << args;
    const std::string msg = test::read_bytes(err);
    EXPECT_NE(msg.find(needle), std::string::npos) << args << " -> " << msg;
    EXPECT_FALSE(std::filesystem::exists(out)) << args;
  };
  expect_fail("quantize --model " + dir.file("missing.safetensors") + " --out " + out, "missing.safetensors");
  expect_fail("quantize --model " + mlp + " --out " + out + " --observer kl", "--observer");
  expect_fail("quantize --model " + mlp + " --out " + out + " --calib 0", "--calib");
  expect_fail("quantize --model " + mlp + " --out " + out + " --calib 5001", "--calib");
  expect_fail("quantize --model " + mlp + " --out " + mlp, "is also an input of this command");
  expect_fail("--force quantize --model " + mlp + " --out " + mlp, "--out must differ");  // it needs the FP32 file
  expect_fail("quantize --model " + mlp, "--out");
  expect_fail("quantize --model " + mlp + " --out " + dir.file("no/such/dir/o.safetensors") + " --calib 10 --seconds 0",
              "no/such/dir");
  // A model that does not take Fashion-MNIST images, and a GPT.
  nn::Rng rng(1);
  nlohmann::json config = {{"arch", "sequential"}, {"input_shape", {20}},
                           {"layers", {{{"type", "linear"}, {"in_features", 20}, {"out_features", 10}}}}};
  nn::Model small = nn::build_model(config, &rng);
  nn::save_model(small, dir.file("small.safetensors"));
  expect_fail("quantize --model " + dir.file("small.safetensors") + " --out " + out, "input_shape");
  std::vector<std::string> vocab = {"a", "b"};
  nlohmann::json g = nn::gpt_config(2);
  g["n_layer"] = 1;
  g["n_embd"] = 8;
  g["n_head"] = 2;
  g["block_size"] = 4;
  nn::Model gpt = nn::build_model(g, &rng, vocab);
  nn::save_model(gpt, dir.file("gpt.safetensors"));
  expect_fail("quantize --model " + dir.file("gpt.safetensors") + " --out " + out, "GPT");
}

TEST(QuantizeCommand, PrunedSparseModelQuantizesKeepingItsZeros) {
  test::ScratchDir dir;
  // The reference MLP pruned to 80% with one global threshold (no fine-tuning), in CSR.
  const std::string sparse = dir.file("sparse.safetensors"), int8 = dir.file("int8.safetensors");
  {
    nn::Model model = models::load_model(std::string(TINYOPT_SOURCE_DIR) + "/benchmarks/mlp.safetensors");
    prune::MagnitudePruner::prune_global(prune::prunable_weights(model), 0.8);
    nn::Model pruned = prune::to_sparse(model, 0.5);
    // The input contract must travel from the FP32 file to the INT8 one.
    nn::save_model(pruned, sparse, {{"input", R"({"dtype":"float32","range":[0,1]})"}});
  }
  const std::string report = dir.file("r.json"), err = dir.file("err");
  ASSERT_EQ(run(std::string(TINYOPT_CLI_PATH) + " quantize --model " + sparse + " --out " + int8 +
                " --calib 500 --seconds 0 --report-images 100 --json >" + report + " 2>" + err),
            0)
      << test::read_bytes(err);
  std::ifstream in(report);
  const nlohmann::json j = nlohmann::json::parse(in);
  // Every linear layer is quantized (flatten, linear, relu, linear, relu, linear).
  EXPECT_EQ(j["quantized_layers"], nlohmann::json({1, 3, 5}));
  // The global threshold leaves the 64->10 output layer under 50% zeros, so it was not stored in CSR.
  EXPECT_EQ(j["sparse_layers_made_dense"], nlohmann::json({1, 3}));
  EXPECT_NEAR(j["fp32_weight_sparsity"].get<double>(), 0.8, 0.01);
  EXPECT_GE(j["int8_weight_sparsity"].get<double>(), j["fp32_weight_sparsity"].get<double>());
  EXPECT_LT(std::fabs(j["accuracy_drop_points"].get<double>()), 1.0);
  EXPECT_GT(j["size_ratio"].get<double>(), 1.3);

  // Each pruned zero is an INT8 zero, and the file is a real INT8 model.
  nn::Model loaded = models::load_model(sparse);
  nn::Model fp32 = prune::to_dense(loaded);
  const SafetensorsFile file = load_safetensors(int8);
  for (const char* layer : {"1", "3", "5"}) {
    const Tensor w32 = fp32.state_dict().at(std::string(layer) + ".weight");
    const Tensor& w8 = file.tensors.at(std::string(layer) + ".weight");
    ASSERT_EQ(w8.dtype(), DType::i8) << layer;
    ASSERT_EQ(w8.shape(), w32.shape()) << layer;
    int64_t zeros = 0;
    for (int64_t i = 0; i < w32.numel(); ++i) {
      if (w32.data<float>()[i] != 0.0f) continue;
      ++zeros;
      EXPECT_EQ(w8.data<int8_t>()[i], 0) << layer << " at " << i;
    }
    EXPECT_GT(zeros, w32.numel() / 4) << layer;
  }
  nn::Model back = models::load_model(int8);
  EXPECT_EQ(back.metadata.at("input"), R"({"dtype":"float32","range":[0,1]})");
  EXPECT_EQ(back.config["layers"][1]["type"], "linear");
}
