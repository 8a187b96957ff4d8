// The output stage of the CUDA int8 kernels (the twin of
// backends/cpu/quant_output.h): one i32 accumulator of output channel `ch`
// becomes y's element, raw (i32), requantized with kernels::requantize (u8,
// bit-exact with the CPU) or dequantized (f32). Passed to kernels by value.
#pragma once

#include <cstdint>

#include "core/ops_quant.h"
#include "kernels/quant.h"

namespace tinyopt::cuda {

struct QuantOutputDevice {
  int dtype = 0;  // 0 i32, 1 u8, 2 f32
  void* y = nullptr;
  const int32_t* multiplier = nullptr;
  const int32_t* shift = nullptr;
  const float* scale = nullptr;
  int32_t zero_point = 0, lo = 0;
  bool relu = false;

  static QuantOutputDevice of(const QuantOutput& out, const Tensor& y) {
    QuantOutputDevice d;
    d.y = y.raw_data();
    d.zero_point = out.zero_point;
    d.lo = out.relu ? out.zero_point : 0;
    d.relu = out.relu;
    if (y.dtype() == DType::u8) {
      d.dtype = 1;
      d.multiplier = out.multiplier.data<int32_t>();
      d.shift = out.shift.data<int32_t>();
    } else if (y.dtype() == DType::f32) {
      d.dtype = 2;
      d.scale = out.scale.data<float>();
    }
    return d;
  }

  __device__ void store(int32_t acc, int64_t ch, int64_t index) const {
    if (dtype == 1) {
      static_cast<uint8_t*>(y)[index] =
          static_cast<uint8_t>(kernels::requantize(acc, multiplier[ch], shift[ch], zero_point, lo, 255));
    } else if (dtype == 2) {
      const float v = static_cast<float>(acc) * scale[ch];
      static_cast<float*>(y)[index] = relu && v < 0.0f ? 0.0f : v;
    } else {
      static_cast<int32_t*>(y)[index] = acc;
    }
  }
};

// Four bytes of activations as a signed dp4a operand: u8 v becomes v - 128
// (flip the top bit), so a u8 x s8 dot product runs on __dp4a's s8 x s8 form;
// the 128 * sum(w) it leaves out is added back with the zero-point correction.
__device__ inline int pack_u8_as_s8(uint8_t a0, uint8_t a1, uint8_t a2, uint8_t a3) {
  return static_cast<int>((uint32_t{a0} | uint32_t{a1} << 8 | uint32_t{a2} << 16 | uint32_t{a3} << 24) ^ 0x80808080u);
}
__device__ inline int pack_s8(int8_t w0, int8_t w1, int8_t w2, int8_t w3) {
  return static_cast<int>(uint32_t{static_cast<uint8_t>(w0)} | uint32_t{static_cast<uint8_t>(w1)} << 8 |
                          uint32_t{static_cast<uint8_t>(w2)} << 16 | uint32_t{static_cast<uint8_t>(w3)} << 24);
}

}  // namespace tinyopt::cuda
