// `tinyopt quantize --model FILE --calib N --observer NAME --out FILE`:
// post-training static INT8 quantization of an image model, calibrated on the
// fixed calibration split (the last 5,000 Fashion-MNIST training images), and
// a side-by-side report: FP32 vs INT8 test accuracy on all 10,000 test
// images, file sizes, batch-1 and batch-64 latency measured interleaved,
// per-layer SQNR and saturation counts. A pruned model quantizes too: its CSR
// layers become dense INT8 layers with the same zeros, and the report says how
// many weights are zero before and after.
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "cli/commands.h"
#include "cli/measured.h"
#include "cli/numeric_range.h"
#include "cli/output_path.h"
#include "cli/progress.h"
#include "core/threads.h"
#include "data/fashion_mnist.h"
#include "models/model_file.h"
#include "nn/train.h"
#include "profiler/timer.h"
#include "prune/sparse_model.h"
#include "quant/batch_rows.h"
#include "quant/observer_factory.h"
#include "quant/quantization_report.h"
#include "quant/quantizer.h"

namespace tinyopt::cli {

namespace {

struct Options {
  std::string model, out, observer = quant::kDefaultObserver;
  int64_t calib = kFashionMnistCalibrationCount;
  double percentile = 99.99;
  int64_t report_images = 1000;
  double seconds = 2.0;
  bool json = false;
};

struct Latency {
  int64_t batch = 0;
  Comparison cmp;
};

Latency time_pair(nn::Model& fp32, nn::Model& int8, const Tensor& images, int64_t batch, double seconds) {
  const Tensor x = quant::batch_rows(images, 0, fp32.batch_shape(batch));
  TimerOptions t;
  t.warmup = 5;
  t.min_runs = 20;
  t.min_seconds = seconds;
  t.max_seconds = 4 * seconds;
  return {batch, Timer(t).compare([&] { fp32.forward(x); }, [&] { int8.forward(x); })};
}

nlohmann::json saturation_json(const quant::SaturationStats& s) {
  return {{"values", s.values}, {"clamped_low", s.low}, {"clamped_high", s.high}};
}

// Zeros among the INT8 weights (the i8 "<i>.weight" tensors): at least the
// FP32 model's zeros, since 0 quantizes to 0, plus weights below half a step.
double int8_weight_sparsity(nn::Model& int8) {
  int64_t zeros = 0, total = 0;
  for (const auto& [name, t] : int8.state_dict()) {
    if (t.dtype() != DType::i8) continue;
    const Tensor c = t.contiguous();
    for (int64_t i = 0; i < c.numel(); ++i) zeros += c.data<int8_t>()[i] == 0;
    total += c.numel();
  }
  return total > 0 ? double(zeros) / double(total) : 0.0;
}

// Indices of the pruned layers stored in CSR, which the quantizer makes dense.
std::vector<int> sparse_layers(const nn::Model& model) {
  std::vector<int> out;
  for (size_t i = 0; i < model.config["layers"].size(); ++i)
    if (model.config["layers"][i].value("type", "") == "sparse_linear") out.push_back(static_cast<int>(i));
  return out;
}

void run_quantize(const Options& o) {
  check_output_path("--out", o.out, ".safetensors", {o.model});
  TINYOPT_CHECK(o.out != o.model, "--out must differ from --model ({}); the FP32 model is needed for the comparison",
                o.model);
  nn::Model fp32 = models::load_model(o.model);
  TINYOPT_CHECK(fp32.kind == nn::ModelKind::sequential, "{}: only sequential image models can be quantized (this is a "
                "GPT)", o.model);
  TINYOPT_CHECK(!quant::is_quantized(fp32), "{}: the model is already quantized (INT8); quantize its FP32 model",
                o.model);
  TINYOPT_CHECK(fp32.num_classes() == 10, "{}: the model has {} outputs; Fashion-MNIST has 10 classes", o.model,
                fp32.num_classes());
  const FashionMnist data = load_fashion_mnist();
  const Tensor calibration = fashion_mnist_for(fp32, data.calibration_images, o.model);
  const Tensor test = fashion_mnist_for(fp32, data.test_images, o.model).contiguous();

  quant::QuantizeOptions q;
  q.observer = o.observer;
  q.calibration_size = o.calib;
  q.percentile = o.percentile;
  progress("quantize", "calibrating on {} images with the {} observer", std::min<int64_t>(o.calib, calibration.size(0)),
           o.observer);
  nn::Model made = quant::quantize_model(fp32, calibration, q);
  progress("quantize", "test accuracy of the FP32 and the INT8 model on {} images", test.size(0));
  const nn::EvalResult acc32 = nn::evaluate_classifier(fp32, test, data.test_labels);
  const nn::EvalResult acc8_made = nn::evaluate_classifier(made, test, data.test_labels);
  nn::save_model(made, o.out,
                 {{"dataset", "fashion-mnist test (10000 images)"},
                  {"test_accuracy", fmt::format("{:.4f}", acc8_made.accuracy)},
                  {"fp32_test_accuracy", fmt::format("{:.4f}", acc32.accuracy)},
                  {"calibration_split", "fashion-mnist training images 55000..59999 (first N used)"},
                  {"quantized_from", std::filesystem::path(o.model).filename().string()}});
  // Everything below uses the model as read back from the file: what eval/infer/profile will see.
  nn::Model int8 = models::load_model(o.out);
  const nn::EvalResult acc8 = nn::evaluate_classifier(int8, test, data.test_labels);
  TINYOPT_CHECK(acc8.accuracy == acc8_made.accuracy, "{}: the saved model's accuracy {} differs from the model before "
                "saving {}", o.out, acc8.accuracy, acc8_made.accuracy);
  const auto size32 = std::filesystem::file_size(o.model), size8 = std::filesystem::file_size(o.out);
  progress("quantize", "latency, FP32 against INT8 at batch 1 and 64, interleaved");
  const Latency b1 = time_pair(fp32, int8, test, 1, o.seconds);
  const Latency b64 = time_pair(fp32, int8, test, 64, o.seconds);
  const int64_t report_n = std::min<int64_t>(o.report_images, test.size(0));
  progress("quantize", "per-layer SQNR and saturation on {} images", report_n);
  const quant::QuantizationReport report =
      quant::analyze_quantization(fp32, int8, quant::batch_rows(test, 0, fp32.batch_shape(report_n)));
  const std::string backend = global_options().backend.empty() ? "auto" : global_options().backend;
  const double sparsity32 = prune::measured_weight_sparsity(fp32), sparsity8 = int8_weight_sparsity(int8);
  const std::vector<int> densified = sparse_layers(fp32);

  if (o.json) {
    nlohmann::json layers = nlohmann::json::array();
    for (const auto& l : report.layers)
      layers.push_back({{"layer", l.name}, {"output", l.u8_output ? "u8" : "f32"},
                        {"sqnr_db", std::isfinite(l.sqnr_db) ? nlohmann::json(l.sqnr_db) : nlohmann::json("inf")},
                        {"saturation", saturation_json(l.saturation)}});
    nlohmann::json lat = nlohmann::json::array();
    for (const Latency* l : {&b1, &b64})
      lat.push_back({{"batch", l->batch}, {"fp32", timing_json(l->cmp.a)}, {"int8", timing_json(l->cmp.b)},
                     {"speedup", l->cmp.speedup()}, {"speedup_iqr", l->cmp.ratio.iqr}});
    print_json({{"model", o.model}, {"out", o.out}, {"observer", o.observer}, {"calibration_images", o.calib},
                {"test_images", acc32.samples}, {"fp32_accuracy", acc32.accuracy}, {"int8_accuracy", acc8.accuracy},
                {"accuracy_drop_points", 100 * (acc32.accuracy - acc8.accuracy)},
                {"quantized_layers", int8.config["quantization"]["layers"]},
                {"fp32_weight_sparsity", sparsity32}, {"int8_weight_sparsity", sparsity8},
                {"sparse_layers_made_dense", densified},
                {"fp32_bytes", size32}, {"int8_bytes", size8}, {"size_ratio", double(size32) / double(size8)},
                {"latency", lat}, {"backend", backend}, {"threads", num_threads()},
                {"report_images", report.images}, {"input_saturation", saturation_json(report.input_saturation)},
                {"layers", layers}, {"machine", machine_json()}});
    return;
  }
  std::printf("Quantized %s -> %s (observer %s, %lld calibration images, backend %s, %d threads)\n", o.model.c_str(),
              o.out.c_str(), o.observer.c_str(), (long long)o.calib, backend.c_str(), num_threads());
  std::printf("  test accuracy (%lld images): FP32 %.2f%%  INT8 %.2f%%  (drop %.2f points)\n", (long long)acc32.samples,
              100 * acc32.accuracy, 100 * acc8.accuracy, 100 * (acc32.accuracy - acc8.accuracy));
  // A pruned FP32 file in CSR can be smaller than its dense INT8 version: say "larger" then, not "0.8x smaller".
  const double ratio = double(size32) / double(size8);
  std::printf("  file size: FP32 %llu bytes  INT8 %llu bytes  (%.2fx %s)\n", (unsigned long long)size32,
              (unsigned long long)size8, ratio >= 1 ? ratio : 1 / ratio, ratio >= 1 ? "smaller" : "larger");
  if (!densified.empty() || sparsity32 >= 0.1)  // a pruned model: say what became of its zeros
    std::printf("  pruned weights kept: FP32 weights %.1f%% zero, INT8 weights %.1f%% zero (0 quantizes to 0)%s\n",
                100 * sparsity32, 100 * sparsity8,
                densified.empty() ? ""
                                  : fmt::format("; CSR layers {} stored as dense INT8 (no INT8 sparse kernel)",
                                                fmt::join(densified, ", "))
                                        .c_str());
  MeasuredUnder measured;
  for (const Latency* l : {&b1, &b64}) {
    std::printf("  batch %-3lld latency p50: FP32 %.3f ms  INT8 %.3f ms  speedup %.2fx (interleaved, %d pairs, ratio "
                "IQR %.2f, %s)\n",
                (long long)l->batch, l->cmp.a.p50 * 1e3, l->cmp.b.p50 * 1e3, l->cmp.speedup(), l->cmp.ratio.runs,
                l->cmp.ratio.iqr, verdict_name(l->cmp.ratio.conditions.verdict));
    measured.add(l->cmp.ratio);
  }
  std::printf("  latency %s\n", measured.line().c_str());
  std::printf("  per layer on %lld test images (SQNR of the dequantized output vs FP32; values clamped at 0 / 255):\n",
              (long long)report.images);
  std::printf("    %-28s %6s %9s %12s %12s\n", "layer", "output", "SQNR dB", "clamped@0", "clamped@255");
  std::printf("    %-28s %6s %9s %12lld %12lld\n", "input quantize", "u8", "-", (long long)report.input_saturation.low,
              (long long)report.input_saturation.high);
  for (const auto& l : report.layers)
    std::printf("    %-28s %6s %9.2f %12lld %12lld\n", l.name.c_str(), l.u8_output ? "u8" : "f32", l.sqnr_db,
                (long long)l.saturation.low, (long long)l.saturation.high);
  const nlohmann::json notes = int8.config["quantization"].value("fp32_layers", nlohmann::json::array());
  for (const auto& n : notes) std::printf("  note: %s\n", n.get<std::string>().c_str());
}

}  // namespace

Command add_quantize_command(CLI::App& app) {
  CLI::App* sub = app.add_subcommand("quantize", "INT8 post-training quantization with calibration, and FP32 vs INT8 "
                                                 "accuracy, size, latency, SQNR and saturation");
  static Options o;
  sub->add_option("-m,--model", o.model, "FP32 image model (.safetensors)")->required();
  sub->add_option("-o,--out,--output", o.out, "Where to write the quantized model (.safetensors)")->required();
  sub->add_option("--calib", o.calib, "Calibration images, the first N of the calibration split (training images "
                                      "55000..59999; never test data)")
      ->capture_default_str()->check(CLI::Range(int64_t{1}, kFashionMnistCalibrationCount));
  sub->add_option("--observer", o.observer, "Observer: minmax, moving, percentile, entropy or mse")
      ->capture_default_str()->check(CLI::IsMember(quant::observer_names()));
  sub->add_option("--percentile", o.percentile, "Percentile for --observer percentile")->capture_default_str()
      ->check(finite_range(50.0, 100.0));
  sub->add_option("--report-images", o.report_images, "Test images for the per-layer SQNR and saturation report")
      ->capture_default_str()->check(CLI::Range(int64_t{1}, int64_t{10000}));
  sub->add_option("--seconds", o.seconds, "Minimum measuring time per latency comparison")->capture_default_str()
      ->check(finite_range(0.0, 600.0));
  sub->add_flag("--json", o.json, "Print JSON");
  return {sub, [] { run_quantize(o); }};
}

}  // namespace tinyopt::cli
