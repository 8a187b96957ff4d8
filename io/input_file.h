// A read-only file opened for bounded, checked reads. Every reader of outside
// input (safetensors, .npy, IDX headers) goes through this so that a short or
// vanished file turns into a tinyopt::Error naming the file, the offset and
// what was being read, instead of a silently short buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace tinyopt {

class InputFile {
 public:
  // Opens `path` for reading. Throws tinyopt::Error naming the path when it
  // does not exist, is a directory, or cannot be opened.
  explicit InputFile(std::string path);
  ~InputFile();
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  const std::string& path() const { return path_; }
  // Size in bytes, taken once when the file was opened. Readers check every
  // size claimed by a header against this before allocating anything.
  uint64_t size() const { return size_; }

  // Reads exactly `bytes` bytes at `offset` into `dst`, or throws naming the
  // file, `what` is being read, and how many bytes were expected vs found.
  void read_exact(uint64_t offset, void* dst, size_t bytes, const std::string& what) const;

 private:
  std::string path_;
  int fd_ = -1;
  uint64_t size_ = 0;
};

}  // namespace tinyopt
