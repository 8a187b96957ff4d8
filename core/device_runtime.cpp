#include "core/device_runtime.h"

#include <atomic>
#include <cstdio>

#include "core/dispatcher.h"
#include "core/error.h"

namespace tinyopt {

namespace {
std::atomic<const DeviceRuntime*> g_cuda_runtime{nullptr};
}

void device_runtime_install(DeviceType type, const DeviceRuntime* runtime) {
  if (type == DeviceType::cuda) g_cuda_runtime.store(runtime);
}

const DeviceRuntime* device_runtime(DeviceType type) {
  // The CUDA backend installs its runtime when backends register; make sure
  // that has happened even if no op was dispatched yet.
  OptimizedBackend::instance();
  return type == DeviceType::cuda ? g_cuda_runtime.load() : nullptr;
}

int device_count(DeviceType type) {
  if (type == DeviceType::cpu) return 1;
  const DeviceRuntime* rt = device_runtime(type);
  return rt ? rt->device_count() : 0;
}

void device_require(Device device) {
  if (device.is_cpu()) return;
  const DeviceRuntime* rt = device_runtime(device.type);
  TINYOPT_CHECK(rt != nullptr, "{} requested, but this build of tinyopt has no CUDA backend (rebuild with nvcc available)",
                device.str());
  const int count = rt->device_count();
  TINYOPT_CHECK(count > 0, "{} requested, but no CUDA device is present on this machine", device.str());
  TINYOPT_CHECK(device.index >= 0 && device.index < count, "{} requested, but only {} CUDA device(s) are present",
                device.str(), count);
}

std::string cuda_unusable_reason() {
  const DeviceRuntime* rt = device_runtime(DeviceType::cuda);
  if (rt == nullptr) return "this build of tinyopt has no CUDA backend";
  if (rt->device_count() > 0) return "";
  return rt->runtime_summary();
}

Device usable_device_or_cpu(Device requested, const std::string& what) {
  if (requested.is_cpu()) return requested;
  const std::string why = cuda_unusable_reason();
  if (why.empty()) {
    device_require(requested);  // a device exists: an out-of-range index is still an error
    return requested;
  }
  TINYOPT_CHECK(!OptimizedBackend::instance().strict(), "{}: {} is not usable ({}) and strict mode forbids running on the CPU",
                what, requested.str(), why);
  std::fprintf(stderr, "tinyopt: %s: %s is not usable (%s); running on the CPU instead (--strict makes this an error)\n",
               what.c_str(), requested.str().c_str(), why.c_str());
  return Device::cpu();
}

void device_synchronize(Device device) {
  if (device.is_cpu()) return;
  if (const DeviceRuntime* rt = device_runtime(device.type)) rt->synchronize(device.index);
}

Device parse_device(const std::string& text) {
  if (text == "cpu") return Device::cpu();
  if (text == "cuda") return Device::cuda(0);
  if (text.rfind("cuda:", 0) == 0) {
    const std::string index = text.substr(5);
    bool digits = !index.empty() && index.size() < 4;
    for (char c : index) digits = digits && c >= '0' && c <= '9';
    if (digits) return Device::cuda(std::stoi(index));
  }
  fail("unknown device '{}': expected 'cpu', 'cuda' or 'cuda:N'", text);
}

}  // namespace tinyopt
