// One op of the catalogue and its kernel variants.
//
// An op (`matmul`, `add`, ...) has one argument struct; a *variant* is one
// implementation of it on one device (`cpu.naive`, `cpu.blocked`,
// `cpu.onednn`, `cuda.cublas`, ...). Variants register a small function table
// (name, device, priority, supports(), run()) the way ggml backends do, so a
// new kernel is one more `add()` call, never an edit of a central switch.
//
// Every argument struct provides:
//   void validate() const;                 // shapes/dtypes/devices agree, or throws
//   template <class F> void visit(F&& f);  // f(Tensor&, bool is_output) for each tensor
//   std::string describe() const;          // "f32[4, 8] x f32[8, 2]" for logs and errors
#pragma once

#include <atomic>
#include <string>
#include <string_view>
#include <vector>

#include "core/device.h"
#include "core/dispatch_observer.h"
#include "core/tensor.h"

namespace tinyopt {

struct VariantInfo {
  std::string name;  // "cpu.blocked"
  DeviceType device;
  int priority;      // higher wins in automatic routing
};

// What every op exposes to the dispatcher and to `tinyopt backends`,
// independent of its argument type.
class OpBase {
 public:
  explicit OpBase(const char* name);
  virtual ~OpBase() = default;
  OpBase(const OpBase&) = delete;
  OpBase& operator=(const OpBase&) = delete;

  const char* name() const { return name_; }
  virtual std::vector<VariantInfo> variant_infos() const = 0;
  // Index of a variant by name, or -1.
  int find_variant(std::string_view name) const;

  // Explicit routing for this op (-1 = automatic): the process-wide choice
  // set by OptimizedBackend (--backend, TINYOPT_BACKEND), unless a
  // ScopedBackendChoice is in force on the calling thread.
  void set_chosen(int index) { chosen_.store(index, std::memory_order_relaxed); }
  int chosen() const {
    const std::vector<int>* scoped = thread_choice();
    return scoped != nullptr ? (*scoped)[index_] : chosen_.load(std::memory_order_relaxed);
  }
  // Position in the catalogue (enrolment order): indexes per-op choices.
  size_t index() const { return index_; }

  int64_t fallback_count() const { return fallbacks_.load(std::memory_order_relaxed); }

 protected:
  friend class OptimizedBackend;
  // Shared routing helpers (defined in dispatcher.cpp) so the template below stays small.
  void log_route(const std::string& args, const std::string& variant, const char* why) const;
  void note_fallback(const std::string& args) const;
  void note_explicit_unsupported(const std::string& variant, const std::string& args) const;
  [[noreturn]] void fail_no_variant(const std::string& args, Device device) const;
  static bool strict();
  static bool debug();
  // Registers the compiled backends on first use (one relaxed load afterwards).
  static void ensure_backends_registered() {
    if (!backends_ready_.load(std::memory_order_acquire)) register_backends_once();
  }
  static void register_backends_once();
  static std::atomic<bool> backends_ready_;
  // The calling thread's scoped choice (one entry per op), or nullptr.
  static const std::vector<int>* thread_choice();

  const char* name_;
  size_t index_ = 0;
  std::atomic<int> chosen_{-1};
  mutable std::atomic<int64_t> fallbacks_{0};
  mutable std::atomic<bool> fallback_logged_{false};
  mutable std::atomic<bool> explicit_unsupported_logged_{false};
};

template <class Args>
struct Variant {
  std::string name;
  DeviceType device;
  int priority;
  bool (*supports)(const Args&);
  void (*run)(const Args&);
};

template <class Args>
class Op : public OpBase {
 public:
  using OpBase::OpBase;

  // The op's cost formula (FLOPs, bytes) for the profiler; set once at start-up.
  void set_cost(OpCost (*cost)(const Args&)) { cost_ = cost; }
  OpCost cost(const Args& args) const { return cost_ ? cost_(args) : OpCost{}; }

  // Registration (start-up only, before any dispatch).
  void add(Variant<Args> variant) {
    auto pos = variants_.begin();
    while (pos != variants_.end() && pos->priority >= variant.priority) ++pos;
    variants_.insert(pos, std::move(variant));
  }

  std::vector<VariantInfo> variant_infos() const override {
    std::vector<VariantInfo> out;
    for (const auto& v : variants_) out.push_back({v.name, v.device, v.priority});
    return out;
  }
  const std::vector<Variant<Args>>& variants() const { return variants_; }

  // The variant routing would pick for these arguments, or nullptr when no
  // variant on their device supports them.
  const Variant<Args>* select(const Args& args, Device device) const {
    const int chosen = this->chosen();
    if (chosen >= 0) {
      const Variant<Args>& v = variants_[chosen];
      if (v.device == device.type) {
        if (v.supports(args)) return &v;
        note_explicit_unsupported(v.name, args.describe());
      }
    }
    for (const auto& v : variants_)
      if (v.device == device.type && v.supports(args)) return &v;
    return nullptr;
  }

  // Dispatch: validate, route, run. Falls back to the CPU (copying) when a
  // CUDA call has no CUDA variant, unless strict mode is on.
  void operator()(const Args& args) const {
    ensure_backends_registered();
    args.validate();
    const Device device = args_device(args);
    if (const Variant<Args>* v = select(args, device)) {
      if (debug()) log_route(args.describe(), v->name, chosen() >= 0 ? "explicit" : "auto");
      run_observed(*v, args, device, false);
      return;
    }
    if (device.is_cuda()) {
      if (strict()) fail_no_variant(args.describe(), device);
      run_on_cpu(args);
      return;
    }
    fail_no_variant(args.describe(), device);
  }

  // Runs one named variant directly (the conformance test and benchmarks use
  // this); validates first, and throws if the variant does not support the call.
  void run_variant(const Variant<Args>& v, const Args& args) const {
    ensure_backends_registered();
    args.validate();
    TINYOPT_CHECK(v.supports(args), "{}: variant {} does not support {}", name_, v.name, args.describe());
    v.run(args);
  }

 private:
  // Runs a variant, reporting it to the profiler when one is installed.
  void run_observed(const Variant<Args>& v, const Args& args, Device device, bool fallback) const {
    DispatchObserver* observer = dispatch_observer();
    if (observer == nullptr) {
      v.run(args);
      return;
    }
    const int64_t token = observer->op_begin({name_, v.name.c_str(), device, OpShapes::of(args), cost(args), fallback});
    v.run(args);
    observer->op_end(token);
  }

  static Device args_device(const Args& args) {
    Device device;
    bool first = true;
    const_cast<Args&>(args).visit([&](Tensor& t, bool) {
      if (first) {
        device = t.device();
        first = false;
      }
    });
    return device;
  }

  void run_on_cpu(const Args& args) const {
    note_fallback(args.describe());
    Args host = args;
    host.visit([](Tensor& t, bool) { t = t.to(Device::cpu()); });
    const Variant<Args>* v = select(host, Device::cpu());
    if (v == nullptr) fail_no_variant(host.describe(), Device::cpu());
    run_observed(*v, host, Device::cpu(), true);
    // Copy outputs back, pairing tensors by their visit order.
    std::vector<Tensor*> originals;
    const_cast<Args&>(args).visit([&](Tensor& t, bool is_output) { originals.push_back(is_output ? &t : nullptr); });
    size_t i = 0;
    host.visit([&](Tensor& t, bool is_output) {
      if (is_output) originals[i]->copy_from(t);
      ++i;
    });
  }

  std::vector<Variant<Args>> variants_;
  OpCost (*cost_)(const Args&) = nullptr;
};

}  // namespace tinyopt
