// Every command that takes a model file (eval, infer, profile, prune,
// quantize) on the files the other commands write: a pruned model in CSR
// (sparse_linear), an INT8 model, and an INT8 model quantized from the pruned
// one. Each command either works or refuses with an error that names the file
// and says what to do; none fails with an internal message about tensor types.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "data/fashion_mnist.h"
#include "io/npy.h"
#include "models/model_file.h"
#include "nn/model.h"
#include "prune/magnitude_pruner.h"
#include "prune/sparse_model.h"
#include "tests/test_io_util.h"

using namespace tinyopt;
using nlohmann::json;

namespace {

const std::string kMlp = std::string(TINYOPT_SOURCE_DIR) + "/benchmarks/mlp.safetensors";

bool have_fashion_mnist() { return std::filesystem::exists(std::string(kFashionMnistDefaultDir) + "/t10k-images-idx3-ubyte.gz"); }

// Runs `args` with stdout to `out` and stderr to `err`; returns the exit status.
int run_cli(const std::string& args, const std::string& out, const std::string& err) {
  return std::system((std::string(TINYOPT_CLI_PATH) + " " + args + " >" + out + " 2>" + err).c_str());
}

// The reference MLP pruned to 80% with one global threshold (no fine-tuning), in CSR.
std::string pruned_sparse_mlp(const test::ScratchDir& dir) {
  nn::Model model = models::load_model(kMlp);
  prune::MagnitudePruner::prune_global(prune::prunable_weights(model), 0.8);
  nn::Model sparse = prune::to_sparse(model, 0.5);
  const std::string path = dir.file("sparse.safetensors");
  nn::save_model(sparse, path);
  return path;
}

}  // namespace

TEST(ModelFileCommands, SparseAndQuantizedFilesWorkOrAreRefusedClearly) {
  if (!have_fashion_mnist()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  test::ScratchDir dir;
  const std::string sparse = pruned_sparse_mlp(dir), int8 = dir.file("int8.safetensors"),
                    sparse_int8 = dir.file("sparse_int8.safetensors");
  const std::string out = dir.file("out"), err = dir.file("err");
  const std::string quick_quantize = " --calib 100 --seconds 0 --report-images 50";
  ASSERT_EQ(run_cli("quantize --model " + kMlp + " --out " + int8 + quick_quantize, out, err), 0) << test::read_bytes(err);
  ASSERT_EQ(run_cli("quantize --model " + sparse + " --out " + sparse_int8 + quick_quantize, out, err), 0)
      << test::read_bytes(err);
  const std::string x = dir.file("x.npy"), y = dir.file("y.npy");
  save_npy(x, Tensor::zeros({2, 1, 28, 28}, DType::f32));

  for (const std::string& model : {sparse, int8, sparse_int8}) {
    SCOPED_TRACE(model);
    EXPECT_EQ(run_cli("eval --model " + model, out, err), 0) << test::read_bytes(err);
    EXPECT_EQ(run_cli("infer --model " + model + " --input " + x + " --output " + y, out, err), 0)
        << test::read_bytes(err);
    EXPECT_EQ(load_npy(y).shape(), Shape({2, 10}));
    EXPECT_EQ(run_cli("profile --model " + model + " --runs 2 --warmup 1", out, err), 0) << test::read_bytes(err);
  }

  // A pruned model prunes further: its CSR layers are made dense (zeros kept) and fine-tuned.
  const std::string report = dir.file("prune.json");
  ASSERT_EQ(run_cli("prune --model " + sparse + " --sparsity 0.9 --global --finetune-epochs 1 --seconds 0.01 --json --out " +
                        dir.file("p.safetensors"),
                    report, err),
            0)
      << test::read_bytes(err);
  std::ifstream in(report);
  const json r = json::parse(in);
  EXPECT_NEAR(r["weight_sparsity"].get<double>(), 0.9, 0.01);
  EXPECT_EQ(r["finetune"].size(), 1u);

  // INT8 models are refused by prune and quantize, naming the file and what to do instead.
  for (const std::string& model : {int8, sparse_int8}) {
    SCOPED_TRACE(model);
    EXPECT_NE(run_cli("prune --model " + model + " --sparsity 0.5 --out " + dir.file("no.safetensors"), out, err), 0);
    std::string msg = test::read_bytes(err);
    EXPECT_NE(msg.find(model + " is quantized (INT8); prune the FP32 model, then quantize the pruned model"),
              std::string::npos)
        << msg;
    EXPECT_NE(run_cli("quantize --model " + model + " --out " + dir.file("no.safetensors"), out, err), 0);
    msg = test::read_bytes(err);
    EXPECT_NE(msg.find(model + ": the model is already quantized (INT8)"), std::string::npos) << msg;
    EXPECT_FALSE(std::filesystem::exists(dir.file("no.safetensors")));
  }
}
