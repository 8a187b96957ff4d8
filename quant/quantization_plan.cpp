#include "quant/quantization_plan.h"

#include <fmt/format.h>

namespace tinyopt::quant {

namespace {

bool is_compute(const std::string& t) { return t == "linear" || t == "conv2d"; }
// Layers that act on u8 data directly: max commutes with the monotone
// quantization, flatten and eval-mode dropout move bytes, relu clamps at the zero point.
bool is_u8_capable(const std::string& t) { return t == "maxpool2d" || t == "flatten" || t == "dropout" || t == "relu"; }

}  // namespace

std::vector<int> QuantizationPlan::quantized_layers() const {
  std::vector<int> out;
  for (const PlanStep& s : steps)
    if (s.kind == PlanStep::Kind::quantized_layer) out.push_back(s.layer);
  return out;
}

QuantizationPlan plan_quantization(const nlohmann::json& layers) {
  std::vector<std::string> types;
  for (const auto& l : layers) types.push_back(l.at("type").get<std::string>());
  const int n = static_cast<int>(types.size());
  QuantizationPlan plan;
  bool u8 = false;
  for (int i = 0; i < n;) {
    const std::string& t = types[i];
    if (is_compute(t)) {
      if (!u8) plan.steps.push_back({PlanStep::Kind::quantize, -1, "quantize", false, -1, true, i - 1});
      PlanStep step{PlanStep::Kind::quantized_layer, i, t};
      int j = i + 1;
      while (j < n && types[j] == "dropout") ++j;
      step.fuse_relu = j < n && types[j] == "relu";
      step.relu_layer = step.fuse_relu ? j : -1;
      step.point = step.fuse_relu ? j : i;
      int k = step.point + 1;
      while (k < n && is_u8_capable(types[k])) ++k;
      step.u8_output = k < n && is_compute(types[k]);
      plan.steps.push_back(step);
      u8 = step.u8_output;
      i = step.point + 1;
    } else if (u8 && is_u8_capable(t)) {
      plan.steps.push_back({PlanStep::Kind::u8_layer, i, t, false, -1, true, i});
      ++i;
    } else {
      if (u8) {
        plan.steps.push_back({PlanStep::Kind::dequantize, -1, "dequantize", false, -1, false, i - 1});
        u8 = false;
      }
      if (!is_u8_capable(t))
        plan.notes.push_back(fmt::format("layer {} ({}) has no INT8 version and stays FP32", i, t));
      plan.steps.push_back({PlanStep::Kind::float_layer, i, t, false, -1, false, i});
      ++i;
    }
  }
  return plan;
}

}  // namespace tinyopt::quant
