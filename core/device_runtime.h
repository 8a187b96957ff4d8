// The small function table through which core/ reaches a non-CPU device.
// core/ never includes CUDA headers: backends/cuda fills this table when it is
// built and a device is present, so a CPU-only build links and runs unchanged.
#pragma once

#include <cstddef>
#include <string>

#include "core/device.h"

namespace tinyopt {

enum class CopyKind { host_to_device, device_to_host, device_to_device };

struct DeviceRuntime {
  const char* name;                                    // "cuda"
  int (*device_count)();                               // 0 when no device is usable
  void* (*allocate)(size_t bytes, int device);         // throws tinyopt::Error on failure
  void (*deallocate)(void* ptr, int device);
  void (*copy)(void* dst, const void* src, size_t bytes, CopyKind kind, int device);
  void (*synchronize)(int device);
  void (*fill_bytes)(void* dst, int value, size_t bytes, int device);
  std::string (*describe)(int device);                // "NVIDIA H100 (sm_90, 132 SMs, 80 GiB)"
  std::string (*runtime_summary)();                   // runtime/driver versions, or why no device is usable
  // Timing events on the device's default stream (cudaEvent_t), for Timer.
  void* (*event_create)(int device);
  void (*event_destroy)(void* event, int device);      // never throws
  void (*event_record)(void* event, int device);
  double (*event_elapsed_seconds)(void* start, void* end, int device);  // waits for `end`
};

// Installed by backends/cuda at start-up; nullptr in a CPU-only build.
void device_runtime_install(DeviceType type, const DeviceRuntime* runtime);
const DeviceRuntime* device_runtime(DeviceType type);

// Number of usable devices of a type (CPU: 1).
int device_count(DeviceType type);
// Throws a clear error when `device` cannot be used here ("cuda:0 requested
// but this build has no CUDA" / "... but no CUDA device is present").
void device_require(Device device);
void device_synchronize(Device device);

// Why CUDA cannot be used here ("this build has no CUDA backend", or the
// runtime's own reason such as "no NVIDIA driver is installed, ..."), or ""
// when a device is usable.
std::string cuda_unusable_reason();

// `requested` when it can be used; otherwise, for a CUDA device that is not
// usable at run time, the CPU, after printing one line on stderr that says
// so and why ("`what`: cuda:0 is not usable (...); running on the CPU
// instead"). In strict mode (--strict / TINYOPT_STRICT) it throws instead.
Device usable_device_or_cpu(Device requested, const std::string& what);

}  // namespace tinyopt
