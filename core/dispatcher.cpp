#include "core/dispatcher.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <set>

#include "core/error.h"

namespace tinyopt {

namespace {

// Ops enrol here from their constructors (static initialisation), before the
// OptimizedBackend instance exists.
std::vector<OpBase*>& enrolled_ops() {
  static std::vector<OpBase*> ops;
  return ops;
}

std::atomic<bool> g_strict{false};
std::atomic<bool> g_debug{false};

bool env_flag(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' && std::string(v) != "0";
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

}  // namespace

std::atomic<bool> OpBase::backends_ready_{false};

namespace {
std::atomic<DispatchObserver*> g_observer{nullptr};
}

DispatchObserver* dispatch_observer() { return g_observer.load(std::memory_order_relaxed); }
void dispatch_observer_install(DispatchObserver* observer) { g_observer.store(observer); }

OpBase::OpBase(const char* name) : name_(name), index_(enrolled_ops().size()) { enrolled_ops().push_back(this); }

namespace {
thread_local const std::vector<int>* t_scoped_choice = nullptr;
}

const std::vector<int>* OpBase::thread_choice() { return t_scoped_choice; }

ScopedBackendChoice::ScopedBackendChoice(const BackendChoice& choice)
    : chosen_(OptimizedBackend::instance().resolve(choice)), previous_(t_scoped_choice) {
  t_scoped_choice = &chosen_;
}

ScopedBackendChoice::~ScopedBackendChoice() { t_scoped_choice = previous_; }

int OpBase::find_variant(std::string_view name) const {
  const auto infos = variant_infos();
  for (size_t i = 0; i < infos.size(); ++i)
    if (infos[i].name == name) return static_cast<int>(i);
  return -1;
}

bool OpBase::strict() { return g_strict.load(std::memory_order_relaxed); }
bool OpBase::debug() { return g_debug.load(std::memory_order_relaxed); }

void OpBase::register_backends_once() { OptimizedBackend::instance(); }

void OpBase::log_route(const std::string& args, const std::string& variant, const char* why) const {
  std::fprintf(stderr, "[tinyopt dispatch] %s(%s) -> %s (%s)\n", name_, args.c_str(), variant.c_str(), why);
}

void OpBase::note_fallback(const std::string& args) const {
  fallbacks_.fetch_add(1, std::memory_order_relaxed);
  if (!fallback_logged_.exchange(true)) {
    std::fprintf(stderr,
                 "[tinyopt] %s(%s): no CUDA variant supports this call; running it on the CPU with copies "
                 "(logged once per op; TINYOPT_STRICT=1 makes this an error)\n",
                 name_, args.c_str());
  }
}

void OpBase::note_explicit_unsupported(const std::string& variant, const std::string& args) const {
  if (strict()) fail("{}: the chosen variant {} does not support {} (strict mode)", name_, variant, args);
  if (!explicit_unsupported_logged_.exchange(true)) {
    std::fprintf(stderr, "[tinyopt] %s: chosen variant %s does not support %s; routing automatically (logged once)\n",
                 name_, variant.c_str(), args.c_str());
  }
}

void OpBase::fail_no_variant(const std::string& args, Device device) const {
  std::vector<std::string> names;
  for (const auto& v : variant_infos()) names.push_back(v.name);
  fail("{}: no {} variant supports {}{} (registered variants: {})", name_, device.str(), args,
       device.is_cuda() && strict() ? " and strict mode forbids CPU fallback" : "", join(names));
}

OptimizedBackend& OptimizedBackend::instance() {
  static OptimizedBackend backend;
  static std::once_flag once;
  static std::string environment_error;
  std::call_once(once, [] {
    for (OpBase* op : enrolled_ops()) backend.register_op(op);
    register_backends();
    if (env_flag("TINYOPT_STRICT")) backend.set_strict(true);
    if (env_flag("TINYOPT_LOG_DISPATCH")) backend.set_debug(true);
    if (const char* choice = std::getenv("TINYOPT_BACKEND"); choice && *choice) {
      try {
        backend.set_choice(choice);
      } catch (const Error& e) {
        environment_error = std::string("TINYOPT_BACKEND: ") + e.what();
      }
    }
    // A bad TINYOPT_BACKEND keeps every dispatch failing with its message
    // rather than silently routing automatically.
    if (environment_error.empty()) OpBase::backends_ready_.store(true, std::memory_order_release);
  });
  if (!environment_error.empty()) throw Error(environment_error);
  return backend;
}

void OptimizedBackend::register_op(OpBase* op) {
  if (std::find(ops_.begin(), ops_.end(), op) == ops_.end()) ops_.push_back(op);
}

OpBase* OptimizedBackend::find_op(std::string_view name) const {
  for (OpBase* op : ops_)
    if (name == op->name()) return op;
  return nullptr;
}

std::vector<std::string> OptimizedBackend::variant_names() const {
  std::set<std::string> names;
  for (const OpBase* op : ops_)
    for (const auto& v : op->variant_infos()) names.insert(v.name);
  return {names.begin(), names.end()};
}

BackendChoice OptimizedBackend::parse_choice(const std::string& spec) const {
  BackendChoice choice;
  size_t start = 0;
  while (start <= spec.size()) {
    size_t end = spec.find(',', start);
    if (end == std::string::npos) end = spec.size();
    std::string item = spec.substr(start, end - start);
    start = end + 1;
    if (item.empty()) continue;
    const size_t eq = item.find('=');
    if (eq == std::string::npos) {
      TINYOPT_CHECK(choice.global.empty(), "backend choice '{}': more than one global variant ('{}' and '{}')", spec,
                    choice.global, item);
      choice.global = item;
    } else {
      choice.per_op.emplace_back(item.substr(0, eq), item.substr(eq + 1));
    }
  }
  const std::vector<std::string> names = variant_names();
  if (!choice.global.empty() && choice.global != "auto") {
    TINYOPT_CHECK(std::find(names.begin(), names.end(), choice.global) != names.end(),
                  "unknown backend variant '{}'; valid variants: auto, {}", choice.global, join(names));
  }
  for (const auto& [op_name, variant] : choice.per_op) {
    OpBase* op = find_op(op_name);
    if (op == nullptr) {
      std::vector<std::string> op_names;
      for (const OpBase* o : ops_) op_names.emplace_back(o->name());
      fail("unknown op '{}' in backend choice '{}'; valid ops: {}", op_name, spec, join(op_names));
    }
    if (variant != "auto" && op->find_variant(variant) < 0) {
      std::vector<std::string> valid;
      for (const auto& v : op->variant_infos()) valid.push_back(v.name);
      fail("unknown variant '{}' for op '{}'; valid variants: auto, {}", variant, op_name, join(valid));
    }
  }
  if (choice.global == "auto") choice.global.clear();
  return choice;
}

std::vector<int> OptimizedBackend::resolve(const BackendChoice& choice) const {
  std::vector<int> chosen(enrolled_ops().size(), -1);
  for (OpBase* op : ops_) chosen[op->index()] = choice.global.empty() ? -1 : op->find_variant(choice.global);
  for (const auto& [op_name, variant] : choice.per_op) {
    const OpBase* op = find_op(op_name);
    TINYOPT_CHECK(op != nullptr, "backend choice: unknown op '{}' (use parse_choice to validate a spec)", op_name);
    chosen[op->index()] = variant == "auto" ? -1 : op->find_variant(variant);
  }
  return chosen;
}

void OptimizedBackend::set_choice(const std::string& spec) {
  const BackendChoice choice = parse_choice(spec);  // all names valid before anything changes
  global_choice_ = choice.global;
  op_choices_ = choice.per_op;
  const std::vector<int> chosen = resolve(choice);
  for (OpBase* op : ops_) op->set_chosen(chosen[op->index()]);
}

void OptimizedBackend::clear_choices() {
  global_choice_.clear();
  op_choices_.clear();
  for (OpBase* op : ops_) op->set_chosen(-1);
}

std::string OptimizedBackend::choice_summary() const {
  std::string out = global_choice_.empty() ? "auto" : global_choice_;
  for (const auto& [op, variant] : op_choices_) out += "," + op + "=" + variant;
  return out;
}

void OptimizedBackend::set_strict(bool on) { g_strict.store(on); }
bool OptimizedBackend::strict() const { return g_strict.load(); }
void OptimizedBackend::set_debug(bool on) { g_debug.store(on); }
bool OptimizedBackend::debug() const { return g_debug.load(); }

}  // namespace tinyopt
