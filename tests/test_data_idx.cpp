#include <gtest/gtest.h>
#include <zlib.h>

#include "data/idx.h"
#include "test_io_util.h"

using namespace tinyopt;
using tinyopt::test::expect_error;
using tinyopt::test::read_bytes;
using tinyopt::test::ScratchDir;
using tinyopt::test::write_bytes;

namespace {

// Writes `bytes` gzip-compressed with zlib's own gz* file API.
void write_gz(const std::string& path, const std::string& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr) << path;
  if (!bytes.empty()) {
    ASSERT_EQ(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())), int(bytes.size()));
  }
  ASSERT_EQ(gzclose(f), Z_OK);
}

std::string be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}

std::string idx_bytes(uint32_t magic, std::vector<uint32_t> dims, const std::string& data) {
  std::string s = be32(magic);
  for (uint32_t d : dims) s += be32(d);
  return s + data;
}

}  // namespace

TEST(Idx, ReadsImagesAndLabelsWrittenByZlib) {
  ScratchDir dir;
  std::string pixels;
  for (int i = 0; i < 2 * 3 * 4; ++i) pixels += static_cast<char>(i * 10);
  write_gz(dir.file("img.gz"), idx_bytes(kIdxMagicImages, {2, 3, 4}, pixels));
  const IdxArray img = read_idx(dir.file("img.gz"), kIdxMagicImages);
  EXPECT_EQ(img.dims, (std::vector<int64_t>{2, 3, 4}));
  ASSERT_EQ(img.data.size(), 24u);
  EXPECT_EQ(img.data[23], 230);

  write_gz(dir.file("lab.gz"), idx_bytes(kIdxMagicLabels, {3}, std::string("\x01\x09\x00", 3)));
  const IdxArray lab = read_idx(dir.file("lab.gz"), kIdxMagicLabels);
  EXPECT_EQ(lab.dims, std::vector<int64_t>{3});
  EXPECT_EQ(lab.data, (std::vector<uint8_t>{1, 9, 0}));

  // An uncompressed IDX file is read transparently too.
  write_bytes(dir.file("plain.idx"), idx_bytes(kIdxMagicLabels, {2}, "\x04\x05"));
  EXPECT_EQ(read_idx(dir.file("plain.idx"), kIdxMagicLabels).data, (std::vector<uint8_t>{4, 5}));
}

TEST(Idx, WriteIdxGzRoundTripsLargerThanOneReadChunk) {
  ScratchDir dir;
  IdxArray a;
  a.dims = {3000, 28, 28};
  a.data.resize(3000 * 28 * 28);
  for (size_t i = 0; i < a.data.size(); ++i) a.data[i] = static_cast<uint8_t>((i * 2654435761u) >> 24);
  write_idx_gz(dir.file("big.gz"), a);
  const std::string gz = read_bytes(dir.file("big.gz"));
  ASSERT_GE(gz.size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>(gz[0]), 0x1f);  // gzip magic
  EXPECT_EQ(static_cast<unsigned char>(gz[1]), 0x8b);
  const IdxArray b = read_idx(dir.file("big.gz"), kIdxMagicImages);
  EXPECT_EQ(b.dims, a.dims);
  EXPECT_EQ(b.data, a.data);
}

TEST(Idx, MalformedFilesGiveClearErrors) {
  ScratchDir dir;
  struct Case {
    const char* what;
    std::string raw;  // gzip-compressed before writing
    uint32_t magic;
    std::vector<std::string> expect;
  };
  const std::vector<Case> cases = {
      {"labels read as images", idx_bytes(kIdxMagicLabels, {3}, "abc"), kIdxMagicImages,
       {"wrong IDX magic", "expected 0x00000803", "found 0x00000801"}},
      {"images read as labels", idx_bytes(kIdxMagicImages, {1, 1, 1}, "a"), kIdxMagicLabels,
       {"expected 0x00000801", "found 0x00000803"}},
      {"float element type", idx_bytes(0x00000d01, {1}, "abcd"), kIdxMagicLabels, {"found 0x00000d01 (type 0x0d"}},
      {"empty", "", kIdxMagicLabels, {"4-byte magic", "found only 0 bytes"}},
      {"short magic", std::string("\0\0", 2), kIdxMagicLabels, {"found only"}},
      {"truncated dims", be32(kIdxMagicImages) + be32(5), kIdxMagicImages, {"truncated", "12 bytes of dimensions, found 4"}},
      {"truncated data", idx_bytes(kIdxMagicImages, {2, 2, 3}, "12345"), kIdxMagicImages,
       {"truncated", "2 x 2 x 3 need 12 bytes of data, found 5"}},
      {"trailing data", idx_bytes(kIdxMagicLabels, {2}, "123"), kIdxMagicLabels, {"unexpected bytes after the 2 bytes"}},
      {"lying header", idx_bytes(kIdxMagicImages, {1u << 30, 8, 2}, "tiny"), kIdxMagicImages,
       {"truncated", "found 4"}},
      {"absurd header", idx_bytes(kIdxMagicImages, {0xffffffffu, 1, 1}, ""), kIdxMagicImages, {"absurd"}},
      {"too many elements", idx_bytes(kIdxMagicImages, {1u << 31, 1u << 31, 1}, ""), kIdxMagicImages,
       {"more than"}},
  };
  int i = 0;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    const std::string path = dir.file("bad" + std::to_string(i++) + ".gz");
    write_gz(path, c.raw);
    const std::string msg = expect_error([&] { read_idx(path, c.magic); }, {"'" + path + "'"});
    for (const std::string& part : c.expect) EXPECT_NE(msg.find(part), std::string::npos) << "'" << part << "' not in: " << msg;
  }
}

TEST(Idx, CorruptGzipStreamsAreErrors) {
  ScratchDir dir;
  std::string raw = idx_bytes(kIdxMagicLabels, {20000}, std::string(20000, '\x03'));
  for (int i = 0; i < 20000; i += 7) raw[8 + i] = static_cast<char>(i % 10);
  const std::string gz = gzip_compress(raw);
  write_bytes(dir.file("ok.gz"), gz);
  ASSERT_EQ(read_idx(dir.file("ok.gz"), kIdxMagicLabels).data.size(), 20000u);

  // Cut off mid-stream.
  write_bytes(dir.file("cut.gz"), gz.substr(0, gz.size() / 2));
  expect_error([&] { read_idx(dir.file("cut.gz"), kIdxMagicLabels); }, {dir.file("cut.gz")});
  // Missing CRC trailer only.
  write_bytes(dir.file("nocrc.gz"), gz.substr(0, gz.size() - 8));
  expect_error([&] { read_idx(dir.file("nocrc.gz"), kIdxMagicLabels); }, {dir.file("nocrc.gz"), "truncated"});
  // A flipped byte in the compressed data (detected by inflate or by the CRC).
  std::string flipped = gz;
  flipped[flipped.size() / 2] = static_cast<char>(flipped[flipped.size() / 2] ^ 0x5a);
  write_bytes(dir.file("flip.gz"), flipped);
  expect_error([&] { read_idx(dir.file("flip.gz"), kIdxMagicLabels); }, {dir.file("flip.gz")});
  // A wrong CRC.
  std::string badcrc = gz;
  badcrc[badcrc.size() - 8] = static_cast<char>(badcrc[badcrc.size() - 8] ^ 1);
  write_bytes(dir.file("crc.gz"), badcrc);
  expect_error([&] { read_idx(dir.file("crc.gz"), kIdxMagicLabels); }, {dir.file("crc.gz"), "gzip"});

  expect_error([&] { read_idx(dir.file("absent.gz"), kIdxMagicLabels); }, {dir.file("absent.gz"), "no such file"});
  expect_error([&] { read_idx(dir.path(), kIdxMagicLabels); }, {dir.path(), "directory"});
}
