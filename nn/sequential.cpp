#include "nn/sequential.h"

#include "core/dispatch_observer.h"

namespace tinyopt::nn {

Tensor Sequential::forward(const Tensor& x) {
  Tensor h = x;
  // Profiler layer scopes ("0:conv2d"); names are only built while one observes.
  const bool observed = dispatch_observer() != nullptr;
  for (size_t i = 0; i < layers_.size(); ++i) {
    const std::string type = observed ? layers_[i]->type() : std::string();
    LayerScope scope(type.c_str(), observed ? std::to_string(i) + ":" + type : std::string());
    h = layers_[i]->forward(h);
  }
  return h;
}

Tensor Sequential::backward(const Tensor& dy) {
  Tensor g = dy;
  for (auto it = layers_.rbegin(); it != layers_.rend(); ++it) {
    g = (*it)->backward(g);
    if (!g.defined()) break;  // the first trainable layer skipped its input gradient
  }
  return g;
}

void Sequential::collect_parameters(std::vector<Parameter*>& out) {
  for (auto& layer : layers_) layer->collect_parameters(out);
}

void Sequential::set_training(bool on) {
  Module::set_training(on);
  for (auto& layer : layers_) layer->set_training(on);
}

}  // namespace tinyopt::nn
