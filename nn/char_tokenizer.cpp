#include "nn/char_tokenizer.h"

#include "core/error.h"
#include "io/bounded_json.h"
#include "io/limits.h"

namespace tinyopt::nn {

namespace {

// Length of the UTF-8 sequence starting at text[i], or 0 when it is not valid UTF-8.
size_t utf8_length(const std::string& text, size_t i) {
  const auto c = static_cast<unsigned char>(text[i]);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  if (n == 0 || i + n > text.size()) return 0;
  for (size_t k = 1; k < n; ++k)
    if ((static_cast<unsigned char>(text[i + k]) >> 6) != 0x2) return 0;
  return n;
}

std::string printable(const std::string& ch) {
  if (ch.size() == 1 && (static_cast<unsigned char>(ch[0]) < 0x20 || ch[0] == 0x7f))
    return fmt::format("\\x{:02x}", static_cast<unsigned char>(ch[0]));
  return ch;
}

}  // namespace

std::vector<std::string> parse_vocab_json(const std::string& text, const std::string& what) {
  const nlohmann::json v = parse_json_bounded(text, what);
  TINYOPT_CHECK(v.is_array(), "{} must be a JSON list of strings, found {}", what, v.type_name());
  check_limit(v.size(), limits().max_vocab, "max_vocab", what + ": number of entries");
  std::vector<std::string> vocab;
  vocab.reserve(v.size());
  for (const nlohmann::json& ch : v) {
    TINYOPT_CHECK(ch.is_string(), "{} must contain only strings, found {}", what, ch.dump());
    vocab.push_back(ch.get<std::string>());
  }
  return vocab;
}

CharTokenizer::CharTokenizer(std::vector<std::string> vocab) : vocab_(std::move(vocab)) {
  for (size_t i = 0; i < vocab_.size(); ++i) {
    TINYOPT_CHECK(!vocab_[i].empty(), "vocab entry {} is an empty string", i);
    TINYOPT_CHECK(ids_.emplace(vocab_[i], static_cast<int32_t>(i)).second, "vocab entry {} ('{}') appears twice", i,
                  printable(vocab_[i]));
  }
}

std::string CharTokenizer::byte_symbol(unsigned char byte) {
  if (byte < 0x80) return std::string(1, static_cast<char>(byte));
  std::string s;
  s += static_cast<char>(0xC0 | (byte >> 6));
  s += static_cast<char>(0x80 | (byte & 0x3F));
  return s;
}

std::vector<int32_t> CharTokenizer::encode(const std::string& text) const {
  std::vector<int32_t> ids;
  size_t i = 0;
  while (i < text.size()) {
    size_t n = utf8_length(text, i);
    std::string ch = n ? text.substr(i, n) : byte_symbol(static_cast<unsigned char>(text[i]));
    auto it = ids_.find(ch);
    if (it == ids_.end() && n > 1) {
      // Not a vocab character: fall back to the bytes one at a time.
      n = 0;
      ch = byte_symbol(static_cast<unsigned char>(text[i]));
      it = ids_.find(ch);
    }
    TINYOPT_CHECK(it != ids_.end(), "character '{}' at byte {} of the text is not in the model's vocabulary",
                  printable(ch), i);
    ids.push_back(it->second);
    i += n ? n : 1;
  }
  return ids;
}

std::string CharTokenizer::decode(const std::vector<int32_t>& ids) const {
  std::string out;
  for (int32_t id : ids) {
    TINYOPT_CHECK(id >= 0 && id < size(), "token id {} is outside the vocabulary of {}", id, size());
    out += vocab_[static_cast<size_t>(id)];
  }
  return out;
}

}  // namespace tinyopt::nn
