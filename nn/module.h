// Module: a layer or model with forward, backward and named parameters,
// in the spirit of torch.nn.Module but with explicit backward passes.
//
// forward() caches what backward() needs while the module is training; in
// eval mode it caches nothing. backward(dy) returns dx and *accumulates* into
// each parameter's grad (so shared weights, like the GPT's tied embedding,
// sum their gradients); call zero_grad() before each step.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace tinyopt::nn {

struct Parameter {
  std::string name;  // PyTorch state_dict name, e.g. "0.weight"
  Tensor value;
  Tensor grad;       // same shape; allocated lazily by zero_grad()
  Tensor mask;       // optional f32 0/1 mask (pruning keeps masked weights at zero)
};

class Module {
 public:
  virtual ~Module() = default;
  virtual Tensor forward(const Tensor& x) = 0;
  virtual Tensor backward(const Tensor& dy) = 0;
  virtual std::string type() const = 0;
  // Appends this module's parameters (and its children's), names prefixed.
  virtual void collect_parameters(std::vector<Parameter*>& out) { (void)out; }
  virtual void set_training(bool on) { training_ = on; }
  // Output features of a fully connected layer (dense, sparse or INT8); 0 for
  // any other layer. How a model finds its class count without knowing every
  // kind of linear layer.
  virtual int64_t out_features() const { return 0; }
  bool training() const { return training_; }

  std::vector<Parameter*> parameters();
  void zero_grad();
  int64_t parameter_count();

 protected:
  bool training_ = false;
};

using ModulePtr = std::unique_ptr<Module>;

// dst += src (elementwise, same shape), through the dispatcher's add op.
void accumulate(Tensor& dst, const Tensor& src);

}  // namespace tinyopt::nn
