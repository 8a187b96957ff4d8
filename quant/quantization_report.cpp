#include "quant/quantization_report.h"

#include <cmath>
#include <limits>
#include <map>

#include "quant/batch_rows.h"
#include "quant/quantization_plan.h"
#include "quant/quantize_module.h"
#include "quant/quantized_layer.h"
#include "quant/quantized_model_builder.h"
#include "quant/quantizer.h"

namespace tinyopt::quant {

namespace {

struct Accumulator {
  double signal = 0, noise = 0;
};

void accumulate_error(const Tensor& ref, const Tensor& got, Accumulator& acc) {
  const Tensor r = ref.to(Device::cpu()).contiguous(), g = got.to(Device::cpu()).contiguous();
  TINYOPT_CHECK(r.numel() == g.numel(), "report: FP32 output {} and quantized output {} differ in size", r.describe(),
                g.describe());
  const float* a = r.data<float>();
  const float* b = g.data<float>();
  for (int64_t i = 0; i < r.numel(); ++i) {
    acc.signal += double(a[i]) * a[i];
    acc.noise += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
  }
}

// While alive, the quantized model is set up for the report: every layer
// computes its own output, as the FP32 model's layers do (conv + max-pool
// unfused), and the layers count saturation into the given statistics.
// Undone however the scope ends.
class ReportInstrumentation {
 public:
  ReportInstrumentation(nn::Sequential& q, std::map<int, SaturationStats>& layer_stats, SaturationStats& input_stats)
      : q_(q) {
    fuse_conv_max_pool(q_, false);
    for (size_t m = 0; m < q_.size(); ++m) {
      if (auto* l = dynamic_cast<QuantizedLayer*>(&q_.layer(m))) l->set_stats(&layer_stats[std::stoi(l->name())]);
      if (auto* in = dynamic_cast<Quantize*>(&q_.layer(m))) in->set_stats(&input_stats);
    }
  }
  ~ReportInstrumentation() {
    for (size_t m = 0; m < q_.size(); ++m) {
      if (auto* l = dynamic_cast<QuantizedLayer*>(&q_.layer(m))) l->set_stats(nullptr);
      if (auto* in = dynamic_cast<Quantize*>(&q_.layer(m))) in->set_stats(nullptr);
    }
    fuse_conv_max_pool(q_, true);
  }
  ReportInstrumentation(const ReportInstrumentation&) = delete;
  ReportInstrumentation& operator=(const ReportInstrumentation&) = delete;

 private:
  nn::Sequential& q_;
};

}  // namespace

QuantizationReport analyze_quantization(nn::Model& fp32, nn::Model& int8, const Tensor& images, int64_t batch) {
  TINYOPT_CHECK(is_quantized(int8) && !is_quantized(fp32), "report: needs an FP32 model and its quantized version");
  // The plan the INT8 model was built from: its own layer list, where a pruned
  // FP32 model's sparse_linear layers are linear (same outputs, same indices).
  const nlohmann::json& layers = int8.config.at("layers");
  TINYOPT_CHECK(layers.size() == fp32.config.at("layers").size(), "report: the FP32 model has {} layers, its quantized "
                "version {}", fp32.config.at("layers").size(), layers.size());
  const QuantizationPlan plan = plan_quantization(layers);
  std::map<int, int> point_of;  // quantized layer index -> FP32 layer whose output it reproduces
  for (const PlanStep& s : plan.steps)
    if (s.kind == PlanStep::Kind::quantized_layer) point_of[s.layer] = s.point;

  QuantizationReport report;
  std::map<int, Accumulator> errors;
  std::map<int, SaturationStats> saturation;
  nn::Sequential& q = int8.sequential();
  nn::Sequential& f = fp32.sequential();
  f.set_training(false);
  const int64_t n = images.size(0);
  const Tensor all = images.contiguous();
  {
    const ReportInstrumentation instrumented(q, saturation, report.input_saturation);
    for (int64_t b = 0; b < n; b += batch) {
      const int64_t rows = std::min(batch, n - b);
      const Tensor x = batch_rows(all, b, fp32.batch_shape(rows));
      std::map<int, Tensor> ref;
      Tensor h = x;
      for (size_t i = 0; i < f.size(); ++i) {
        h = f.layer(i).forward(h);
        ref[static_cast<int>(i)] = h;
      }
      Tensor g = x;
      for (size_t m = 0; m < q.size(); ++m) {
        g = q.layer(m).forward(g);
        if (auto* l = dynamic_cast<QuantizedLayer*>(&q.layer(m))) {
          const int layer = std::stoi(l->name());
          const Tensor deq = l->u8_output() ? dequantize_tensor(g, *l->output_qparams()) : g;
          accumulate_error(ref.at(point_of.at(layer)), deq, errors[layer]);
        }
      }
    }
  }
  for (size_t m = 0; m < q.size(); ++m) {
    if (auto* l = dynamic_cast<QuantizedLayer*>(&q.layer(m))) {
      const int layer = std::stoi(l->name());
      LayerReport r;
      r.name = fmt::format("layer {} ({}){}", layer, layers.at(layer).at("type").get<std::string>(),
                           l->relu() ? " + relu" : "");
      r.u8_output = l->u8_output();
      const Accumulator& e = errors[layer];
      r.sqnr_db = e.noise > 0 ? 10 * std::log10(e.signal / e.noise) : std::numeric_limits<double>::infinity();
      r.saturation = saturation[layer];
      report.layers.push_back(r);
    }
  }
  report.images = n;
  return report;
}

}  // namespace tinyopt::quant
