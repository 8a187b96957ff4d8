#include "olympics/event.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>

#include "core/error.h"
#include "olympics/build_info.h"

namespace tinyopt::olympics {

const std::vector<Event>& all_events() {
  static const std::vector<Event> events = {
      {"mlp", "MLP Sprint", "mlp.safetensors", EventKind::classifier, "test_accuracy", true},
      {"cnn", "CNN Marathon", "cnn.safetensors", EventKind::classifier, "test_accuracy", true},
      {"gpt", "Transformer Decathlon", "gpt.safetensors", EventKind::language_model, "heldout_loss", false},
  };
  return events;
}

namespace {
std::string normalized(std::string_view s) {
  std::string out;
  for (char c : s) out += (c == ' ' || c == '_') ? '-' : char(std::tolower(static_cast<unsigned char>(c)));
  return out;
}
}  // namespace

const Event& find_event(std::string_view name) {
  const std::string want = normalized(name);
  std::string valid;
  for (const Event& e : all_events()) {
    if (want == e.key || want == normalized(e.name)) return e;
    valid += fmt::format("{}{} ({})", valid.empty() ? "" : ", ", e.key, e.name);
  }
  fail("unknown event '{}'; valid events: {}", name, valid);
}

std::string benchmarks_dir() {
  namespace fs = std::filesystem;
  if (const char* dir = std::getenv("TINYOPT_BENCHMARKS_DIR"); dir && *dir) return dir;
  std::error_code ec;
  if (fs::exists("benchmarks/mlp.safetensors", ec)) return "benchmarks";
  return std::string(build_info::kSourceDir) + "/benchmarks";
}

std::string reference_model_path(const Event& event) { return benchmarks_dir() + "/" + event.model_file; }

}  // namespace tinyopt::olympics
