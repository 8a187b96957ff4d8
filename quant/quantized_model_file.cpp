#include "quant/quantized_model_file.h"

#include <cmath>

#include "nn/sparse_linear.h"
#include "quant/quantization_plan.h"
#include "quant/quantized_model_builder.h"

namespace tinyopt::quant {

namespace {

using json = nlohmann::json;

float read_scale(const SafetensorsFile& file, const std::string& name) {
  const float v = file.require(name, DType::f32, {1}).data<float>()[0];
  TINYOPT_CHECK(std::isfinite(v) && v > 0, "{}: tensor '{}' must be a finite positive scale, found {}", file.path, name, v);
  return v;
}

int32_t read_zero_point(const SafetensorsFile& file, const std::string& name) {
  const int32_t v = file.require(name, DType::i32, {1}).data<int32_t>()[0];
  TINYOPT_CHECK(v >= kActivationQMin && v <= kActivationQMax, "{}: tensor '{}' must be a u8 zero point in [0, 255], "
                "found {}", file.path, name, v);
  return v;
}

QuantizedLayerData read_layer(const SafetensorsFile& file, nn::Sequential& skeleton, const PlanStep& step) {
  const std::string name = std::to_string(step.layer);
  std::vector<nn::Parameter*> params;
  skeleton.layer(step.layer).collect_parameters(params);  // FP32 weight (and bias): names and shapes
  const Shape wshape = params.at(0)->value.shape();
  const int64_t out = wshape[0];
  QuantizedLayerData d;
  d.weights.q = file.require(name + ".weight", DType::i8, wshape);
  const int8_t* w = d.weights.q.data<int8_t>();
  for (int64_t i = 0; i < d.weights.q.numel(); ++i)
    TINYOPT_CHECK(w[i] != -128, "{}: tensor '{}.weight' holds -128 at flat index {}; quantized weights are "
                  "restricted to [-127, 127]", file.path, name, i);
  d.weights.scale = file.require(name + ".weight_scale", DType::f32, {out});
  const float* ws = d.weights.scale.data<float>();
  for (int64_t c = 0; c < out; ++c)
    TINYOPT_CHECK(std::isfinite(ws[c]) && ws[c] > 0, "{}: tensor '{}.weight_scale' [{}] must be a finite positive "
                  "scale, found {}", file.path, name, c, ws[c]);
  if (params.size() > 1) {
    d.bias = file.require(name + ".bias", DType::i32, {out});
    // The quantizer clamps biases to +-2^30 so bias + accumulator cannot overflow i32; hold files to it.
    const int32_t* b = d.bias.data<int32_t>();
    for (int64_t c = 0; c < out; ++c)
      TINYOPT_CHECK(b[c] >= -(1 << 30) && b[c] <= (1 << 30), "{}: tensor '{}.bias' [{}] = {} is outside [-2^30, 2^30]",
                    file.path, name, c, b[c]);
  }
  d.input = {read_scale(file, name + ".input_scale"), read_zero_point(file, name + ".input_zero_point")};
  if (step.u8_output)
    d.output = QParams{read_scale(file, name + ".output_scale"), read_zero_point(file, name + ".output_zero_point")};
  d.relu = step.fuse_relu;
  return d;
}

void load_float_layer(const SafetensorsFile& file, nn::Module& layer) {
  if (auto* s = dynamic_cast<nn::SparseLinear*>(&layer)) s->load_tensors(file);  // errors name file and tensor
  std::vector<nn::Parameter*> params;
  layer.collect_parameters(params);
  for (nn::Parameter* p : params) p->value.copy_from(file.require(p->name, DType::f32, p->value.shape()));
}

}  // namespace

nn::Model load_quantized_model(const SafetensorsFile& file, const json& config) {
  const json& q = config.at("quantization");
  TINYOPT_CHECK(q.is_object(), "{}: config 'quantization' must be an object", file.path);
  TINYOPT_CHECK(q.contains("format_version") && q["format_version"] == 1,
                "{}: config 'quantization.format_version' must be 1 (this tinyopt reads version 1), found {}",
                file.path, q.contains("format_version") ? q["format_version"].dump() : "nothing");
  TINYOPT_CHECK(q.contains("layers") && q["layers"].is_array(),
                "{}: config 'quantization.layers' must be the list of quantized layer indices", file.path);
  json fp32_config = config;
  fp32_config.erase("quantization");
  TINYOPT_CHECK(fp32_config.contains("arch") && fp32_config["arch"] == "sequential",
                "{}: only sequential models can be quantized, config arch is {}", file.path,
                fp32_config.contains("arch") ? fp32_config["arch"].dump() : "missing");
  nn::Model skeleton;
  try {
    // Bounded by what the file holds: the skeleton allocates an f32 weight
    // for every i8 one, and a config must not ask for more than that.
    skeleton = nn::build_model(fp32_config, nullptr, {}, nn::file_parameter_bytes(file));
  } catch (const Error& e) {
    fail("{}: {}", file.path, e.what());
  }
  const QuantizationPlan plan = plan_quantization(fp32_config["layers"]);
  const std::vector<int> expected = plan.quantized_layers();
  TINYOPT_CHECK(q["layers"] == json(expected), "{}: config 'quantization.layers' is {} but this architecture quantizes "
                "layers {}", file.path, q["layers"].dump(), json(expected).dump());

  // Read and check every layer first, including that each u8 tensor's consumer
  // agrees with its producer about its scale and zero point.
  std::map<int, QuantizedLayerData> layers;
  std::optional<std::pair<std::string, QParams>> producer;  // the last u8 output seen
  for (const PlanStep& step : plan.steps) {
    if (step.kind == PlanStep::Kind::quantize || step.kind == PlanStep::Kind::dequantize) producer.reset();
    if (step.kind != PlanStep::Kind::quantized_layer) continue;
    QuantizedLayerData d = read_layer(file, skeleton.sequential(), step);
    const std::string name = std::to_string(step.layer);
    if (producer)
      TINYOPT_CHECK(producer->second.scale == d.input.scale && producer->second.zero_point == d.input.zero_point,
                    "{}: tensors '{}.input_scale'/'{}.input_zero_point' ({}, {}) disagree with the producing layer's "
                    "'{}.output_scale'/'{}.output_zero_point' ({}, {})", file.path, name, name, d.input.scale,
                    d.input.zero_point, producer->first, producer->first, producer->second.scale,
                    producer->second.zero_point);
    if (d.output) producer = {{name, *d.output}};
    else producer.reset();
    layers.emplace(step.layer, std::move(d));
  }
  // Layers that stay FP32 keep their weights in the file too (a pruned CSR
  // layer, say): read them like an FP32 model does, or the model would run
  // with the skeleton's zeros.
  for (const PlanStep& step : plan.steps)
    if (step.kind == PlanStep::Kind::float_layer) load_float_layer(file, skeleton.sequential().layer(step.layer));
  file.check_all_consumed();

  nn::Model model;
  model.kind = nn::ModelKind::sequential;
  model.config = config;
  model.input_shape = skeleton.input_shape;
  try {
    model.module = build_quantized_sequential(skeleton.sequential(), plan,
                                              [&](const PlanStep& step) { return std::move(layers.at(step.layer)); });
  } catch (const Error& e) {
    fail("{}: {}", file.path, e.what());
  }
  for (const auto& [key, value] : file.metadata)
    if (key != "config") model.metadata[key] = value;
  return model;
}

}  // namespace tinyopt::quant
