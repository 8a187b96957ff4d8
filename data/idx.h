// IDX files (the MNIST / Fashion-MNIST container), usually gzip-compressed.
//
// Layout: a big-endian u32 magic 0x0000TTNN where TT is the element type
// (0x08 = unsigned byte, the only type these datasets use) and NN the number
// of dimensions; NN big-endian u32 dimensions; then prod(dims) elements.
// Images are 0x00000803 ([count, rows, cols]); labels are 0x00000801 ([count]).
//
// Reading goes through zlib's gzread, which also reads an uncompressed file
// transparently. The decompressed size is not trusted up front: the buffer
// grows only as bytes actually arrive, so a lying header cannot trigger a
// huge allocation, and the total must match the dimensions exactly.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tinyopt {

inline constexpr uint32_t kIdxMagicImages = 0x00000803;  // u8, 3 dims
inline constexpr uint32_t kIdxMagicLabels = 0x00000801;  // u8, 1 dim

struct IdxArray {
  std::vector<int64_t> dims;   // e.g. {60000, 28, 28}
  std::vector<uint8_t> data;   // prod(dims) bytes, row-major
};

// Reads a (gzip'd) IDX file and checks its magic equals `expected_magic`.
// Errors (tinyopt::Error) name the file and say what was expected vs found:
// missing file, wrong magic, corrupt gzip stream, too few or too many bytes.
IdxArray read_idx(const std::string& path, uint32_t expected_magic);

// Writes `array` as a gzip'd u8 IDX file (atomically). Used by tests to build
// small fixtures; `dims.size()` must be 1..255.
void write_idx_gz(const std::string& path, const IdxArray& array);

// `bytes` compressed as one gzip member (what gzip(1) writes). Inputs must be
// under 4 GiB.
std::string gzip_compress(std::string_view bytes);

}  // namespace tinyopt
