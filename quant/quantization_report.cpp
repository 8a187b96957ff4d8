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

}  // namespace

QuantizationReport analyze_quantization(nn::Model& fp32, nn::Model& int8, const Tensor& images, int64_t batch) {
  TINYOPT_CHECK(is_quantized(int8) && !is_quantized(fp32), "report: needs an FP32 model and its quantized version");
  const nlohmann::json& layers = fp32.config.at("layers");
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
  fuse_conv_max_pool(q, false);  // every layer's own output, as the FP32 model's (fused again below)
  for (size_t m = 0; m < q.size(); ++m) {
    if (auto* l = dynamic_cast<QuantizedLayer*>(&q.layer(m))) l->set_stats(&saturation[std::stoi(l->name())]);
    if (auto* in = dynamic_cast<Quantize*>(&q.layer(m))) in->set_stats(&report.input_saturation);
  }
  const int64_t n = images.size(0);
  const Tensor all = images.contiguous();
  try {
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
  } catch (...) {
    for (size_t m = 0; m < q.size(); ++m) {
      if (auto* l = dynamic_cast<QuantizedLayer*>(&q.layer(m))) l->set_stats(nullptr);
      if (auto* in = dynamic_cast<Quantize*>(&q.layer(m))) in->set_stats(nullptr);
    }
    fuse_conv_max_pool(q, true);
    throw;
  }
  fuse_conv_max_pool(q, true);
  for (size_t m = 0; m < q.size(); ++m) {
    if (auto* l = dynamic_cast<QuantizedLayer*>(&q.layer(m))) {
      l->set_stats(nullptr);
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
    if (auto* in = dynamic_cast<Quantize*>(&q.layer(m))) in->set_stats(nullptr);
  }
  report.images = n;
  return report;
}

}  // namespace tinyopt::quant
