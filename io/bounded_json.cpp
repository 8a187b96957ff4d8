#include "io/bounded_json.h"

#include "core/error.h"
#include "io/limits.h"

namespace tinyopt {

nlohmann::json parse_json_bounded(const std::string& text, const std::string& what) {
  using json = nlohmann::json;
  const Limits& l = limits();
  check_limit(text.size(), l.max_header_bytes, "max_header_bytes", what + ": length in bytes");
  const uint64_t max_depth = l.max_json_depth;
  json::parser_callback_t cb = [&](int depth, json::parse_event_t event, json&) -> bool {
    if ((event == json::parse_event_t::object_start || event == json::parse_event_t::array_start) &&
        static_cast<uint64_t>(depth) >= max_depth) {
      check_limit(static_cast<uint64_t>(depth) + 1, max_depth, "max_json_depth", what + ": JSON nesting depth");
    }
    return true;
  };
  try {
    return json::parse(text, cb);
  } catch (const json::exception& e) {
    // The parser quotes the offending input, which may be arbitrary bytes.
    std::string why = e.what();
    for (char& c : why)
      if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
    fail("{} is not valid JSON: {}", what, why);
  }
}

}  // namespace tinyopt
