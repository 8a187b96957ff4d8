// `tinyopt train mlp|cnn|gpt`: trains a reference model with our own trainer
// on real data (Fashion-MNIST, the fortunes corpus), seeded, and writes it as
// a PyTorch-compatible safetensors file with its measured test metric.
#include <cmath>
#include <cstdio>

#include "cli/commands.h"
#include "cli/measured.h"
#include "cli/output_path.h"
#include "cli/numeric_range.h"
#include "core/threads.h"
#include "data/fashion_mnist.h"
#include "data/text_corpus.h"
#include "nn/char_tokenizer.h"
#include "nn/input_contract.h"
#include "nn/reference_models.h"
#include "nn/train.h"

namespace tinyopt::cli {

namespace {

struct Options {
  std::string which;
  int epochs = 0;          // 0 = per-model default
  int64_t iterations = 0;  // gpt; 0 = default
  uint64_t seed = 1;
  std::string out;
  int64_t batch_size = 0;
  double lr = 0;
  std::string optimizer = "adamw";
  bool json = false;
};

void train_image_model(const Options& o) {
  const FashionMnist data = load_fashion_mnist();
  nn::Rng rng(o.seed);
  nn::Model model = nn::build_model(o.which == "mlp" ? nn::mlp_config() : nn::cnn_config(), &rng);
  nn::ClassifierTrainOptions t;
  t.epochs = o.epochs > 0 ? o.epochs : (o.which == "mlp" ? 15 : 10);
  t.batch_size = o.batch_size > 0 ? o.batch_size : 64;
  t.lr = o.lr > 0 ? o.lr : 1e-3;
  t.optimizer = o.optimizer;
  t.seed = o.seed;
  t.progress = !o.json;
  if (!o.json)
    std::printf("training %s on %lld Fashion-MNIST images (%lld parameters, %d threads, seed %llu)\n", o.which.c_str(),
                (long long)data.train_images.size(0), (long long)model.module->parameter_count(), num_threads(),
                (unsigned long long)o.seed);
  // Validation during training uses the calibration split; test data is only read once, at the end.
  std::vector<nn::EpochStats> history;
  const MeasurementConditions measured = conditions_while([&] {
    history = nn::train_classifier(model, data.train_images, data.train_labels, t, data.calibration_images,
                                   data.calibration_labels);
  });
  const nn::EvalResult test = nn::evaluate_classifier(model, data.test_images, data.test_labels);
  nlohmann::json epochs = nlohmann::json::array();
  for (const auto& e : history)
    epochs.push_back({{"epoch", e.epoch}, {"loss", e.loss}, {"train_accuracy", e.train_accuracy},
                      {"validation_accuracy", e.eval_accuracy}, {"seconds", e.seconds},
                      {"samples_per_second", e.samples_per_second}});
  const std::string command = fmt::format("tinyopt train {} --epochs {} --seed {} --threads {}", o.which, t.epochs,
                                          o.seed, num_threads());
  nn::save_model(model, o.out,
                 {{"test_accuracy", fmt::format("{:.4f}", test.accuracy)},
                  {"dataset", "fashion-mnist test (10000 images)"},
                  // What it was trained on (load_fashion_mnist's scale): infer checks inputs against it.
                  {nn::kInputMetadataKey, nn::reference_image_input().to_json()},
                  {"train_command", command},
                  {"train_epochs", epochs.dump()}});
  if (o.json) {
    print_json({{"model", o.which}, {"out", o.out}, {"test_accuracy", test.accuracy}, {"test_loss", test.loss},
                {"epochs", epochs}, {"threads", num_threads()}, {"command", command},
                {"conditions", measured.to_json()}});
  } else {
    std::printf("test accuracy %.2f%% (10,000 held-out images); wrote %s\ntraining speed %s\n", 100 * test.accuracy,
                o.out.c_str(), measured.describe().c_str());
  }
}

void train_gpt_model(const Options& o) {
  const TextCorpus corpus = load_text_corpus();
  std::vector<std::string> vocab;
  for (unsigned char c : corpus.vocab.symbols()) vocab.push_back(nn::CharTokenizer::byte_symbol(c));
  nn::Rng rng(o.seed);
  nn::Model model = nn::build_model(nn::gpt_config(corpus.vocab.size()), &rng, vocab);
  nn::GPTTrainOptions t;
  t.iterations = o.iterations > 0 ? o.iterations : 600;
  t.batch_size = o.batch_size > 0 ? o.batch_size : 16;
  t.lr = o.lr > 0 ? o.lr : 1e-3;
  t.seed = o.seed;
  t.progress = !o.json;
  if (!o.json)
    std::printf("training gpt on %lld characters of fortunes (%d symbols, %lld parameters, %d threads, seed %llu)\n",
                (long long)corpus.train_tokens.numel(), corpus.vocab.size(),
                (long long)model.module->parameter_count(), num_threads(), (unsigned long long)o.seed);
  std::vector<nn::GPTTrainStats> history;
  const MeasurementConditions measured =
      conditions_while([&] { history = nn::train_gpt(model, corpus.train_tokens, corpus.heldout_tokens, t); });
  const nn::EvalResult heldout = nn::evaluate_gpt(model, corpus.heldout_tokens);
  const double bpc = heldout.loss / std::log(2.0);
  nlohmann::json log = nlohmann::json::array();
  for (const auto& s : history)
    log.push_back({{"iteration", s.iteration}, {"train_loss", s.train_loss}, {"heldout_loss", s.heldout_loss},
                   {"tokens_per_second", s.tokens_per_second}});
  const std::string command = fmt::format("tinyopt train gpt --iterations {} --seed {} --threads {}", t.iterations,
                                          o.seed, num_threads());
  nn::save_model(model, o.out,
                 {{"heldout_loss", fmt::format("{:.4f}", heldout.loss)},
                  {"heldout_bits_per_char", fmt::format("{:.4f}", bpc)},
                  {"dataset", "fortunes held-out split (every 10th fortune)"},
                  {"train_command", command},
                  {"train_log", log.dump()}});
  if (o.json) {
    print_json({{"model", "gpt"}, {"out", o.out}, {"heldout_loss", heldout.loss}, {"bits_per_char", bpc},
                {"log", log}, {"threads", num_threads()}, {"command", command},
                {"conditions", measured.to_json()}});
  } else {
    std::printf("held-out loss %.4f nats/char (%.3f bits/char) over %lld characters; wrote %s\ntraining speed %s\n",
                heldout.loss, bpc, (long long)heldout.samples, o.out.c_str(), measured.describe().c_str());
  }
}

}  // namespace

Command add_train_command(CLI::App& app) {
  CLI::App* sub = app.add_subcommand("train", "Train a reference model (mlp, cnn, gpt) on real data");
  static Options o;
  sub->add_option("model", o.which, "mlp | cnn | gpt")->required()->check(CLI::IsMember({"mlp", "cnn", "gpt"}));
  sub->add_option("--epochs", o.epochs, "Epochs (mlp default 15, cnn 10)")->check(CLI::Range(1, 1000));
  sub->add_option("--iterations", o.iterations, "GPT iterations (default 600)")->check(CLI::Range(int64_t{1}, int64_t{10000000}));
  sub->add_option("--seed", o.seed, "Random seed (initialisation and shuffling)")->capture_default_str();
  sub->add_option("-o,--out,--output", o.out, "Output model file (default <model>.safetensors)");
  sub->add_option("-b,--batch-size,--batch", o.batch_size, "Batch size (images 64, gpt 16)")->check(CLI::Range(int64_t{1}, int64_t{65536}));
  sub->add_option("--lr", o.lr, "Learning rate (default 1e-3)")->check(finite_range(1e-8, 10.0));
  sub->add_option("--optimizer", o.optimizer, "adamw | sgd (images)")->check(CLI::IsMember({"adamw", "sgd"}));
  sub->add_flag("--json", o.json, "Print JSON");
  return {sub, [] {
            if (o.out.empty()) o.out = o.which + ".safetensors";
            check_output_path("--out", o.out, ".safetensors", {});
            if (o.which == "gpt") train_gpt_model(o);
            else train_image_model(o);
          }};
}

}  // namespace tinyopt::cli
