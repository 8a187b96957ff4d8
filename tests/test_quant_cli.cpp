// `tinyopt quantize` end to end on the reference MLP (fast): the JSON report
// holds measured accuracy, sizes, latency, SQNR and saturation; the written
// model works with eval, infer and profile; bad flags and files exit
// non-zero with a one-line error naming the problem.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "io/npy.h"
#include "nn/model.h"
#include "nn/reference_models.h"
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
  EXPECT_GT(j["latency"][1]["int8"]["p50_ms"].get<double>(), 0.0);
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
  expect_fail("quantize --model " + mlp + " --out " + mlp, "--out must differ");
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
