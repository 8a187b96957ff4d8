// JSON from outside (model config metadata, vocabularies, later recipes) is
// parsed through here: the text's size and the document's nesting depth are
// checked against io/limits.h while parsing, before a hostile document can
// build a huge or deep tree, and parse errors become tinyopt::Error with the
// offending bytes made printable.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace tinyopt {

// `what` names the document in errors ("'model.safetensors': metadata 'config'").
nlohmann::json parse_json_bounded(const std::string& text, const std::string& what);

}  // namespace tinyopt
