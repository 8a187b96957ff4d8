// The INT8 technique: post-training quantization (quant::quantize_model),
// calibrated on the first `calibration` images of the calibration split
// (never the test split), so it stays in the closed division.
//
// HOOK (INT8, branch `quant`): compiled in when quant/quantizer.h is present
// (the quant branch merged into this tree); until then the technique reports
// itself unavailable, so a recipe asking for it fails with that message (or,
// with skip_unavailable, is skipped and says so).
#include "olympics/technique.h"

#include "core/error.h"

#if __has_include("quant/quantizer.h")
#include "quant/quantizer.h"
#define TINYOPT_OLYMPICS_HAVE_INT8 1
#endif

namespace tinyopt::olympics {

std::string int8_not_applicable(const Event& event) {
  // Calibration runs Fashion-MNIST images through the model: image events only.
  if (!event.is_classifier()) return "not applicable (post-training INT8 here is calibrated on images; the GPT is not)";
  return "";
}

#if defined(TINYOPT_OLYMPICS_HAVE_INT8)

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

std::string verify_int8(nn::Model& model, const RecipeSettings& settings) {
  (void)settings;
  if (!quant::is_quantized(model)) return "the model is not quantized";
  int64_t int8_bytes = 0;
  for (const auto& [name, t] : model.state_dict()) {
    if (t.dtype() == DType::i8 || t.dtype() == DType::u8) int8_bytes += static_cast<int64_t>(t.nbytes());
  }
  if (int8_bytes == 0) return "the model holds no int8 weights";
  return "";
}

#else

std::string int8_not_available() {
  return "INT8 quantization (quant/, branch quant) is not merged into this build yet";
}

void apply_int8(TechniqueContext& context) {
  (void)context;
  fail("int8: {}", int8_not_available());
}

std::string verify_int8(nn::Model& model, const RecipeSettings& settings) {
  (void)model;
  (void)settings;
  return "INT8 is not in this build, so it cannot be present";
}

#endif

}  // namespace tinyopt::olympics
