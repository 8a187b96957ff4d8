// SHA-256 against the FIPS 180-4 / NIST example vectors, including inputs that
// straddle the 55/56/64-byte padding boundaries, and streaming in pieces.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "core/error.h"
#include "olympics/sha256.h"

using tinyopt::olympics::Sha256;
using tinyopt::olympics::sha256_file;
using tinyopt::olympics::sha256_hex;

TEST(OlympicsSha256, NistVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256_hex(std::string(1000000, 'a')), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(OlympicsSha256, StreamingEqualsOneShotAtEveryBoundary) {
  std::string text;
  for (int i = 0; i < 200; ++i) text += static_cast<char>('a' + i % 26);
  for (size_t n : {0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 128, 200}) {
    const std::string part = text.substr(0, n);
    Sha256 h;
    for (size_t i = 0; i < n; i += 7) h.update(part.data() + i, std::min<size_t>(7, n - i));
    EXPECT_EQ(h.hex_digest(), sha256_hex(part)) << n;
  }
  // Different inputs, different digests (catches a digest that ignores its input).
  EXPECT_NE(sha256_hex(text.substr(0, 55)), sha256_hex(text.substr(0, 56)));
}

TEST(OlympicsSha256, FileMatchesBytesAndMissingFileIsAnError) {
  const std::string path = ::testing::TempDir() + "/olympics_sha256.bin";
  {
    std::ofstream out(path, std::ios::binary);
    out << "abc";
  }
  EXPECT_EQ(sha256_file(path), sha256_hex("abc"));
  try {
    sha256_file(path + ".missing");
    FAIL() << "expected an error";
  } catch (const tinyopt::Error& e) {
    EXPECT_NE(std::string(e.what()).find(".missing"), std::string::npos) << e.what();
  }
}
