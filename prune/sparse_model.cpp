#include "prune/sparse_model.h"

#include "nn/conv2d.h"
#include "nn/linear.h"
#include "nn/sparse_linear.h"
#include "prune/magnitude_pruner.h"

namespace tinyopt::prune {

namespace {

// A layer the conversion keeps as it is: values and masks copied across.
void copy_parameters(nn::Module& from, nn::Module& to, const char* what, size_t layer) {
  std::vector<nn::Parameter*> src = from.parameters(), dst = to.parameters();
  TINYOPT_CHECK(src.size() == dst.size(), "{}: layer {} changed its parameters", what, layer);
  for (size_t j = 0; j < src.size(); ++j) {
    dst[j]->value.copy_from(src[j]->value);
    if (src[j]->mask.defined()) dst[j]->mask = src[j]->mask.clone();
  }
}

int64_t zeros_of(const Tensor& t) {
  const Tensor c = t.to(Device::cpu()).contiguous();
  const float* p = c.data<float>();
  int64_t n = 0;
  for (int64_t i = 0; i < c.numel(); ++i) n += p[i] == 0.0f;
  return n;
}

struct Counts {
  int64_t dense = 0, zero = 0;
  double fraction() const { return dense > 0 ? double(zero) / double(dense) : 0.0; }
  void add(const Tensor& t) {
    dense += t.numel();
    zero += zeros_of(t);
  }
};

// Zero and dense counts over the model's weights (and biases unless weights_only).
Counts count(nn::Model& model, bool weights_only) {
  Counts c;
  for (auto& layer : model.sequential().layers()) {
    if (auto* s = dynamic_cast<nn::SparseLinear*>(layer.get())) {
      const int64_t dense = s->in_features() * s->out_features();
      c.dense += dense;
      c.zero += dense - s->nnz() + zeros_of(s->values.value);
      if (!weights_only && s->has_bias()) c.add(s->bias.value);
    } else if (auto* l = dynamic_cast<nn::Linear*>(layer.get())) {
      c.add(l->weight.value);
      if (!weights_only && l->bias.value.defined()) c.add(l->bias.value);
    } else if (auto* v = dynamic_cast<nn::Conv2d*>(layer.get())) {
      c.add(v->weight.value);
      if (!weights_only && v->bias.value.defined()) c.add(v->bias.value);
    } else if (!weights_only) {
      for (nn::Parameter* p : layer->parameters()) c.add(p->value);
    }
  }
  return c;
}

}  // namespace

nn::Model to_sparse(nn::Model& model, double min_sparsity) {
  TINYOPT_CHECK(min_sparsity >= 0.0 && min_sparsity <= 1.0, "to_sparse: min_sparsity must be in [0, 1], found {}",
                min_sparsity);
  nlohmann::json config = model.config;
  nn::Sequential& seq = model.sequential();
  std::vector<bool> convert(seq.size(), false);
  for (size_t i = 0; i < seq.size(); ++i) {
    auto* l = dynamic_cast<nn::Linear*>(&seq.layer(i));
    if (l == nullptr) continue;
    const double sparsity = double(zeros_of(l->weight.value)) / double(l->weight.value.numel());
    if (sparsity < min_sparsity) continue;
    convert[i] = true;
    nlohmann::json& layer = config["layers"][i];
    layer = {{"type", "sparse_linear"},
             {"in_features", l->in_features()},
             {"out_features", l->out_features()},
             {"bias", l->bias.value.defined()}};
  }
  nn::Model sparse = nn::build_model(config, nullptr);
  sparse.metadata = model.metadata;
  nn::Sequential& out = sparse.sequential();
  for (size_t i = 0; i < seq.size(); ++i) {
    if (convert[i]) {
      auto& from = static_cast<nn::Linear&>(seq.layer(i));
      auto& to = static_cast<nn::SparseLinear&>(out.layer(i));
      to.set_dense(from.weight.value);
      if (to.has_bias()) to.bias.value.copy_from(from.bias.value);
      continue;
    }
    copy_parameters(seq.layer(i), out.layer(i), "to_sparse", i);
  }
  return sparse;
}

bool has_sparse_layers(nn::Model& model) {
  if (model.kind != nn::ModelKind::sequential) return false;
  for (auto& layer : model.sequential().layers())
    if (dynamic_cast<nn::SparseLinear*>(layer.get())) return true;
  return false;
}

nn::Model to_dense(nn::Model& model) {
  nlohmann::json config = model.config;
  nn::Sequential& seq = model.sequential();
  for (size_t i = 0; i < seq.size(); ++i)
    if (auto* s = dynamic_cast<nn::SparseLinear*>(&seq.layer(i)))
      config["layers"][i] = {{"type", "linear"},
                             {"in_features", s->in_features()},
                             {"out_features", s->out_features()},
                             {"bias", s->has_bias()}};
  nn::Model dense = nn::build_model(config, nullptr);
  dense.metadata = model.metadata;
  nn::Sequential& out = dense.sequential();
  for (size_t i = 0; i < seq.size(); ++i) {
    if (auto* s = dynamic_cast<nn::SparseLinear*>(&seq.layer(i))) {
      auto& to = static_cast<nn::Linear&>(out.layer(i));
      to.weight.value.copy_from(s->to_dense());
      if (s->has_bias()) to.bias.value.copy_from(s->bias.value);
      continue;
    }
    copy_parameters(seq.layer(i), out.layer(i), "to_dense", i);
  }
  return dense;
}

double measured_sparsity(nn::Model& model) { return count(model, false).fraction(); }

double measured_weight_sparsity(nn::Model& model) { return count(model, true).fraction(); }

int64_t nonzero_parameters(nn::Model& model) {
  const Counts c = count(model, false);
  return c.dense - c.zero;
}

}  // namespace tinyopt::prune
