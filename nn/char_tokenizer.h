// Character tokenizer of a GPT model file: the "vocab" metadata lists one
// string per token id (normally one Unicode character). Text is split into
// UTF-8 characters and each is looked up; bytes that are not valid UTF-8 are
// looked up as the Latin-1 character of the same value, which is how the
// fortunes corpus's few stray non-UTF-8 bytes are stored in the vocab.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace tinyopt::nn {

// Parses a model file's "vocab" metadata: a JSON list of strings, at most
// max_vocab entries (io/limits.h). `what` names it in errors.
std::vector<std::string> parse_vocab_json(const std::string& text, const std::string& what);

class CharTokenizer {
 public:
  explicit CharTokenizer(std::vector<std::string> vocab);
  // Throws tinyopt::Error naming the first character not in the vocabulary and its position.
  std::vector<int32_t> encode(const std::string& text) const;
  std::string decode(const std::vector<int32_t>& ids) const;
  int64_t size() const { return static_cast<int64_t>(vocab_.size()); }
  const std::vector<std::string>& vocab() const { return vocab_; }

  // The vocab entry for a raw corpus byte: itself when ASCII, else its Latin-1 character in UTF-8.
  static std::string byte_symbol(unsigned char byte);

 private:
  std::vector<std::string> vocab_;
  std::map<std::string, int32_t> ids_;
};

}  // namespace tinyopt::nn
