#include "conformance/conformance.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "core/device_runtime.h"
#include "core/dispatcher.h"

namespace tinyopt::conformance {

double read_element(const void* data, DType dtype, int64_t i) {
  switch (dtype) {
    case DType::f32: return static_cast<const float*>(data)[i];
    case DType::f64: return static_cast<const double*>(data)[i];
    case DType::i8: return static_cast<const int8_t*>(data)[i];
    case DType::u8: return static_cast<const uint8_t*>(data)[i];
    case DType::i32: return static_cast<const int32_t*>(data)[i];
    case DType::i64: return static_cast<double>(static_cast<const int64_t*>(data)[i]);
  }
  return 0;
}

void write_element(void* data, DType dtype, int64_t i, double v) {
  switch (dtype) {
    case DType::f32: static_cast<float*>(data)[i] = static_cast<float>(v); break;
    case DType::f64: static_cast<double*>(data)[i] = v; break;
    case DType::i8: static_cast<int8_t*>(data)[i] = static_cast<int8_t>(v); break;
    case DType::u8: static_cast<uint8_t*>(data)[i] = static_cast<uint8_t>(v); break;
    case DType::i32: static_cast<int32_t*>(data)[i] = static_cast<int32_t>(v); break;
    case DType::i64: static_cast<int64_t*>(data)[i] = static_cast<int64_t>(v); break;
  }
}

namespace {

constexpr size_t kGuardBytes = 64;
constexpr unsigned char kGuardByte = 0xA5;
constexpr unsigned char kPoisonByte = 0x5A;  // integer outputs; floats get NaN

bool is_float(DType t) { return t == DType::f32 || t == DType::f64; }

// Host tensor whose values are exactly `values` rounded to the dtype; the
// rounded values are written back so the reference sees what the kernel sees.
Tensor host_tensor(const TensorSpec& spec, std::vector<double>& values) {
  Tensor t = Tensor::empty(spec.shape, spec.dtype);
  for (int64_t i = 0; i < t.numel(); ++i) {
    write_element(t.raw_data(), spec.dtype, i, values[i]);
    values[i] = read_element(t.raw_data(), spec.dtype, i);
  }
  return t;
}

// An output tensor on `device` followed by guard bytes, poisoned throughout.
struct GuardedOutput {
  std::shared_ptr<Storage> storage;
  Tensor tensor;
};

GuardedOutput guarded_output(const TensorSpec& spec, Device device) {
  const size_t bytes = static_cast<size_t>(spec.shape.numel()) * dtype_size(spec.dtype);
  std::vector<unsigned char> host(bytes + kGuardBytes, kPoisonByte);
  if (spec.dtype == DType::f32) {
    const float nan = std::numeric_limits<float>::quiet_NaN();
    for (size_t i = 0; i + 4 <= bytes; i += 4) std::memcpy(&host[i], &nan, 4);
  } else if (spec.dtype == DType::f64) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    for (size_t i = 0; i + 8 <= bytes; i += 8) std::memcpy(&host[i], &nan, 8);
  }
  std::memset(host.data() + bytes, kGuardByte, kGuardBytes);
  auto storage = std::make_shared<Storage>(host.size(), device);
  Tensor whole = Tensor::view_of(storage, {static_cast<int64_t>(host.size())}, DType::u8);
  Tensor staging = Tensor::empty({static_cast<int64_t>(host.size())}, DType::u8);
  std::memcpy(staging.raw_data(), host.data(), host.size());
  whole.copy_from(staging);
  return {storage, Tensor::view_of(storage, spec.shape, spec.dtype)};
}

// Copies a whole storage (tensor + guard) back to the host.
std::vector<unsigned char> storage_bytes(const std::shared_ptr<Storage>& storage) {
  Tensor whole = Tensor::view_of(storage, {static_cast<int64_t>(storage->bytes())}, DType::u8);
  Tensor host = whole.to(Device::cpu());
  const auto* p = static_cast<const unsigned char*>(host.raw_data());
  return {p, p + storage->bytes()};
}

struct PreparedCall {
  std::vector<std::vector<double>> input_values;
  std::vector<Tensor> host_inputs;
  std::vector<GuardedOutput> outputs;
  std::vector<Tensor> tensors;  // inputs (on device) then outputs
};

PreparedCall prepare(const OpCase& c, Device device, uint64_t seed) {
  std::mt19937_64 rng(seed);
  PreparedCall p;
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    std::vector<double> values(static_cast<size_t>(c.inputs[i].shape.numel()));
    const Generator& gen = i < c.generators.size() && c.generators[i] ? c.generators[i] : uniform(-1, 1);
    gen(values, rng);
    Tensor host = host_tensor(c.inputs[i], values);
    p.input_values.push_back(std::move(values));
    p.tensors.push_back(host.to(device));
    p.host_inputs.push_back(host.clone());  // pristine copy to detect writes to inputs
  }
  for (const TensorSpec& spec : c.outputs) {
    p.outputs.push_back(guarded_output(spec, device));
    p.tensors.push_back(p.outputs.back().tensor);
  }
  return p;
}

std::string skip_reason(const VariantInfo& variant) {
  if (variant.device == DeviceType::cuda && device_count(DeviceType::cuda) == 0) {
    return device_runtime(DeviceType::cuda) ? "no CUDA device on this machine" : "built without CUDA";
  }
  return "";
}

Device device_for(const VariantInfo& variant) {
  return variant.device == DeviceType::cuda ? Device::cuda(0) : Device::cpu();
}

}  // namespace

Generator uniform(double lo, double hi) {
  return [lo, hi](std::vector<double>& values, std::mt19937_64& rng) {
    std::uniform_real_distribution<double> dist(lo, hi);
    for (double& v : values) v = dist(rng);
  };
}

const char* outcome_name(Outcome outcome) {
  switch (outcome) {
    case Outcome::pass: return "pass";
    case Outcome::fail: return "FAIL";
    case Outcome::unsupported: return "unsupported";
    case Outcome::skipped: return "skipped";
  }
  return "?";
}

std::vector<VariantInfo> case_variants(const OpCase& c) {
  OptimizedBackend::instance();  // make sure every backend has registered
  return c.op_object->variant_infos();
}

CaseResult check_case(const OpCase& c, const VariantInfo& variant, uint64_t seed) {
  CaseResult result;
  if (std::string why = skip_reason(variant); !why.empty()) return {Outcome::skipped, 0, why};
  const Device device = device_for(variant);
  PreparedCall call = prepare(c, device, seed);

  if (!c.invoke(variant.name, call.tensors)) {
    return {Outcome::unsupported, 0, variant.name + " declines " + c.label};
  }
  device_synchronize(device);

  std::vector<std::vector<double>> expected(c.outputs.size());
  for (size_t i = 0; i < c.outputs.size(); ++i) expected[i].assign(c.outputs[i].shape.numel(), 0.0);
  c.reference(call.input_values, expected);

  // Inputs must be untouched.
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    Tensor after = call.tensors[i].to(Device::cpu());
    if (std::memcmp(after.raw_data(), call.host_inputs[i].raw_data(), after.nbytes()) != 0) {
      return {Outcome::fail, 0, fmt::format("input {} was modified by the kernel", i)};
    }
  }

  double err2 = 0, ref2 = 0;
  for (size_t o = 0; o < c.outputs.size(); ++o) {
    const TensorSpec& spec = c.outputs[o];
    const std::vector<unsigned char> bytes = storage_bytes(call.outputs[o].storage);
    const size_t nbytes = static_cast<size_t>(spec.shape.numel()) * dtype_size(spec.dtype);
    for (size_t g = 0; g < kGuardBytes; ++g) {
      if (bytes[nbytes + g] != kGuardByte) {
        return {Outcome::fail, 0, fmt::format("output {} overran its buffer: guard byte {} was written", o, g)};
      }
    }
    for (int64_t i = 0; i < spec.shape.numel(); ++i) {
      const double got = read_element(bytes.data(), spec.dtype, i);
      const double want = expected[o][i];
      if (!std::isfinite(got) && std::isfinite(want)) {
        return {Outcome::fail, 0,
                fmt::format("output {} element {} is {} (expected {}): unwritten or non-finite", o, i, got, want)};
      }
      if (!is_float(spec.dtype) && c.max_lsb >= 0) {
        if (!(std::fabs(got - want) <= static_cast<double>(c.max_lsb))) {
          return {Outcome::fail, 0,
                  fmt::format("output {} element {} is {} (expected {} within {} LSB)", o, i, got, want, c.max_lsb)};
        }
        continue;  // judged by the LSB bound, not by NMSE
      }
      if (!is_float(spec.dtype) && c.max_nmse == 0 && got != want) {
        return {Outcome::fail, 0, fmt::format("output {} element {} is {} (expected exactly {})", o, i, got, want)};
      }
      if (std::isfinite(want)) {
        err2 += (got - want) * (got - want);
        ref2 += want * want;
      } else if (!(std::isnan(want) && std::isnan(got)) && got != want) {
        return {Outcome::fail, 0, fmt::format("output {} element {} is {} (expected {})", o, i, got, want)};
      }
    }
  }
  // Normalized MSE; when the reference is all zeros, the plain squared error.
  result.nmse = ref2 > 0 ? err2 / ref2 : err2;
  if (!(result.nmse <= c.max_nmse)) {
    return {Outcome::fail, result.nmse, fmt::format("NMSE {:.3g} exceeds the threshold {:.3g}", result.nmse, c.max_nmse)};
  }
  result.outcome = Outcome::pass;
  return result;
}

double PerfResult::gflops() const { return stats.p50 > 0 ? cost.flops / stats.p50 * 1e-9 : 0; }
double PerfResult::gbytes_per_s() const { return stats.p50 > 0 ? cost.bytes / stats.p50 * 1e-9 : 0; }

PerfResult perf_case(const OpCase& c, const VariantInfo& variant, const TimerOptions& options, uint64_t seed) {
  PerfResult result;
  result.cost = c.cost;
  if (std::string why = skip_reason(variant); !why.empty()) {
    result.outcome = Outcome::skipped;
    result.message = why;
    return result;
  }
  const Device device = device_for(variant);
  PreparedCall call = prepare(c, device, seed);
  if (!c.invoke(variant.name, call.tensors)) {
    result.outcome = Outcome::unsupported;
    result.message = variant.name + " declines " + c.label;
    return result;
  }
  TimerOptions opts = options;
  opts.device = device;
  Timer timer(opts);
  result.stats = timer.measure([&] { c.invoke(variant.name, call.tensors); });
  return result;
}

}  // namespace tinyopt::conformance
