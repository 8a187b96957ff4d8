#include "prune/structured.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "nn/conv2d.h"
#include "nn/linear.h"
#include "prune/magnitude_pruner.h"

namespace tinyopt::prune {

namespace {

using json = nlohmann::json;

struct Consumer {
  size_t index = 0;
  bool found = false;
  bool after_flatten = false;
  std::string why_not;  // when not found
};

// The next layer that reads the outputs of `layer` as its input channels/features.
Consumer find_consumer(const json& layers, size_t layer) {
  Consumer c;
  for (size_t j = layer + 1; j < layers.size(); ++j) {
    const std::string type = layers[j]["type"].get<std::string>();
    if (type == "relu" || type == "gelu" || type == "dropout" || type == "maxpool2d") continue;
    if (type == "flatten") {
      c.after_flatten = true;
      continue;
    }
    if (type == "conv2d" || type == "linear") {
      c.index = j;
      c.found = true;
      return c;
    }
    c.why_not = fmt::format("layer {} ({}) reads its outputs and cannot be shrunk", j, type);
    return c;
  }
  c.why_not = "it is the last layer with weights: its outputs are the model's outputs";
  return c;
}

// Keeps `keep` (ascending) of the `units` slices of t viewed as [outer, units, inner].
Tensor select_units(const Tensor& t, int64_t outer, int64_t units, int64_t inner, const std::vector<int64_t>& keep) {
  TINYOPT_CHECK(outer * units * inner == t.numel(), "structured pruning: cannot view {} as [{}, {}, {}]", t.describe(),
                outer, units, inner);
  Tensor src = t.contiguous();
  Tensor out = Tensor::empty({outer * static_cast<int64_t>(keep.size()) * inner}, DType::f32);
  const float* s = src.data<float>();
  float* d = out.data<float>();
  for (int64_t o = 0; o < outer; ++o)
    for (size_t k = 0; k < keep.size(); ++k)
      std::copy_n(s + (o * units + keep[k]) * inner, inner, d + (o * int64_t(keep.size()) + int64_t(k)) * inner);
  return out;
}

std::vector<int64_t> ranked_keep(const Tensor& weight, int64_t units, int64_t kept, FilterNorm norm) {
  const Tensor w = weight.contiguous();
  const int64_t per = w.numel() / units;
  const float* p = w.data<float>();
  std::vector<double> score(static_cast<size_t>(units), 0.0);
  for (int64_t u = 0; u < units; ++u)
    for (int64_t i = 0; i < per; ++i) {
      const double v = p[u * per + i];
      score[u] += norm == FilterNorm::l1 ? std::fabs(v) : v * v;
    }
  std::vector<int64_t> order(static_cast<size_t>(units));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return score[a] > score[b]; });
  order.resize(static_cast<size_t>(kept));
  std::sort(order.begin(), order.end());
  return order;
}

// Copies value (and mask) of `from` into `to`, reshaped, when the shapes allow.
void copy_parameter(nn::Parameter& to, const Tensor& value, const Tensor& mask) {
  TINYOPT_CHECK(value.numel() == to.value.numel(), "structured pruning: {} has {} elements, expected {}", to.name,
                value.numel(), to.value.numel());
  to.value.copy_from(value.contiguous().reshape(to.value.shape()));
  if (mask.defined()) to.mask = mask.contiguous().reshape(to.value.shape()).clone();
}

StructuredStats remove_units(nn::Model& model, size_t layer, double sparsity, FilterNorm norm, const char* kind) {
  check_sparsity(sparsity, fmt::format("structured pruning of layer {}", layer));
  TINYOPT_CHECK(model.kind == nn::ModelKind::sequential, "structured pruning needs a sequential model");
  nn::Sequential& seq = model.sequential();
  TINYOPT_CHECK(layer < seq.size(), "structured pruning: layer {} does not exist (the model has {} layers)", layer,
                seq.size());
  json config = model.config;
  json& layers = config["layers"];
  const std::string type = layers[layer]["type"].get<std::string>();
  TINYOPT_CHECK(type == kind, "structured pruning: layer {} is {}, not {}", layer, type, kind);
  const bool conv = type == "conv2d";
  const char* out_key = conv ? "out_channels" : "out_features";
  const Consumer consumer = find_consumer(layers, layer);
  TINYOPT_CHECK(consumer.found, "structured pruning: layer {} ({}) cannot be pruned: {}", layer, type,
                consumer.why_not);

  nn::Parameter* weight = conv ? &static_cast<nn::Conv2d&>(seq.layer(layer)).weight
                               : &static_cast<nn::Linear&>(seq.layer(layer)).weight;
  nn::Parameter* bias = conv ? &static_cast<nn::Conv2d&>(seq.layer(layer)).bias
                             : &static_cast<nn::Linear&>(seq.layer(layer)).bias;
  const int64_t units = weight->value.size(0);
  const int64_t removed = static_cast<int64_t>(std::llround(sparsity * double(units)));
  TINYOPT_CHECK(removed < units,
                "structured pruning: removing {:.0f}% of layer {}'s {} {} would remove all of them; at least one "
                "must stay",
                100 * sparsity, layer, units, conv ? "filters" : "neurons");
  const int64_t kept = units - removed;
  const std::vector<int64_t> keep = ranked_keep(weight->value, units, kept, norm);

  // The consumer's inputs: channels of a conv, or features of a linear (H*W per channel after a flatten).
  const std::string ctype = layers[consumer.index]["type"].get<std::string>();
  nn::Parameter* cweight = ctype == "conv2d" ? &static_cast<nn::Conv2d&>(seq.layer(consumer.index)).weight
                                             : &static_cast<nn::Linear&>(seq.layer(consumer.index)).weight;
  const int64_t c_out = cweight->value.size(0), c_in = cweight->value.size(1);
  int64_t group = 1;
  if (ctype == "conv2d") {
    TINYOPT_CHECK(!consumer.after_flatten && c_in == units,
                  "structured pruning: layer {} (conv2d) has {} input channels, expected {}", consumer.index, c_in,
                  units);
    group = cweight->value.numel() / (c_out * c_in);
    layers[consumer.index]["in_channels"] = kept;
  } else {
    TINYOPT_CHECK(c_in % units == 0 && (consumer.after_flatten || c_in == units),
                  "structured pruning: layer {} (linear) has {} inputs, not a multiple of the {} {} feeding it",
                  consumer.index, c_in, units, conv ? "channels" : "features");
    group = c_in / units;  // H*W after a flatten, 1 otherwise
    layers[consumer.index]["in_features"] = kept * group;
  }
  layers[layer][out_key] = kept;

  const int64_t params_before = model.module->parameter_count();
  nn::Model smaller = nn::build_model(config, nullptr);
  smaller.metadata = model.metadata;
  std::map<std::string, nn::Parameter*> old_params;
  for (nn::Parameter* p : model.module->parameters()) old_params[p->name] = p;
  for (nn::Parameter* p : smaller.module->parameters()) {
    nn::Parameter* old = old_params.at(p->name);
    const Tensor& v = old->value;
    const Tensor& m = old->mask;
    if (old == weight || old == bias) {  // the producer: keep rows (filters / neurons)
      const int64_t inner = v.numel() / units;
      copy_parameter(*p, select_units(v, 1, units, inner, keep),
                     m.defined() ? select_units(m, 1, units, inner, keep) : Tensor());
    } else if (old == cweight) {  // the consumer: keep input channels / feature groups
      copy_parameter(*p, select_units(v, c_out, units, group, keep),
                     m.defined() ? select_units(m, c_out, units, group, keep) : Tensor());
    } else {
      copy_parameter(*p, v, m);
    }
  }
  StructuredStats s;
  s.layer = fmt::format("{} ({})", layer, type);
  s.consumer = fmt::format("{} ({}{})", consumer.index, ctype, consumer.after_flatten ? ", after flatten" : "");
  s.units_before = units;
  s.units_after = kept;
  s.params_before = params_before;
  s.params_after = smaller.module->parameter_count();
  model = std::move(smaller);
  return s;
}

}  // namespace

StructuredStats prune_conv_filters(nn::Model& model, size_t layer, double sparsity, FilterNorm norm) {
  return remove_units(model, layer, sparsity, norm, "conv2d");
}

StructuredStats prune_linear_neurons(nn::Model& model, size_t layer, double sparsity, FilterNorm norm) {
  return remove_units(model, layer, sparsity, norm, "linear");
}

std::vector<size_t> prunable_units_layers(nn::Model& model) {
  std::vector<size_t> out;
  const json& layers = model.config["layers"];
  for (size_t i = 0; i < layers.size(); ++i) {
    const std::string type = layers[i]["type"].get<std::string>();
    if ((type == "conv2d" || type == "linear") && find_consumer(layers, i).found) out.push_back(i);
  }
  return out;
}

}  // namespace tinyopt::prune
