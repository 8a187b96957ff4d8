#include "core/ops_quant.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "kernels/quant.h"

namespace tinyopt {

namespace ops {
Op<QGemmArgs> qgemm{"qgemm"};
Op<QConv2dArgs> qconv2d{"qconv2d"};
Op<QuantizeArgs> quantize{"quantize"};
Op<DequantizeArgs> dequantize{"dequantize"};
}  // namespace ops

namespace {

// Each check names the op, the tensor and what was expected.
void need(const Tensor& t, DType dtype, const char* op, const char* name) {
  TINYOPT_CHECK(t.defined(), "{}: tensor '{}' is undefined (expected {})", op, name, dtype_name(dtype));
  TINYOPT_CHECK(t.dtype() == dtype, "{}: '{}' must be {}, found {}", op, name, dtype_name(dtype), t.describe());
}
void need_shape(const Tensor& t, const Shape& shape, const char* op, const char* name) {
  TINYOPT_CHECK(t.shape() == shape, "{}: '{}' must have shape {}, found {}", op, name, shape.str(), t.describe());
}
void need_rank(const Tensor& t, int rank, const char* op, const char* name) {
  TINYOPT_CHECK(t.ndim() == rank, "{}: '{}' must be {}-D, found {}", op, name, rank, t.describe());
}
void same_device(const Tensor& a, const Tensor& b, const char* op, const char* name) {
  if (!a.defined() || !b.defined()) return;
  TINYOPT_CHECK(a.device() == b.device(), "{}: '{}' is on {}, expected {} like the input", op, name,
                b.device().str(), a.device().str());
}
void need_zero_point(int32_t zp, const char* op, const char* name) {
  TINYOPT_CHECK(zp >= 0 && zp <= 255, "{}: {} {} is outside the u8 range [0, 255]", op, name, zp);
}
void need_scale(float scale, const char* op) {
  TINYOPT_CHECK(std::isfinite(scale) && scale > 0, "{}: scale {} must be finite and positive", op, scale);
}
// |(a - a_zero) * w| <= 255 * 127 per term, so K <= 65536 terms keep the i32
// accumulator (with room for a bias) exact, as the contract promises.
constexpr int64_t kMaxDepth = 65536;
void need_depth(int64_t k, const char* op, const char* what) {
  TINYOPT_CHECK(k <= kMaxDepth, "{}: {} of {} exceeds {}: the i32 accumulators could overflow", op, what, k,
                kMaxDepth);
}

bool host_readable(const Tensor& t) { return t.defined() && t.device().is_cpu() && t.is_contiguous(); }

std::string bias_text(const Tensor& bias) { return bias.defined() ? " + bias " + bias.describe() : ""; }

}  // namespace

void QuantOutput::validate(const Tensor& y, int64_t channels, const char* op) const {
  switch (y.dtype()) {
    case DType::i32:
      TINYOPT_CHECK(!relu, "{}: a fused ReLU needs a u8 or f32 output, y is {}", op, y.describe());
      break;
    case DType::u8: {
      need(multiplier, DType::i32, op, "out.multiplier");
      need(shift, DType::i32, op, "out.shift");
      need_shape(multiplier, {channels}, op, "out.multiplier");
      need_shape(shift, {channels}, op, "out.shift");
      need_zero_point(zero_point, op, "out.zero_point");
      same_device(y, multiplier, op, "out.multiplier");
      same_device(y, shift, op, "out.shift");
      // Values are checked where they can be read cheaply (host tensors; N values per call).
      if (host_readable(multiplier) && host_readable(shift)) {
        const int32_t* m = multiplier.data<int32_t>();
        const int32_t* s = shift.data<int32_t>();
        // A branch-free scan first (this runs on every call); the element is
        // looked for only when something is out of range.
        int32_t m_min = 0, s_min = 0, s_max = 0;
        for (int64_t i = 0; i < channels; ++i) {
          m_min = std::min(m_min, m[i]);
          s_min = std::min(s_min, s[i]);
          s_max = std::max(s_max, s[i]);
        }
        if (m_min < 0 || s_min < kernels::kMinRequantShift || s_max > kernels::kMaxRequantShift)
          for (int64_t i = 0; i < channels; ++i) {
            TINYOPT_CHECK(m[i] >= 0, "{}: out.multiplier[{}] = {} must be a non-negative Q31 value", op, i, m[i]);
            TINYOPT_CHECK(s[i] >= kernels::kMinRequantShift && s[i] <= kernels::kMaxRequantShift,
                          "{}: out.shift[{}] = {} is outside [{}, {}]", op, i, s[i], kernels::kMinRequantShift,
                          kernels::kMaxRequantShift);
          }
      }
      break;
    }
    case DType::f32:
      need(scale, DType::f32, op, "out.scale");
      need_shape(scale, {channels}, op, "out.scale");
      same_device(y, scale, op, "out.scale");
      break;
    default:
      fail("{}: output 'y' must be i32 (accumulators), u8 (requantized) or f32 (dequantized), found {}", op,
           y.describe());
  }
}

std::string QuantOutput::describe(const Tensor& y) const {
  std::string s = y.describe();
  if (y.dtype() == DType::u8) s += fmt::format(" (zero point {})", zero_point);
  if (relu) s += " relu";
  return s;
}

// What qgemm and qconv2d check alike once their shapes are known: the i32
// bias per output channel, the input zero point, the output mode, devices.
static void validate_layer_tail(const Tensor& in, const Tensor& w, const Tensor& bias, const Tensor& y, int32_t in_zero,
                                const QuantOutput& out, const char* op, const char* zero_name) {
  if (bias.defined()) {
    need(bias, DType::i32, op, "bias");
    need_shape(bias, {w.size(0)}, op, "bias");
  }
  need_zero_point(in_zero, op, zero_name);
  out.validate(y, w.size(0), op);
  same_device(in, w, op, "w"); same_device(in, bias, op, "bias"); same_device(in, y, op, "y");
}

void QGemmArgs::validate() const {
  const char* op = "qgemm";
  need(a, DType::u8, op, "a");
  need(w, DType::i8, op, "w");
  TINYOPT_CHECK(y.defined(), "{}: tensor 'y' is undefined", op);
  need_rank(a, 2, op, "a"); need_rank(w, 2, op, "w"); need_rank(y, 2, op, "y");
  TINYOPT_CHECK(w.size(1) == a.size(1), "qgemm: weight {} has K={}, input a {} has K={}", w.describe(), w.size(1),
                a.describe(), a.size(1));
  need_shape(y, {a.size(0), w.size(0)}, op, "y");
  need_depth(a.size(1), op, "K");
  validate_layer_tail(a, w, bias, y, a_zero, out, op, "a_zero");
}

std::string QGemmArgs::describe() const {
  return fmt::format("a {} (zero point {}) x w {}^T{} -> {}", a.describe(), a_zero, w.describe(), bias_text(bias),
                     out.describe(y));
}

void QConv2dArgs::validate() const {
  const char* op = "qconv2d";
  need(x, DType::u8, op, "x");
  need(w, DType::i8, op, "w");
  TINYOPT_CHECK(y.defined(), "{}: tensor 'y' is undefined", op);
  need_rank(x, 4, op, "x"); need_rank(w, 4, op, "w"); need_rank(y, 4, op, "y");
  TINYOPT_CHECK(w.size(1) == x.size(1), "qconv2d: weight {} expects {} input channels, input is {}", w.describe(),
                w.size(1), x.describe());
  const int64_t oh = Conv2dGeometry::out_size(x.size(2), w.size(2), g.stride_h, g.pad_h);
  const int64_t ow = Conv2dGeometry::out_size(x.size(3), w.size(3), g.stride_w, g.pad_w);
  TINYOPT_CHECK(pool >= 0, "qconv2d: fused max-pool size {} must be 0 (none) or positive", pool);
  if (pool > 0) {
    TINYOPT_CHECK(pool <= oh && pool <= ow, "qconv2d: a fused {}x{} max-pool needs a conv output at least that large, found {}x{}",
                  pool, pool, oh, ow);
    TINYOPT_CHECK(y.dtype() == DType::u8 || y.dtype() == DType::f32,
                  "qconv2d: a fused max-pool pools u8 or f32 outputs, y is {}", y.describe());
    need_shape(y, {x.size(0), w.size(0), oh / pool, ow / pool}, op, "y");
  } else {
    need_shape(y, {x.size(0), w.size(0), oh, ow}, op, "y");
  }
  need_depth(w.size(1) * w.size(2) * w.size(3), op, "C*KH*KW");
  validate_layer_tail(x, w, bias, y, x_zero, out, op, "x_zero");
}

std::string QConv2dArgs::describe() const {
  return fmt::format("x {} (zero point {}) w {}{} stride {}x{} pad {}x{}{} -> {}", x.describe(), x_zero, w.describe(),
                     bias_text(bias), g.stride_h, g.stride_w, g.pad_h, g.pad_w,
                     pool > 0 ? fmt::format(" + maxpool {}x{}", pool, pool) : std::string(), out.describe(y));
}

void QuantizeArgs::validate() const {
  const char* op = "quantize";
  need(x, DType::f32, op, "x");
  need(y, DType::u8, op, "y");
  need_shape(y, x.shape(), op, "y");
  need_scale(scale, op);
  need_zero_point(zero_point, op, "zero_point");
  same_device(x, y, op, "y");
}
std::string QuantizeArgs::describe() const {
  return fmt::format("{} -> {} (scale {}, zero point {})", x.describe(), y.describe(), scale, zero_point);
}

void DequantizeArgs::validate() const {
  const char* op = "dequantize";
  need(x, DType::u8, op, "x");
  need(y, DType::f32, op, "y");
  need_shape(y, x.shape(), op, "y");
  need_scale(scale, op);
  need_zero_point(zero_point, op, "zero_point");
  same_device(x, y, op, "y");
}
std::string DequantizeArgs::describe() const {
  return fmt::format("{} (scale {}, zero point {}) -> {}", x.describe(), scale, zero_point, y.describe());
}

}  // namespace tinyopt
