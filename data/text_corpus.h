// Character-level text corpus for the transformer, from Debian's `fortunes`
// package (/usr/share/games/fortunes/).
//
// Which files: every regular file directly in the directory whose name does
// not end in ".dat" (strfile's binary index) or ".u8" (Debian ships those as
// symlinks to the plain files; skipped by name so a copy that is not a link
// is still not read twice). Symlinks and subdirectories (e.g. "off/" from
// fortunes-off) are skipped. Files are read in byte-wise sorted name order,
// so the corpus is the same on every machine with the same package.
//
// Fortunes are separated by lines holding only '%' (a trailing '\r' is
// tolerated). Each fortune keeps its lines and their '\n'; blank ones are
// dropped. The token stream of a split is its fortunes, each followed by the
// separator line "%\n", so a model learns where a fortune ends.
//
// Bytes, not Unicode characters: the package is almost all ASCII (plus tab,
// backspace and bell used for overstriking), and the few non-ASCII bytes are
// a mix of UTF-8 and mis-encoded text. Treating every byte as a symbol keeps
// decode(encode(s)) == s exactly with no decoding errors; a multi-byte UTF-8
// character simply becomes several tokens.
//
// Split: fortune number i (0-based, counted over all files in order) is held
// out when i % 10 == 9, i.e. every 10th fortune: ~10% of the text, spread
// over every file, with no randomness to seed.
//
// Vocabulary: the sorted set of distinct bytes in the whole corpus (both
// splits), so held-out text never has unknown symbols; token id = rank.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/tensor.h"

namespace tinyopt {

inline constexpr const char* kFortunesDefaultDir = "/usr/share/games/fortunes";
inline constexpr int kCorpusHeldOutEvery = 10;

// A byte-level vocabulary: id i <-> symbols()[i].
class CharVocab {
 public:
  CharVocab() { build_index(); }
  // From the bytes in id order; they must be distinct (throws otherwise).
  explicit CharVocab(std::string symbols);
  // The sorted distinct bytes of `text`.
  static CharVocab from_text(std::string_view text);

  int32_t size() const { return static_cast<int32_t>(symbols_.size()); }
  // The bytes in id order. Not necessarily valid UTF-8: to store it in JSON
  // (e.g. model metadata) write the byte values as integers.
  const std::string& symbols() const { return symbols_; }
  // The id of byte `c`, or -1 when it is not in the vocabulary.
  int32_t id_of(unsigned char c) const { return ids_[c]; }

  // Throws tinyopt::Error naming the byte (printable form and hex) and its
  // position when `text` holds a byte outside the vocabulary.
  std::vector<int32_t> encode(std::string_view text) const;
  // Throws when an id is outside [0, size()).
  std::string decode(std::span<const int32_t> ids) const;

 private:
  std::string symbols_;
  int32_t ids_[256] = {};
  void build_index();
};

struct TextCorpus {
  std::string dir;
  std::vector<std::string> files;  // names read, in order
  int64_t fortune_count = 0;       // both splits
  std::string train_text, heldout_text;  // fortunes joined as described above
  CharVocab vocab;
  Tensor train_tokens, heldout_tokens;  // i32 [n] token ids
};

// Splits one fortune file's text into fortunes (see above).
std::vector<std::string> split_fortunes(std::string_view text);

// Loads the corpus from `dir`. A missing directory, or one without fortune
// files, is an error suggesting `apt-get install fortunes`.
TextCorpus load_text_corpus(const std::string& dir = kFortunesDefaultDir);

}  // namespace tinyopt
