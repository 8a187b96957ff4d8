// The profiler's view of the dispatcher: when an observer is installed, every
// dispatched op call (and every layer scope that nn/ opens) is reported to it.
// When none is installed the cost is one relaxed atomic load per call.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "core/device.h"
#include "core/tensor.h"
#include "kernels/cost.h"

namespace tinyopt {

// The tensors of one call, captured as plain values: formatting a string per
// call (Args::describe()) would cost more than a small kernel, so the
// profiler formats these only when a report or trace asks.
struct OpShapes {
  static constexpr int kMax = 8;
  int count = 0;
  Shape shape[kMax];
  DType dtype[kMax] = {};
  bool output[kMax] = {};

  template <class Args>
  static OpShapes of(const Args& args) {
    OpShapes s;
    const_cast<Args&>(args).visit([&](Tensor& t, bool is_output) {
      if (s.count == kMax) return;
      s.shape[s.count] = t.shape();
      s.dtype[s.count] = t.dtype();
      s.output[s.count++] = is_output;
    });
    return s;
  }
  // "f32[1, 28, 28], f32[32, 1, 3, 3] -> f32[1, 32, 26, 26]"
  std::string str() const {
    std::string in, out;
    for (int i = 0; i < count; ++i) {
      std::string& to = output[i] ? out : in;
      to += (to.empty() ? "" : ", ") + std::string(dtype_name(dtype[i])) + shape[i].str();
    }
    return in + " -> " + out;
  }
};

struct OpCallInfo {
  const char* op;        // catalogue name, "matmul"
  const char* variant;   // "cpu.blocked"
  Device device;         // where it ran (CPU for a fallback)
  OpShapes shapes;       // inputs and outputs, in the Args' visit order
  OpCost cost;           // from the op's cost function (zero when it has none)
  bool fallback = false; // a CUDA call run on the CPU
};

class DispatchObserver {
 public:
  virtual ~DispatchObserver() = default;
  // Returns a token handed back to op_end (e.g. an event index).
  virtual int64_t op_begin(const OpCallInfo& info) = 0;
  virtual void op_end(int64_t token) = 0;
  virtual int64_t layer_begin(const char* type, const std::string& name) = 0;
  virtual void layer_end(int64_t token) = 0;
};

// The installed observer or nullptr. Installing replaces any previous one.
DispatchObserver* dispatch_observer();
void dispatch_observer_install(DispatchObserver* observer);

// RAII layer scope used by nn/ modules: free when no observer is installed.
class LayerScope {
 public:
  LayerScope(const char* type, const std::string& name) {
    if (DispatchObserver* obs = dispatch_observer()) {
      observer_ = obs;
      token_ = obs->layer_begin(type, name);
    }
  }
  ~LayerScope() {
    if (observer_) observer_->layer_end(token_);
  }
  LayerScope(const LayerScope&) = delete;
  LayerScope& operator=(const LayerScope&) = delete;

 private:
  DispatchObserver* observer_ = nullptr;
  int64_t token_ = 0;
};

}  // namespace tinyopt
