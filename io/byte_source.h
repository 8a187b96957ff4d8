// Where a reader's bytes come from: a file on disk or a buffer in memory.
// Every parser of outside input (safetensors, .npy, model files) reads
// through this, so the same code path serves files, in-memory payloads and
// the fuzz targets (fuzz/), and every read is bounded and checked.
#pragma once

#include <cstdint>
#include <string>

#include "io/input_file.h"

namespace tinyopt {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // The file's path, or the name given to an in-memory buffer, for error messages.
  virtual const std::string& name() const = 0;
  virtual uint64_t size() const = 0;
  // Reads exactly `bytes` at `offset` or throws naming the source and `what`.
  virtual void read(uint64_t offset, void* dst, size_t bytes, const std::string& what) const = 0;
};

class FileSource : public ByteSource {
 public:
  explicit FileSource(const std::string& path) : file_(path) {}
  const std::string& name() const override { return file_.path(); }
  uint64_t size() const override { return file_.size(); }
  void read(uint64_t offset, void* dst, size_t bytes, const std::string& what) const override {
    file_.read_exact(offset, dst, bytes, what);
  }

 private:
  InputFile file_;
};

// Borrows `bytes`: the string must outlive the source.
class MemorySource : public ByteSource {
 public:
  MemorySource(const std::string& bytes, std::string name) : bytes_(bytes), name_(std::move(name)) {}
  const std::string& name() const override { return name_; }
  uint64_t size() const override { return bytes_.size(); }
  void read(uint64_t offset, void* dst, size_t bytes, const std::string& what) const override;

 private:
  const std::string& bytes_;
  std::string name_;
};

}  // namespace tinyopt
