// safetensors reader and writer (https://github.com/huggingface/safetensors).
//
// Layout: an 8-byte little-endian u64 N; N bytes of UTF-8 JSON; the byte
// buffer. The JSON object maps each tensor name to
//   {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}
// with offsets relative to the start of the buffer, plus an optional
// "__metadata__" object of string -> string (tinyopt keeps a model's
// architecture config there).
//
// Reading validates everything before allocating: N must fit the file (and is
// capped at 100 MiB), the JSON must be an object whose entries have exactly
// the keys above with the right types, shapes are non-negative integers of
// rank <= Shape::kMaxDims, end - begin == numel * dtype size, ranges lie in
// the buffer and no two tensors overlap. Holes between tensors and bytes
// after the last one are accepted (the format's reference implementation
// rejects both; we are lenient when reading, strict when writing).
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace tinyopt {

// Largest JSON header accepted (the reference implementation caps it at 100 MB).
inline constexpr uint64_t kSafetensorsMaxHeaderBytes = uint64_t{100} << 20;

// A loaded file: its metadata, its tensors (CPU, contiguous, ordered by name),
// and a record of which tensors a model loader has consumed, so it can report
// both missing tensors (require) and unexpected ones (check_all_consumed).
class SafetensorsFile {
 public:
  std::string path;
  std::map<std::string, std::string> metadata;
  std::map<std::string, Tensor> tensors;
  // The dtype string as stored in the file ("F16" for a tensor converted to f32).
  std::map<std::string, std::string> stored_dtypes;

  bool contains(const std::string& name) const { return tensors.count(name) != 0; }

  // The tensor called `name`, marked consumed; throws naming the file and the
  // tensor when it is missing.
  const Tensor& get(const std::string& name) const;

  // Like get(), and checks dtype and shape; the error names the file, the
  // tensor and the first mismatch ("expected dtype f32, found i8",
  // "expected shape [10, 784], found [784, 10]").
  const Tensor& require(const std::string& name, DType dtype, const Shape& shape) const;

  // The metadata value for `key`, or throws naming the file and the key.
  const std::string& require_metadata(const std::string& key) const;

  // Names not yet returned by get()/require(), in name order.
  std::vector<std::string> unconsumed() const;
  // Throws "'file' has N unexpected tensors: a, b, ..." when any is left.
  void check_all_consumed() const;

 private:
  mutable std::set<std::string> consumed_;
};

// Reads a safetensors file into CPU tensors. Supported dtypes: F32, F64, I8,
// U8, I32, I64; F16 and BF16 are also accepted and converted to f32 (tinyopt
// has no half types; stored_dtypes records the original). BOOL, I16, U16,
// U32, U64, F8_* and anything else give an "unsupported dtype" error naming
// the tensor. All errors are tinyopt::Error and name the file.
SafetensorsFile load_safetensors(const std::string& path);

// Writes `tensors` (any device; copied to the CPU as needed) and `metadata`
// atomically. The JSON header lists "__metadata__" first (when non-empty),
// then tensors in name order, laid out back to back in that order; it is
// padded with spaces to a multiple of 8 bytes, as the reference
// implementation does, so the buffer starts 8-byte aligned.
void save_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

// The exact bytes save_safetensors() would write (useful for tests and for
// embedding).
std::string serialize_safetensors(const std::map<std::string, Tensor>& tensors,
                                  const std::map<std::string, std::string>& metadata = {});

// Parses safetensors bytes held in memory; `name` stands in for the path in
// error messages.
SafetensorsFile parse_safetensors(const std::string& bytes, const std::string& name);

// safetensors' dtype name for a tinyopt dtype ("F32", "I8", ...).
std::string safetensors_dtype_name(DType dtype);

}  // namespace tinyopt
