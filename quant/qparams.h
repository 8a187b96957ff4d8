// Quantization parameters and PyTorch's formulas for choosing them.
//
// real = scale * (q - zero_point). Activations are u8 affine per tensor
// (torch.quint8, qscheme per_tensor_affine, quant range [0, 255]); weights
// are s8 symmetric per output channel (torch.qint8, per_channel_symmetric)
// restricted to [-127, 127] so that -128 never appears (the INT8 kernels'
// contract). The formulas follow torch.ao.quantization's
// UniformQuantizationObserverBase._calculate_qparams.
#pragma once

#include <cstdint>
#include <string>

namespace tinyopt::quant {

struct QParams {
  float scale = 1.0f;
  int32_t zero_point = 0;
};

inline constexpr int32_t kActivationQMin = 0, kActivationQMax = 255;
inline constexpr int32_t kWeightQMax = 127;  // weights use [-127, 127]
// PyTorch floors scales at float32's machine epsilon (torch.finfo(torch.float32).eps).
inline constexpr float kMinScale = 1.1920928955078125e-07f;

// Affine u8 parameters for the observed range [lo, hi] (PyTorch):
//   lo' = min(lo, 0), hi' = max(hi, 0)          (0 must be exactly representable)
//   scale = max((hi' - lo') / 255, eps)
//   zero_point = clamp(0 - round_half_even(lo' / scale), 0, 255)
// A zero range (the tensor was 0 everywhere) gives scale 1, zero point 0
// instead of PyTorch's eps: any scale represents 0 exactly, and 1 keeps the
// requantization multipliers of neighbouring layers in range.
// `where` names the layer/tensor in the error for a non-finite or inverted range.
QParams affine_u8_qparams(double lo, double hi, const std::string& where);

// Symmetric s8 scale for a channel whose largest magnitude is `absmax`:
// absmax / 127, or 1 for an all-zero channel (zero point always 0).
float symmetric_s8_scale(double absmax);

// round(x / scale) + zero_point clamped to [0, 255], rounding half to even as
// torch.quantize_per_tensor does (nearbyint in the default rounding mode).
uint8_t quantize_u8(float x, QParams p);
inline float dequantize_u8(uint8_t q, QParams p) { return p.scale * static_cast<float>(static_cast<int32_t>(q) - p.zero_point); }

// Validation used when loading a file: finite positive scale, zero point in [0, 255].
void check_qparams(QParams p, const std::string& where);

}  // namespace tinyopt::quant
