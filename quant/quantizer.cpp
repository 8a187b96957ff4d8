#include "quant/quantizer.h"

#include <algorithm>
#include <set>

#include "nn/conv2d.h"
#include "nn/linear.h"
#include "prune/sparse_model.h"
#include "quant/batch_rows.h"
#include "quant/observer_factory.h"
#include "quant/quantized_model_builder.h"
#include "quant/weight_quantization.h"

namespace tinyopt::quant {

using json = nlohmann::json;

namespace {

// `from`'s weights into `to` (the same layer type, built from the same config).
void copy_float_layer(nn::Module& from, nn::Module& to) {
  std::vector<nn::Parameter*> src, dst;
  from.collect_parameters(src);
  to.collect_parameters(dst);
  TINYOPT_CHECK(src.size() == dst.size(), "quantize: layer {} has {} parameters but its rebuilt copy {}",
                from.type(), src.size(), dst.size());
  for (size_t i = 0; i < src.size(); ++i) dst[i]->value.copy_from(src[i]->value);
}

// The model the quantizer works on: `model` itself, or, when it holds pruned
// CSR layers (sparse_linear), a dense copy in `holder`. Symmetric INT8 weight
// quantization maps 0 to 0, so a pruned weight quantized densely keeps every
// pruned zero exact; there is no INT8 sparse kernel to keep the CSR for.
nn::Model& dense_view(nn::Model& model, nn::Model& holder) {
  if (!prune::has_sparse_layers(model)) return model;
  holder = prune::to_dense(model);
  return holder;
}

}  // namespace

std::string point_name(const json& layers, int point) {
  if (point < 0) return "model input";
  return fmt::format("layer {} ({}) output", point, layers.at(point).at("type").get<std::string>());
}

bool is_quantized(const nn::Model& model) { return model.is_quantized(); }

INT8Quantizer::INT8Quantizer(QuantizeOptions options) : options_(std::move(options)) {
  make_observer(options_.observer, "options", options_.percentile);  // validates the name early
  TINYOPT_CHECK(options_.calibration_size >= 0, "calibration size must be >= 0 (0 = all), found {}",
                options_.calibration_size);
  TINYOPT_CHECK(options_.batch_size >= 1, "calibration batch size must be >= 1, found {}", options_.batch_size);
}

CalibrationResult INT8Quantizer::calibrate(nn::Model& original, const Tensor& calibration_set) {
  TINYOPT_CHECK(original.kind == nn::ModelKind::sequential, "quantize: only sequential image models can be quantized "
                "(this one is a GPT)");
  TINYOPT_CHECK(!is_quantized(original), "quantize: the model is already quantized");
  nn::Model holder;
  nn::Model& model = dense_view(original, holder);
  TINYOPT_CHECK(calibration_set.defined() && calibration_set.ndim() >= 1 && calibration_set.size(0) > 0,
                "quantize: the calibration set is empty; calibration needs at least one image");
  TINYOPT_CHECK(calibration_set.dtype() == DType::f32, "quantize: calibration images must be f32, found {}",
                calibration_set.describe());
  const int64_t available = calibration_set.size(0);
  const int64_t n = options_.calibration_size == 0 ? available : options_.calibration_size;
  TINYOPT_CHECK(n <= available, "quantize: calibration size {} exceeds the {} calibration images available", n,
                available);
  TINYOPT_CHECK(calibration_set.numel() / available == model.sample_numel(),
                "quantize: calibration images {} do not fit the model's input_shape {}", calibration_set.describe(),
                Shape(model.input_shape).str());
  const Tensor images = calibration_set.contiguous().reshape(model.batch_shape(available));

  CalibrationResult result;
  const json& layers = model.config.at("layers");
  result.plan = plan_quantization(layers);
  // A model computing in FP32 throughout must not be written out labelled INT8.
  if (result.plan.quantized_layers().empty()) {
    std::string types;
    for (const json& l : layers) types += (types.empty() ? "" : ", ") + l.at("type").get<std::string>();
    fail("quantize: no layer of this model has an INT8 version (linear, sparse_linear and conv2d do; its layers are "
         "{}), so nothing would be quantized", types);
  }
  std::map<int, ObserverPtr> observers;
  for (const PlanStep& s : result.plan.steps) {
    const bool observed = s.kind == PlanStep::Kind::quantize || (s.kind == PlanStep::Kind::quantized_layer && s.u8_output);
    if (observed && !observers.count(s.point))
      observers[s.point] = make_observer(options_.observer, point_name(layers, s.point), options_.percentile);
  }
  int passes = 1;
  for (const auto& [p, o] : observers) passes = std::max(passes, o->passes());

  nn::Sequential& seq = model.sequential();
  seq.set_training(false);
  const int last_point = observers.empty() ? -1 : observers.rbegin()->first;
  for (int pass = 0; pass < passes; ++pass) {
    for (int64_t b = 0; b < n; b += options_.batch_size) {
      const int64_t rows = std::min(options_.batch_size, n - b);
      // A view of rows [b, b + rows): batches are contiguous slices of the images.
      Tensor h = batch_rows(images, b, model.batch_shape(rows));
      if (auto it = observers.find(-1); it != observers.end() && pass < it->second->passes()) it->second->observe(h, pass);
      for (int i = 0; i <= last_point; ++i) {
        h = seq.layer(i).forward(h);
        auto it = observers.find(i);
        if (it != observers.end() && pass < it->second->passes()) it->second->observe(h, pass);
      }
    }
  }
  for (const auto& [p, o] : observers) {
    result.qparams[p] = o->qparams();
    result.observed[p] = {o->min_seen(), o->max_seen()};
  }
  result.images = n;
  return result;
}

nn::Model INT8Quantizer::quantize(nn::Model& original, const CalibrationResult& calibration) {
  nn::Model holder;
  nn::Model& model = dense_view(original, holder);  // the config calibrate() planned from
  nn::Sequential& fp32 = model.sequential();
  json config = model.config;
  config.erase("quantization");
  nn::Model skeleton = nn::build_model(config, nullptr);
  // Each quantized layer's input parameters: the quantize step's observer, or the u8 producer's output.
  std::map<int, QParams> inputs;
  QParams current;
  for (const PlanStep& step : calibration.plan.steps) {
    if (step.kind == PlanStep::Kind::quantize) current = calibration.qparams.at(step.point);
    if (step.kind == PlanStep::Kind::quantized_layer) {
      inputs[step.layer] = current;
      if (step.u8_output) current = calibration.qparams.at(step.point);
    }
  }
  auto layer_data = [&](const PlanStep& step) {
    const std::string name = std::to_string(step.layer);
    const nn::Parameter* weight = nullptr;
    const nn::Parameter* bias = nullptr;
    if (auto* l = dynamic_cast<nn::Linear*>(&fp32.layer(step.layer))) {
      weight = &l->weight;
      bias = l->bias.value.defined() ? &l->bias : nullptr;
    } else {
      auto& c = dynamic_cast<nn::Conv2d&>(fp32.layer(step.layer));
      weight = &c.weight;
      bias = c.bias.value.defined() ? &c.bias : nullptr;
    }
    QuantizedLayerData d;
    d.weights = quantize_weights(weight->value, name + ".weight");
    d.input = inputs.at(step.layer);
    if (bias) d.bias = quantize_bias(bias->value, d.input.scale, d.weights.scale, name + ".bias");
    d.relu = step.fuse_relu;
    if (step.u8_output) d.output = calibration.qparams.at(step.point);
    return d;
  };
  // Layers that stay FP32 keep their weights, if they have any (the skeleton's are zeros).
  for (const PlanStep& step : calibration.plan.steps)
    if (step.kind == PlanStep::Kind::float_layer)
      copy_float_layer(fp32.layer(step.layer), skeleton.sequential().layer(step.layer));
  nn::Model out;
  out.kind = nn::ModelKind::sequential;
  out.metadata = model.metadata;  // provenance and the input contract ("input") stay with the model
  out.input_shape = model.input_shape;
  out.module = build_quantized_sequential(skeleton.sequential(), calibration.plan, layer_data);
  std::vector<int> quantized = calibration.plan.quantized_layers();
  config["quantization"] = {
      {"format_version", 1},
      {"scheme", "int8 static PTQ: activations u8 affine per tensor, weights s8 symmetric per output channel "
                 "[-127, 127], bias i32 at input_scale * weight_scale"},
      {"observer", options_.observer},
      {"calibration_size", calibration.images},
      {"layers", quantized},
      {"fp32_layers", calibration.plan.notes}};
  if (options_.observer == "percentile") config["quantization"]["percentile"] = options_.percentile;
  out.config = config;
  return out;
}

nn::Model quantize_model(nn::Model& fp32, const Tensor& calibration_images, const QuantizeOptions& options) {
  INT8Quantizer quantizer(options);
  const CalibrationResult calibration = quantizer.calibrate(fp32, calibration_images);
  return quantizer.quantize(fp32, calibration);
}

}  // namespace tinyopt::quant
