#include "data/text_corpus.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "core/error.h"

namespace tinyopt {
namespace {

// Any single fortune file above this is not a fortune file.
constexpr uintmax_t kMaxFortuneFileBytes = uintmax_t{256} << 20;

std::string byte_text(unsigned char c) {
  if (c >= 0x20 && c < 0x7f) return fmt::format("'{}' (0x{:02x})", static_cast<char>(c), c);
  return fmt::format("byte 0x{:02x}", c);
}

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string read_whole_file(const std::filesystem::path& path) {
  std::error_code ec;
  const uintmax_t size = std::filesystem::file_size(path, ec);
  TINYOPT_CHECK(!ec, "cannot read '{}': {}", path.string(), ec.message());
  TINYOPT_CHECK(size <= kMaxFortuneFileBytes, "'{}' is {} bytes, too large for a fortune file", path.string(), size);
  std::ifstream in(path, std::ios::binary);
  TINYOPT_CHECK(in.good(), "cannot open '{}': {}", path.string(), std::strerror(errno));
  std::string text(static_cast<size_t>(size), '\0');
  in.read(text.data(), static_cast<std::streamsize>(size));
  TINYOPT_CHECK(static_cast<uintmax_t>(in.gcount()) == size, "'{}': expected {} bytes, read {}", path.string(), size,
                in.gcount());
  return text;
}

Tensor to_tensor(const std::vector<int32_t>& ids) {
  Tensor t = Tensor::empty({static_cast<int64_t>(ids.size())}, DType::i32);
  if (!ids.empty()) std::memcpy(t.raw_data(), ids.data(), ids.size() * sizeof(int32_t));
  return t;
}

}  // namespace

// ---- CharVocab ---------------------------------------------------------------

CharVocab::CharVocab(std::string symbols) : symbols_(std::move(symbols)) { build_index(); }

void CharVocab::build_index() {
  std::fill(std::begin(ids_), std::end(ids_), -1);
  for (size_t i = 0; i < symbols_.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(symbols_[i]);
    TINYOPT_CHECK(ids_[c] == -1, "vocabulary lists {} twice (ids {} and {})", byte_text(c), ids_[c], i);
    ids_[c] = static_cast<int32_t>(i);
  }
}

CharVocab CharVocab::from_text(std::string_view text) {
  bool seen[256] = {};
  for (char c : text) seen[static_cast<unsigned char>(c)] = true;
  std::string symbols;
  for (int c = 0; c < 256; ++c)
    if (seen[c]) symbols += static_cast<char>(c);
  return CharVocab(std::move(symbols));
}

std::vector<int32_t> CharVocab::encode(std::string_view text) const {
  std::vector<int32_t> out(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    const int32_t id = symbols_.empty() ? -1 : ids_[c];
    TINYOPT_CHECK(id >= 0, "cannot encode {} at position {}: it is not in the {}-symbol vocabulary", byte_text(c), i,
                  symbols_.size());
    out[i] = id;
  }
  return out;
}

std::string CharVocab::decode(std::span<const int32_t> ids) const {
  std::string out(ids.size(), '\0');
  for (size_t i = 0; i < ids.size(); ++i) {
    TINYOPT_CHECK(ids[i] >= 0 && ids[i] < size(), "cannot decode token id {} at position {}: expected 0..{}", ids[i],
                  i, size() - 1);
    out[i] = symbols_[static_cast<size_t>(ids[i])];
  }
  return out;
}

// ---- corpus --------------------------------------------------------------------

std::vector<std::string> split_fortunes(std::string_view text) {
  std::vector<std::string> out;
  std::string current;
  auto finish = [&] {
    const bool blank = std::all_of(current.begin(), current.end(),
                                   [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; });
    if (!blank) out.push_back(current);
    current.clear();
  };
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    const bool has_newline = eol != std::string_view::npos;
    if (!has_newline) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    pos = has_newline ? eol + 1 : eol;
    if (line == "%" || line == "%\r") {
      finish();
      continue;
    }
    current.append(line);
    current += '\n';  // a last line without '\n' gets one, so every fortune ends the same way
  }
  finish();
  return out;
}

TextCorpus load_text_corpus(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  TINYOPT_CHECK(fs::is_directory(dir, ec),
                "fortunes directory '{}' not found (install the corpus with `apt-get install fortunes`)", dir);
  TextCorpus corpus;
  corpus.dir = dir;
  fs::directory_iterator it(dir, ec);
  TINYOPT_CHECK(!ec, "cannot list fortunes directory '{}': {}", dir, ec.message());
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    const fs::directory_entry& entry = *it;
    const std::string name = entry.path().filename().string();
    if (ends_with(name, ".dat") || ends_with(name, ".u8") || name.empty() || name[0] == '.') continue;
    std::error_code kind_ec;
    if (entry.is_symlink(kind_ec) || !entry.is_regular_file(kind_ec)) continue;
    corpus.files.push_back(name);
  }
  TINYOPT_CHECK(!ec, "cannot list fortunes directory '{}': {}", dir, ec.message());
  std::sort(corpus.files.begin(), corpus.files.end());
  TINYOPT_CHECK(!corpus.files.empty(),
                "no fortune files in '{}' (install the corpus with `apt-get install fortunes`)", dir);

  int64_t index = 0;
  for (const std::string& name : corpus.files) {
    const std::string text = read_whole_file(fs::path(dir) / name);
    for (std::string& fortune : split_fortunes(text)) {
      std::string& dst = (index % kCorpusHeldOutEvery == kCorpusHeldOutEvery - 1) ? corpus.heldout_text
                                                                                  : corpus.train_text;
      dst += fortune;
      dst += "%\n";
      ++index;
    }
  }
  corpus.fortune_count = index;
  TINYOPT_CHECK(index >= kCorpusHeldOutEvery, "'{}' holds only {} fortunes; the held-out split needs at least {}", dir,
                index, kCorpusHeldOutEvery);

  corpus.vocab = CharVocab::from_text(corpus.train_text + corpus.heldout_text);
  corpus.train_tokens = to_tensor(corpus.vocab.encode(corpus.train_text));
  corpus.heldout_tokens = to_tensor(corpus.vocab.encode(corpus.heldout_text));
  return corpus;
}

}  // namespace tinyopt
