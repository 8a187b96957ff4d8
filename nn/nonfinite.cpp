#include "nn/nonfinite.h"

#include <cmath>

namespace tinyopt::nn {

namespace {

template <class T>
NonFiniteCount count(const T* p, int64_t n) {
  NonFiniteCount c;
  for (int64_t i = 0; i < n; ++i) {
    c.nan += std::isnan(p[i]) ? 1 : 0;
    c.inf += std::isinf(p[i]) ? 1 : 0;
  }
  return c;
}

}  // namespace

NonFiniteCount count_nonfinite(const Tensor& t) {
  if (!t.defined() || (t.dtype() != DType::f32 && t.dtype() != DType::f64)) return {};
  const Tensor cpu = t.to(Device::cpu());  // contiguous host copy (or t itself)
  return cpu.dtype() == DType::f32 ? count(cpu.data<float>(), cpu.numel()) : count(cpu.data<double>(), cpu.numel());
}

std::string describe_nonfinite(const std::map<std::string, Tensor>& tensors) {
  std::string out;
  int named = 0, more = 0;
  for (const auto& [name, t] : tensors) {
    const NonFiniteCount c = count_nonfinite(t);
    if (!c.any()) continue;
    if (named == 10) {
      ++more;
      continue;
    }
    out += fmt::format("{}'{}' ({} NaN, {} Inf)", out.empty() ? "" : ", ", name, c.nan, c.inf);
    ++named;
  }
  if (more > 0) out += fmt::format(" and {} more tensors", more);
  return out;
}

}  // namespace tinyopt::nn
