// The output stage shared by the CPU int8 kernels: turns one i32 accumulator of
// output channel `ch` into y's element, by y's dtype (QuantOutput): the raw
// accumulator, the requantized u8 value (kernels::requantize, bit-exact with
// every other backend) or the dequantized f32 value (acc * scale[ch]).
#pragma once

#include <cstdint>

#include "core/ops_quant.h"
#include "kernels/quant.h"

namespace tinyopt::cpu {

struct QuantOutputStage {
  DType dtype = DType::i32;
  void* y = nullptr;
  const int32_t* multiplier = nullptr;
  const int32_t* shift = nullptr;
  const float* scale = nullptr;
  int32_t zero_point = 0;
  int32_t lo = 0;  // u8 clamp floor: zero_point with ReLU, else 0
  bool relu = false;

  QuantOutputStage(const QuantOutput& out, const Tensor& y_tensor)
      : dtype(y_tensor.dtype()), y(y_tensor.raw_data()), zero_point(out.zero_point),
        lo(out.relu ? out.zero_point : 0), relu(out.relu) {
    if (dtype == DType::u8) {
      multiplier = out.multiplier.data<int32_t>();
      shift = out.shift.data<int32_t>();
    } else if (dtype == DType::f32) {
      scale = out.scale.data<float>();
    }
  }

  // Writes element `index` of y from accumulator `acc` of output channel `ch`.
  void store(int32_t acc, int64_t ch, int64_t index) const {
    switch (dtype) {
      case DType::u8:
        static_cast<uint8_t*>(y)[index] =
            static_cast<uint8_t>(kernels::requantize(acc, multiplier[ch], shift[ch], zero_point, lo, 255));
        break;
      case DType::f32: {
        const float v = static_cast<float>(acc) * scale[ch];
        static_cast<float*>(y)[index] = relu && v < 0.0f ? 0.0f : v;
        break;
      }
      default: static_cast<int32_t*>(y)[index] = acc; break;
    }
  }
};

}  // namespace tinyopt::cpu
