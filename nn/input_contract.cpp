#include "nn/input_contract.h"

#include <cmath>
#include <limits>

#include "io/bounded_json.h"
#include "nn/model.h"

namespace tinyopt::nn {

using json = nlohmann::json;

std::string InputContract::to_json() const {
  return json{{"dtype", dtype}, {"range", {lo, hi}}, {"normalization", normalization}}.dump();
}

std::string InputContract::describe() const {
  return fmt::format("{} in [{:g}, {:g}]{}", dtype, lo, hi, normalization.empty() ? "" : " (" + normalization + ")");
}

InputContract reference_image_input() {
  InputContract c;
  c.normalization = "pixel / 255, no mean/std normalization";
  return c;
}

std::optional<InputContract> input_contract(const Model& model, const std::string& path) {
  const auto it = model.metadata.find(kInputMetadataKey);
  if (it == model.metadata.end()) return std::nullopt;
  const std::string what = fmt::format("{}: metadata '{}'", path, kInputMetadataKey);
  const json j = parse_json_bounded(it->second, what);
  TINYOPT_CHECK(j.is_object(), "{} must be a JSON object {{\"dtype\", \"range\", \"normalization\"}}, found {}", what,
                j.dump());
  InputContract c;
  if (j.contains("dtype")) {
    TINYOPT_CHECK(j["dtype"] == "float32", "{}: 'dtype' must be \"float32\" (image models take float32), found {}",
                  what, j["dtype"].dump());
  }
  TINYOPT_CHECK(j.contains("range") && j["range"].is_array() && j["range"].size() == 2 && j["range"][0].is_number() &&
                    j["range"][1].is_number(),
                "{}: 'range' must be [low, high], found {}", what, j.value("range", json()).dump());
  c.lo = j["range"][0].get<double>();
  c.hi = j["range"][1].get<double>();
  TINYOPT_CHECK(std::isfinite(c.lo) && std::isfinite(c.hi) && c.lo < c.hi,
                "{}: 'range' must be finite with low < high, found [{}, {}]", what, c.lo, c.hi);
  if (j.contains("normalization")) {
    TINYOPT_CHECK(j["normalization"].is_string(), "{}: 'normalization' must be a string, found {}", what,
                  j["normalization"].dump());
    c.normalization = j["normalization"].get<std::string>();
  }
  return c;
}

std::string check_input_range(const InputContract& contract, const Tensor& x) {
  const Tensor c = x.contiguous();
  const float* p = c.data<float>();
  float mn = std::numeric_limits<float>::infinity(), mx = -mn;
  for (int64_t i = 0; i < c.numel(); ++i) {  // NaN fails both comparisons and is skipped
    if (p[i] < mn) mn = p[i];
    if (p[i] > mx) mx = p[i];
  }
  if (mn > mx) return "";  // empty or all NaN: nothing to judge
  const double margin = kInputRangeMargin * (contract.hi - contract.lo);
  const double lo = contract.lo - margin, hi = contract.hi + margin;
  if (mn >= lo && mx <= hi) return "";
  std::string hint;
  if (mn >= lo && mx / 255.0 <= hi)  // too large only on the high side, and fits once divided by 255
    hint = "they look 255 times too large (raw 0..255 pixels?): divide by 255";
  else if (mn < lo && contract.lo >= 0)
    hint = "negative values where the model expects none look mean/std normalized: give the model unnormalized values";
  return fmt::format("input values lie in [{:g}, {:g}], far outside the model's declared input {}{}{}; its outputs "
                     "are likely wrong",
                     mn, mx, contract.describe(), hint.empty() ? "" : ": ", hint);
}

}  // namespace tinyopt::nn
