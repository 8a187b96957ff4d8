// NaN / Inf detection for weights and outputs, so a model that holds or
// produces non-finite numbers is reported (tinyopt eval refuses to print an
// accuracy computed from NaN logits; tinyopt infer warns) instead of hidden
// behind an argmax that happens to pick some class.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "core/tensor.h"

namespace tinyopt::nn {

struct NonFiniteCount {
  int64_t nan = 0;
  int64_t inf = 0;
  bool any() const { return nan + inf > 0; }
};

// NaN and +-Inf values in `t` (a float tensor on any device; integer tensors have none).
NonFiniteCount count_nonfinite(const Tensor& t);

// "'0.weight' (1 NaN, 0 Inf), 'lm_head.weight' (0 NaN, 3 Inf)" for the
// tensors that hold any, in name order (at most 10 named); empty when none.
std::string describe_nonfinite(const std::map<std::string, Tensor>& tensors);

}  // namespace tinyopt::nn
