// The CUDA device runtime: fills core's DeviceRuntime table (device count,
// allocate/free, copies, synchronize, byte fill) with CUDA runtime calls, and
// owns the per-device cuBLAS handles and the device descriptions shown by
// `tinyopt backends`.
//
// Everything here must behave on a machine without a GPU or driver: the
// device count probe returns 0 (and remembers why), nothing else is reached
// because core's device_require() refuses CUDA tensors before any allocation.
#include <fmt/format.h>

#include <mutex>
#include <string>
#include <vector>

#include "backends/cuda/cuda_common.cuh"
#include "backends/cuda/cuda_kernels.h"
#include "core/device_runtime.h"

namespace tinyopt::cuda {

namespace {

struct DeviceProbe {
  int count = 0;
  std::string reason;  // why count is 0, for runtime_description()
};

// cudaGetDeviceCount fails (cudaErrorNoDevice, cudaErrorInsufficientDriver,
// ...) rather than crashing when there is no usable GPU; that is a normal
// answer here, not an error. The failure is cleared with cudaGetLastError so
// it cannot surface from a later call. Probed once: the set of visible
// devices cannot change during a process (CUDA_VISIBLE_DEVICES is read at
// initialisation), and device_require() asks on every CUDA allocation.
const DeviceProbe& device_probe() {
  static const DeviceProbe probe = [] {
    DeviceProbe p;
    int count = 0;
    const cudaError_t status = cudaGetDeviceCount(&count);
    if (status != cudaSuccess) {
      (void)cudaGetLastError();
      int driver_version = 0;
      if (cudaDriverGetVersion(&driver_version) != cudaSuccess) (void)cudaGetLastError();
      // With no driver at all CUDA says "driver version is insufficient"; say what is really missing.
      p.reason = fmt::format("{}{}: {}", driver_version == 0 ? "no NVIDIA driver is installed, " : "",
                             cudaGetErrorName(status), cudaGetErrorString(status));
      return p;
    }
    p.count = count;
    if (count == 0) p.reason = "the CUDA runtime reports no devices";
    return p;
  }();
  return probe;
}

double gib(size_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0 * 1024.0); }

void* runtime_allocate(size_t bytes, int device) {
  set_device(device);
  void* ptr = nullptr;
  const cudaError_t status = cudaMalloc(&ptr, bytes);
  if (status == cudaSuccess) return ptr;
  (void)cudaGetLastError();  // out-of-memory is not sticky: clear it before asking for the free memory
  std::string memory;
  size_t free_bytes = 0, total_bytes = 0;
  if (cudaMemGetInfo(&free_bytes, &total_bytes) == cudaSuccess) {
    memory = fmt::format(" ({:.2f} GiB free of {:.2f} GiB)", gib(free_bytes), gib(total_bytes));
  } else {
    (void)cudaGetLastError();
  }
  fail("cuda:{}: could not allocate {} bytes{}: {}: {}", device, bytes, memory, cudaGetErrorName(status),
       cudaGetErrorString(status));
}

// Called from Storage's destructor, so it must never throw. Errors are
// dropped: at process exit the runtime may already be unloading
// (cudaErrorCudartUnloading), and after a sticky kernel fault every call fails.
void runtime_deallocate(void* ptr, int device) {
  if (ptr == nullptr) return;
  if (cudaSetDevice(device) != cudaSuccess || cudaFree(ptr) != cudaSuccess) (void)cudaGetLastError();
}

// cudaMemcpy on the legacy default stream: ordered after every kernel this
// backend launched, and it returns once the data is usable by the host.
void runtime_copy(void* dst, const void* src, size_t bytes, CopyKind kind, int device) {
  if (bytes == 0) return;
  set_device(device);
  cudaMemcpyKind cuda_kind = cudaMemcpyDeviceToDevice;
  switch (kind) {
    case CopyKind::host_to_device: cuda_kind = cudaMemcpyHostToDevice; break;
    case CopyKind::device_to_host: cuda_kind = cudaMemcpyDeviceToHost; break;
    case CopyKind::device_to_device: cuda_kind = cudaMemcpyDeviceToDevice; break;
  }
  CUDA_CHECK(cudaMemcpy(dst, src, bytes, cuda_kind));
}

// Waits for all work on the device; asynchronous kernel faults surface here.
void runtime_synchronize(int device) {
  set_device(device);
  CUDA_CHECK(cudaDeviceSynchronize());
}

void runtime_fill_bytes(void* dst, int value, size_t bytes, int device) {
  if (bytes == 0) return;
  set_device(device);
  CUDA_CHECK(cudaMemset(dst, value, bytes));
}

int runtime_device_count() { return device_probe().count; }

// Timing events for the Timer. cudaEventDefault (not DisableTiming): these
// exist to be timed. Recorded on the legacy default stream, which every
// kernel of this backend uses, so A..B brackets exactly the work in between.
void* runtime_event_create(int device) {
  set_device(device);
  cudaEvent_t event = nullptr;
  CUDA_CHECK(cudaEventCreate(&event));
  return event;
}

// Called from destructors: errors are dropped (as in runtime_deallocate).
void runtime_event_destroy(void* event, int device) {
  if (event == nullptr) return;
  if (cudaSetDevice(device) != cudaSuccess || cudaEventDestroy(static_cast<cudaEvent_t>(event)) != cudaSuccess)
    (void)cudaGetLastError();
}

void runtime_event_record(void* event, int device) {
  set_device(device);
  CUDA_CHECK(cudaEventRecord(static_cast<cudaEvent_t>(event), nullptr));
}

double runtime_event_elapsed_seconds(void* start, void* end, int device) {
  set_device(device);
  CUDA_CHECK(cudaEventSynchronize(static_cast<cudaEvent_t>(end)));
  float ms = 0;
  CUDA_CHECK(cudaEventElapsedTime(&ms, static_cast<cudaEvent_t>(start), static_cast<cudaEvent_t>(end)));
  return static_cast<double>(ms) * 1e-3;
}

const DeviceRuntime kCudaRuntime = {
    "cuda",
    runtime_device_count,
    runtime_allocate,
    runtime_deallocate,
    runtime_copy,
    runtime_synchronize,
    runtime_fill_bytes,
    device_description,
    runtime_description,
    runtime_event_create,
    runtime_event_destroy,
    runtime_event_record,
    runtime_event_elapsed_seconds,
};

}  // namespace

void install_device_runtime() { device_runtime_install(DeviceType::cuda, &kCudaRuntime); }

int device_count() { return device_probe().count; }

std::string device_description(int device) {
  TINYOPT_CHECK(device >= 0 && device < device_count(), "cuda:{} requested, but {} CUDA device(s) are present",
                device, device_count());
  cudaDeviceProp prop{};
  CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  return fmt::format("{} (sm_{}{}, {} SMs, {:.1f} GiB)", prop.name, prop.major, prop.minor, prop.multiProcessorCount,
                     gib(prop.totalGlobalMem));
}

std::string runtime_description() {
  int runtime_version = 0, driver_version = 0;
  if (cudaRuntimeGetVersion(&runtime_version) != cudaSuccess) (void)cudaGetLastError();
  if (cudaDriverGetVersion(&driver_version) != cudaSuccess) (void)cudaGetLastError();
  const auto version = [](int v) {
    return v == 0 ? std::string("none") : fmt::format("{}.{}", v / 1000, (v % 1000) / 10);
  };
  std::string out = fmt::format("CUDA runtime {}, driver {}", version(runtime_version), version(driver_version));
  const DeviceProbe& probe = device_probe();
  if (probe.count == 0) return out + fmt::format("; no CUDA device ({})", probe.reason);
  for (int d = 0; d < probe.count; ++d) out += fmt::format("; cuda:{} {}", d, device_description(d));
  return out;
}

cublasHandle_t cublas_handle(int device) {
  static std::mutex mutex;
  static std::vector<cublasHandle_t> handles;
  std::lock_guard<std::mutex> lock(mutex);
  TINYOPT_CHECK(device >= 0 && device < device_count(), "cuBLAS handle for cuda:{} requested, but {} CUDA device(s) are present",
                device, device_count());
  if (handles.empty()) handles.assign(static_cast<size_t>(device_count()), nullptr);
  cublasHandle_t& handle = handles[static_cast<size_t>(device)];
  if (handle == nullptr) {
    // cublasCreate binds the handle to the current device and allocates its
    // workspace there; the first call costs milliseconds, later ones nothing.
    set_device(device);
    CUBLAS_CHECK(cublasCreate(&handle));
    // Default stream (the one our kernels use), host-side alpha/beta, and the
    // default math mode: plain FP32, no TF32 tensor cores, so results stay
    // comparable with the other f32 variants at the conformance thresholds.
    CUBLAS_CHECK(cublasSetStream(handle, nullptr));
    CUBLAS_CHECK(cublasSetPointerMode(handle, CUBLAS_POINTER_MODE_HOST));
  }
  return handle;
}

}  // namespace tinyopt::cuda
