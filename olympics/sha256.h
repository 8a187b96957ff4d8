// SHA-256 (FIPS 180-4) of files and byte strings, for the leaderboard's model
// hash: a submission is tied to the exact bytes of the model file it ran, so
// two entries with the same hash ran the same weights.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace tinyopt::olympics {

class Sha256 {
 public:
  Sha256();
  void update(const void* data, size_t bytes);
  // The digest as 64 lowercase hex digits. The object cannot be updated afterwards.
  std::string hex_digest();

 private:
  void compress(const uint8_t* block);
  std::array<uint32_t, 8> state_;
  std::array<uint8_t, 64> buffer_{};
  size_t buffered_ = 0;
  uint64_t total_bytes_ = 0;
  bool finished_ = false;
};

std::string sha256_hex(std::string_view bytes);
// Reads the file in chunks; throws tinyopt::Error naming the path when it cannot be read.
std::string sha256_file(const std::string& path);

}  // namespace tinyopt::olympics
