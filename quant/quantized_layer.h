// What QuantizedLinear and QuantizedConv2d share: the quantized weights and
// their scales, the i32 bias, the input and output quantization parameters,
// and the requantization constants derived from them (INT8 op contract).
//
// The tensors are exposed as Parameters named like the file's tensors
// ("3.weight" i8, "3.weight_scale" f32 [N], "3.bias" i32 [N],
// "3.input_scale" f32 [1], "3.input_zero_point" i32 [1], and for a u8
// output "3.output_scale" / "3.output_zero_point"), so nn::save_model and
// state_dict() work unchanged.
#pragma once

#include <optional>

#include "core/ops_quant.h"
#include "quant/eval_only_module.h"
#include "quant/qparams.h"
#include "quant/weight_quantization.h"

namespace tinyopt::quant {

struct QuantizedLayerData {
  QuantizedWeights weights;     // i8 + f32 [N]
  Tensor bias;                  // i32 [N] or undefined
  QParams input;
  std::optional<QParams> output;  // set: u8 output; unset: f32 output (dequantized accumulators)
  bool relu = false;
};

class QuantizedLayer : public EvalOnlyModule {
 public:
  QuantizedLayer(const std::string& name, QuantizedLayerData data);
  void collect_parameters(std::vector<nn::Parameter*>& out) override;

  const std::string& name() const { return name_; }
  QParams input_qparams() const { return in_; }
  std::optional<QParams> output_qparams() const { return out_q_; }
  bool relu() const { return relu_; }
  bool u8_output() const { return out_q_.has_value(); }
  const Tensor& weight() const { return weight_.value; }
  const Tensor& weight_scale() const { return weight_scale_.value; }
  // When set, forward() computes the raw accumulators and requantizes them
  // here, counting clamped values (slower; the quantize command's report).
  void set_stats(SaturationStats* stats) { stats_ = stats; }

 protected:
  // The output descriptor for the kernels on `device`; with `raw` the i32
  // accumulators (statistics pass: the kernels' i32 mode takes no fused ReLU).
  QuantOutput output_mode(bool raw, Device device) const {
    QuantOutput o = out_;
    if (raw) o.relu = false;
    // Already there (the usual case: host constants, host data): skip three to() per call.
    const auto there = [&](const Tensor& t) { return !t.defined() || t.device() == device; };
    if (there(o.multiplier) && there(o.shift) && there(o.scale)) return o;
    // Host constants follow the data to a CUDA device (a no-op on the CPU).
    o.multiplier = o.multiplier.to(device);
    o.shift = o.shift.to(device);
    o.scale = o.scale.to(device);
    return o;
  }
  Tensor bias_tensor() const { return has_bias_ ? bias_.value : Tensor(); }
  // acc i32 [rows, N] (N = channels, row-major over the last dimension or
  // NCHW with `inner` > 1) -> u8 with the same integer formula as the kernels.
  Tensor requantize_counting(const Tensor& acc, int64_t channels, int64_t inner) const;
  SaturationStats* stats_ = nullptr;

 private:
  std::string name_;
  nn::Parameter weight_, weight_scale_, bias_, in_scale_, in_zero_, out_scale_, out_zero_;
  bool has_bias_;
  QParams in_;
  std::optional<QParams> out_q_;
  bool relu_;
  QuantOutput out_;
};

}  // namespace tinyopt::quant
