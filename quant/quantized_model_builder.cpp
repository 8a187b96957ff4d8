#include "quant/quantized_model_builder.h"

#include <map>

#include "nn/conv2d.h"
#include "nn/pooling.h"
#include "quant/quantize_module.h"
#include "quant/quantized_conv2d.h"
#include "quant/quantized_linear.h"

namespace tinyopt::quant {

std::unique_ptr<nn::Sequential> build_quantized_sequential(
    nn::Sequential& skeleton, const QuantizationPlan& plan,
    const std::function<QuantizedLayerData(const PlanStep&)>& layer_data) {
  // Each quantized layer's data first: a quantize step takes the input
  // parameters of the layer it feeds.
  std::map<size_t, QuantizedLayerData> data;
  for (size_t s = 0; s < plan.steps.size(); ++s)
    if (plan.steps[s].kind == PlanStep::Kind::quantized_layer) data.emplace(s, layer_data(plan.steps[s]));

  auto seq = std::make_unique<nn::Sequential>();
  QParams current;  // parameters of the u8 data flowing between steps
  for (size_t s = 0; s < plan.steps.size(); ++s) {
    const PlanStep& step = plan.steps[s];
    switch (step.kind) {
      case PlanStep::Kind::quantize: {
        auto next = data.find(s + 1);
        TINYOPT_CHECK(next != data.end(), "quantization plan: a quantize step must feed a quantized layer");
        current = next->second.input;
        seq->append(std::make_unique<Quantize>(current));
        break;
      }
      case PlanStep::Kind::quantized_layer: {
        QuantizedLayerData& d = data.at(s);
        const std::string name = std::to_string(step.layer);
        const std::optional<QParams> out = d.output;
        nn::Module& fp32 = skeleton.layer(step.layer);
        if (step.type == "conv2d") {
          const auto& conv = dynamic_cast<nn::Conv2d&>(fp32);
          seq->append(std::make_unique<QuantizedConv2d>(name, std::move(d), conv.geometry()));
        } else {
          seq->append(std::make_unique<QuantizedLinear>(name, std::move(d)));
        }
        if (out) current = *out;
        break;
      }
      case PlanStep::Kind::u8_layer: {
        nn::ModulePtr& layer = skeleton.layers()[step.layer];
        if (step.type == "relu") {
          seq->append(std::make_unique<QuantizedReLU>(current));
        } else if (step.type == "maxpool2d") {
          const auto& pool = dynamic_cast<nn::MaxPool2d&>(*layer);
          seq->append(std::make_unique<QuantizedMaxPool2d>(pool.kernel_size(), pool.stride(), pool.padding()));
        } else {
          seq->append(std::move(layer));  // flatten and eval-mode dropout work on any dtype
        }
        break;
      }
      case PlanStep::Kind::dequantize:
        seq->append(std::make_unique<Dequantize>(current));
        break;
      case PlanStep::Kind::float_layer:
        seq->append(std::move(skeleton.layers()[step.layer]));
        break;
    }
  }
  fuse_conv_max_pool(*seq);
  seq->set_training(false);
  return seq;
}

void fuse_conv_max_pool(nn::Sequential& seq, bool on) {
  for (size_t i = 0; i + 1 < seq.layers().size(); ++i) {
    auto* conv = dynamic_cast<QuantizedConv2d*>(seq.layers()[i].get());
    auto* pool = dynamic_cast<QuantizedMaxPool2d*>(seq.layers()[i + 1].get());
    if (conv == nullptr || pool == nullptr || !conv->u8_output()) continue;
    if (pool->kernel_size() != pool->stride() || pool->padding() != 0) continue;
    conv->fuse_max_pool(on ? pool->kernel_size() : 0);
    pool->mark_fused(on);
  }
}

}  // namespace tinyopt::quant
