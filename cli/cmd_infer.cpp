// `tinyopt infer --model FILE --input X.npy --output Y.npy`: runs a model on
// NumPy input. Images: float32 [N, C, H, W] or [N, features] -> logits
// [N, classes]. GPT: integer token ids [N, T] -> logits float32 [N, T, vocab].
// Image values must be on the scale the model was trained on (metadata
// "input", nn/input_contract.h); far outside it the logits are garbage with
// no error, so that is said on stderr.
#include <cstdio>

#include "cli/commands.h"
#include "cli/output_path.h"
#include "io/npy.h"
#include "models/model_file.h"
#include "nn/input_contract.h"
#include "nn/model.h"
#include "nn/nonfinite.h"

namespace tinyopt::cli {

namespace {

struct Options {
  std::string model, input, output;
  bool json = false;
};

Tensor as_i32_ids(const Tensor& x, const std::string& path, int64_t vocab) {
  TINYOPT_CHECK(x.dtype() == DType::i32 || x.dtype() == DType::i64 || x.dtype() == DType::u8 || x.dtype() == DType::i8,
                "{}: GPT input must hold integer token ids, found {}", path, x.describe());
  Tensor ids = Tensor::empty(x.shape(), DType::i32);
  for (int64_t i = 0; i < x.numel(); ++i) {
    int64_t v = 0;
    switch (x.dtype()) {
      case DType::i32: v = x.data<int32_t>()[i]; break;
      case DType::i64: v = x.data<int64_t>()[i]; break;
      case DType::u8: v = x.data<uint8_t>()[i]; break;
      case DType::i8: v = x.data<int8_t>()[i]; break;
      default: break;
    }
    TINYOPT_CHECK(v >= 0 && v < vocab, "{}: token id {} at position {} is outside the vocabulary [0, {})", path, v, i,
                  vocab);
    ids.data<int32_t>()[i] = static_cast<int32_t>(v);
  }
  return ids;
}

void run_infer(const Options& o) {
  check_output_path("--output", o.output, ".npy", {o.model, o.input});
  nn::Model model = models::load_model(o.model);
  const Tensor x = load_npy(o.input);
  Tensor y;
  if (model.kind == nn::ModelKind::gpt) {
    const auto& c = model.gpt().config();
    TINYOPT_CHECK(x.ndim() == 2 && x.size(0) >= 1 && x.size(1) >= 1,
                  "{}: GPT input must be token ids [N, T], found {}", o.input, x.describe());
    TINYOPT_CHECK(x.size(1) <= c.block_size, "{}: sequence length {} exceeds the model's block_size {}", o.input,
                  x.size(1), c.block_size);
    y = model.forward(as_i32_ids(x, o.input, c.vocab_size));
  } else {
    TINYOPT_CHECK(x.dtype() == DType::f32, "{}: image input must be float32, found {}", o.input, x.describe());
    const int64_t per_sample = model.sample_numel();
    const Shape want = model.batch_shape(x.ndim() >= 1 ? x.size(0) : 0);
    const bool exact = x.shape() == want;
    const bool flat = x.ndim() == 2 && x.size(1) == per_sample;
    TINYOPT_CHECK(x.ndim() >= 2 && x.size(0) >= 1 && (exact || flat),
                  "{}: expected input [N, {}] or [N, {}] for this model, found {}", o.input,
                  fmt::join(model.input_shape, ", "), per_sample, x.describe());
    if (const auto contract = nn::input_contract(model, o.model))
      if (const std::string warning = nn::check_input_range(*contract, x); !warning.empty())
        std::fprintf(stderr, "tinyopt: warning: %s: %s\n", o.input.c_str(), warning.c_str());
    y = model.forward(x.reshape(want));
  }
  save_npy(o.output, y);
  // NaN/Inf outputs are written as computed (they propagate), and said out loud.
  if (const nn::NonFiniteCount bad = nn::count_nonfinite(y); bad.any()) {
    std::fprintf(stderr, "tinyopt: warning: %s: %lld of %lld outputs are not finite (%lld NaN, %lld Inf)%s\n",
                 o.output.c_str(), (long long)(bad.nan + bad.inf), (long long)y.numel(), (long long)bad.nan,
                 (long long)bad.inf, nn::describe_nonfinite(model.state_dict()).empty() ? "" : "; the model's weights hold NaN/Inf");
  }
  if (o.json) {
    print_json({{"model", o.model}, {"input", o.input}, {"output", o.output}, {"output_shape", y.shape().to_vector()}});
  } else {
    std::printf("wrote %s: %s\n", o.output.c_str(), y.describe().c_str());
  }
}

}  // namespace

Command add_infer_command(CLI::App& app) {
  CLI::App* sub = app.add_subcommand("infer", "Run a model on a NumPy .npy input and write .npy logits");
  static Options o;
  static const std::string input_help = fmt::format(
      "Input .npy. Image models: float32 [N, ...input_shape] or [N, features], on the scale the model was trained on, "
      "which its metadata 'input' declares (the reference models benchmarks/mlp and cnn: {}); values more than {:g}x "
      "the range's width outside it give a warning on stderr. GPT: integer token ids [N, T]",
      nn::reference_image_input().describe(), nn::kInputRangeMargin);
  sub->add_option("-m,--model", o.model, "Model file (.safetensors)")->required();
  sub->add_option("-i,--input", o.input, input_help)->required();
  sub->add_option("-o,--output,--out", o.output, "Output .npy (written atomically)")->required();
  sub->add_flag("--json", o.json, "Print JSON");
  return {sub, [] { run_infer(o); }};
}

}  // namespace tinyopt::cli
