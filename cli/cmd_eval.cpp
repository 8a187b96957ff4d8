// `tinyopt eval --model FILE`: the model's quality on real held-out data
// (Fashion-MNIST test accuracy for image models, held-out loss for the GPT),
// with throughput.
#include <cmath>
#include <cstdio>

#include "cli/commands.h"
#include "cli/measured.h"
#include "core/threads.h"
#include "data/fashion_mnist.h"
#include "models/model_file.h"
#include "nn/nonfinite.h"
#include "nn/train.h"

namespace tinyopt::cli {

namespace {

struct Options {
  std::string model;
  int64_t batch_size = 256;
  int64_t max_windows = 0;
  bool json = false;
};

// A NaN or Inf weight makes every accuracy or loss computed from the model
// meaningless (argmax over NaN logits still "picks" a class): say so instead.
void require_finite_weights(nn::Model& model, const std::string& path) {
  const std::string bad = nn::describe_nonfinite(model.state_dict());
  TINYOPT_CHECK(bad.empty(), "{}: the model's weights are not all finite: {}; refusing to report a metric computed from them",
                path, bad);
}

void run_eval(const Options& o) {
  nn::Model model = models::load_model(o.model);
  require_finite_weights(model, o.model);
  if (model.kind == nn::ModelKind::sequential) {
    TINYOPT_CHECK(model.num_classes() == 10, "{}: the model has {} outputs; Fashion-MNIST has 10 classes", o.model,
                  model.num_classes());
    const FashionMnist data = load_fashion_mnist();
    nn::EvalResult r;
    const MeasurementConditions measured = conditions_while([&] {
      r = nn::evaluate_classifier(model, fashion_mnist_for(model, data.test_images, o.model), data.test_labels,
                                  o.batch_size);
    });
    TINYOPT_CHECK(std::isfinite(r.loss), "{}: the test loss is {}: the model's outputs overflow to Inf/NaN on real data",
                  o.model, r.loss);
    if (o.json) {
      print_json({{"model", o.model}, {"metric", "test_accuracy"}, {"test_accuracy", r.accuracy}, {"test_loss", r.loss},
                  {"samples", r.samples}, {"samples_per_second", r.samples_per_second()}, {"threads", num_threads()},
                  {"batch_size", o.batch_size}, {"conditions", measured.to_json()}});
    } else {
      std::printf("%s: test accuracy %.2f%% on %lld Fashion-MNIST test images (loss %.4f), %.0f samples/s "
                  "(batch %lld, %d threads, %s)\n",
                  o.model.c_str(), 100 * r.accuracy, (long long)r.samples, r.loss, r.samples_per_second(),
                  (long long)o.batch_size, num_threads(), measured.describe().c_str());
    }
    return;
  }
  const Tensor tokens = heldout_tokens_for(model);
  nn::EvalResult r;
  const MeasurementConditions measured = conditions_while([&] { r = nn::evaluate_gpt(model, tokens, 0, o.max_windows); });
  TINYOPT_CHECK(std::isfinite(r.loss), "{}: the held-out loss is {}: the model's outputs overflow to Inf/NaN", o.model,
                r.loss);
  const double bpc = r.loss / std::log(2.0);
  if (o.json) {
    print_json({{"model", o.model}, {"metric", "heldout_loss"}, {"heldout_loss", r.loss}, {"bits_per_char", bpc},
                {"tokens", r.samples}, {"tokens_per_second", r.samples_per_second()}, {"threads", num_threads()},
                {"conditions", measured.to_json()}});
  } else {
    std::printf("%s: held-out loss %.4f nats/char (%.3f bits/char) over %lld characters, %.0f tokens/s (%d threads, "
                "%s)\n",
                o.model.c_str(), r.loss, bpc, (long long)r.samples, r.samples_per_second(), num_threads(),
                measured.describe().c_str());
  }
}

}  // namespace

Command add_eval_command(CLI::App& app) {
  CLI::App* sub = app.add_subcommand("eval", "Quality of a model on real held-out data, with throughput");
  static Options o;
  sub->add_option("-m,--model", o.model, "Model file (.safetensors)")->required();
  sub->add_option("-b,--batch-size,--batch", o.batch_size, "Batch size for image models")->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{65536}));
  sub->add_option("--max-windows", o.max_windows, "GPT: evaluate at most this many context windows (0 = all)")
      ->check(CLI::Range(int64_t{0}, int64_t{100000000}));
  sub->add_flag("--json", o.json, "Print JSON");
  return {sub, [] { run_eval(o); }};
}

}  // namespace tinyopt::cli
