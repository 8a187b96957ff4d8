// The INT8 technique: post-training quantization (quant::quantize_model),
// calibrated on the first `calibration` images of the calibration split
// (never the test split), so it stays in the closed division.
// After pruning, quant/ quantizes the pruned weights (CSR layers included),
// keeping every zero.
#include "olympics/technique.h"

#include "core/error.h"
#include "quant/quantizer.h"

namespace tinyopt::olympics {

std::string int8_not_applicable(const Event& event) {
  // Calibration runs Fashion-MNIST images through the model: image events only.
  if (!event.is_classifier()) return "not applicable (post-training INT8 here is calibrated on images; the GPT is not)";
  return "";
}

std::string int8_not_available() { return ""; }

void apply_int8(TechniqueContext& c) {
  const Int8Settings& s = *c.settings.int8;
  TINYOPT_CHECK(c.data != nullptr, "int8: no Fashion-MNIST data for event {}", c.event.key);
  const Tensor& cal = c.data->calibration_images;
  const int64_t n = std::min<int64_t>(s.calibration, cal.size(0));
  quant::QuantizeOptions qo;
  qo.observer = s.observer;
  qo.calibration_size = n;
  const Tensor images = cal.reshape(c.model.batch_shape(cal.size(0)));
  c.model = quant::quantize_model(c.model, images, qo);
  c.model.module->set_training(false);
  if (c.progress)
    c.progress(fmt::format("    quantized to INT8: {} observer, {} calibration images (calibration split)", s.observer, n));
}

std::string verify_int8(const TechniqueEvidence& e) {
  nn::Model& model = e.model;
  if (!quant::is_quantized(model)) return "the model is not quantized";
  int64_t int8_bytes = 0;
  for (const auto& [name, t] : model.state_dict()) {
    if (t.dtype() == DType::i8 || t.dtype() == DType::u8) int8_bytes += static_cast<int64_t>(t.nbytes());
  }
  if (int8_bytes == 0) return "the model holds no int8 weights";
  return "";
}


}  // namespace tinyopt::olympics
