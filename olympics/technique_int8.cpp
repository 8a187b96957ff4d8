// The INT8 technique: post-training quantization (quant::quantize_model)
// calibrated on images of the calibration split (never the test split), so
// it stays in the closed division.
//
// HOOK (INT8, branch `quant`): until quant/ is merged into main this
// technique reports itself unavailable, so a recipe asking for it fails with
// that message (or, with skip_unavailable, is skipped and says so).
#include "olympics/technique.h"

namespace tinyopt::olympics {

std::string int8_not_available() {
  return "INT8 quantization (quant/, branch quant) is not merged into this build yet";
}

std::string int8_not_applicable(const Event& event) {
  // Calibration runs Fashion-MNIST images through the model: image events only.
  if (!event.is_classifier()) return "not applicable (post-training INT8 here is calibrated on images; the GPT is not)";
  return "";
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

}  // namespace tinyopt::olympics
