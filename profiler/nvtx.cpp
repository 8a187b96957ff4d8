// Compiled to nothing without NVTX (see nvtx.h).
#include "profiler/nvtx.h"

#if defined(TINYOPT_HAVE_NVTX)

#include <nvtx3/nvToolsExt.h>

#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <string>
#include <unordered_map>

namespace tinyopt::nvtx {
inline namespace enabled {

namespace {

// NVTX forwards to a tool only when one was injected, which for a dynamic
// tool (nsys, ncu) means NVTX_INJECTION64_PATH is set at start-up; without it
// every call would be a no-op, so skip even the string registration.
bool tool_attached() {
  static const bool attached = std::getenv("NVTX_INJECTION64_PATH") != nullptr;
  return attached;
}

nvtxDomainHandle_t domain() {
  static const nvtxDomainHandle_t d = nvtxDomainCreateA("tinyopt");
  return d;
}

uint32_t colour(Category c) {
  switch (c) {
    case Category::compute: return 0xFFD62728;        // red: the FLOP-heavy ops
    case Category::elementwise: return 0xFF2CA02C;    // green
    case Category::normalization: return 0xFF9467BD;  // purple
    case Category::attention: return 0xFFFF7F0E;      // orange
    case Category::memory: return 0xFF17BECF;         // cyan: gathers and pooling
    case Category::backward: return 0xFF8C564B;       // brown
    case Category::layer: return 0xFF7F7F7F;          // grey: layers frame their ops
  }
  return 0xFF000000;
}

// Registered once per distinct name; later pushes pass only the handle.
// Op names are string literals, so their address is the key (no hashing of text).
std::mutex g_mutex;
std::unordered_map<const char*, nvtxStringHandle_t> g_ops;
std::unordered_map<std::string, nvtxStringHandle_t> g_layers;

void push(nvtxStringHandle_t name, uint32_t argb) {
  nvtxEventAttributes_t a{};
  a.version = NVTX_VERSION;
  a.size = NVTX_EVENT_ATTRIB_STRUCT_SIZE;
  a.colorType = NVTX_COLOR_ARGB;
  a.color = argb;
  a.messageType = NVTX_MESSAGE_TYPE_REGISTERED;
  a.message.registered = name;
  nvtxDomainRangePushEx(domain(), &a);
}

}  // namespace

void push_op(const char* op) {
  if (!tool_attached()) return;
  nvtxStringHandle_t handle;
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    auto [it, fresh] = g_ops.try_emplace(op, nullptr);
    if (fresh) it->second = nvtxDomainRegisterStringA(domain(), op);
    handle = it->second;
  }
  push(handle, colour(category_of(op)));
}

void push_layer(std::string_view name) {
  if (!tool_attached()) return;
  nvtxStringHandle_t handle;
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    auto [it, fresh] = g_layers.try_emplace(std::string(name), nullptr);
    if (fresh) it->second = nvtxDomainRegisterStringA(domain(), it->first.c_str());
    handle = it->second;
  }
  push(handle, colour(Category::layer));
}

void pop() {
  if (tool_attached()) nvtxDomainRangePop(domain());
}

}  // namespace enabled
}  // namespace tinyopt::nvtx

#endif
