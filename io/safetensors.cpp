#include "io/safetensors.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "io/atomic_file.h"
#include "io/byte_source.h"
#include "io/limits.h"

namespace tinyopt {

static_assert(std::endian::native == std::endian::little, "the safetensors reader assumes a little-endian host");

namespace {

using json = nlohmann::json;
using ordered_json = nlohmann::ordered_json;

// Rejects dimensions beyond this as absurd, even in zero-element tensors.
constexpr uint64_t kMaxDim = uint64_t{1} << 40;

// ---- dtypes ----------------------------------------------------------------

enum class StoredKind { native, f16, bf16 };

struct StoredDType {
  DType dtype;       // what the tensor holds after loading
  StoredKind kind;   // how the file stores it
  size_t file_size;  // bytes per element in the file
};

std::optional<StoredDType> parse_stored_dtype(const std::string& s) {
  if (s == "F32") return StoredDType{DType::f32, StoredKind::native, 4};
  if (s == "F64") return StoredDType{DType::f64, StoredKind::native, 8};
  if (s == "I8") return StoredDType{DType::i8, StoredKind::native, 1};
  if (s == "U8") return StoredDType{DType::u8, StoredKind::native, 1};
  if (s == "I32") return StoredDType{DType::i32, StoredKind::native, 4};
  if (s == "I64") return StoredDType{DType::i64, StoredKind::native, 8};
  // tinyopt has no half-precision tensors: F16 and BF16 are widened to f32 on load.
  if (s == "F16") return StoredDType{DType::f32, StoredKind::f16, 2};
  if (s == "BF16") return StoredDType{DType::f32, StoredKind::bf16, 2};
  return std::nullopt;
}

bool is_known_unsupported_dtype(const std::string& s) {
  static const char* const kKnown[] = {"BOOL", "I16",    "U16",      "U32",      "U64",     "F8_E4M3",
                                       "F8_E5M2", "F8_E8M0", "F6_E2M3", "F6_E3M2", "F4", "C64"};
  return std::any_of(std::begin(kKnown), std::end(kKnown), [&](const char* k) { return s == k; });
}

// IEEE 754 binary16 -> binary32, exact for every input (subnormals, inf, NaN).
float half_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);  // inf / NaN (payload kept)
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (mant << 13);  // normal: rebias 15 -> 127
  } else if (mant == 0) {
    bits = sign;  // signed zero
  } else {
    // Subnormal half: value = mant * 2^-24. Normalise it for binary32.
    int e = -1;
    do {
      mant <<= 1;
      ++e;
    } while ((mant & 0x400u) == 0);
    bits = sign | (static_cast<uint32_t>(112 - e) << 23) | ((mant & 0x3ffu) << 13);
  }
  return std::bit_cast<float>(bits);
}

float bf16_to_float(uint16_t b) { return std::bit_cast<float>(static_cast<uint32_t>(b) << 16); }

// ---- JSON validation helpers -------------------------------------------------

uint64_t json_u64(const json& v, const std::string& where, const std::string& what) {
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  if (v.is_number_integer()) fail("{}: {} must be a non-negative integer, found {}", where, what, v.dump());
  fail("{}: {} must be a non-negative integer, found {} {}", where, what, v.type_name(), v.dump());
}

struct Entry {
  std::string name;
  std::string dtype_text;
  StoredDType dtype;
  Shape shape;
  uint64_t begin = 0, end = 0;
};

Entry parse_entry(const std::string& file, const std::string& name, const json& v, uint64_t buffer_size) {
  const std::string where = fmt::format("'{}': tensor '{}'", file, name);
  TINYOPT_CHECK(v.is_object(), "{}: expected an object with dtype, shape and data_offsets, found {}", where,
                v.type_name());
  for (auto it = v.begin(); it != v.end(); ++it) {
    const std::string& key = it.key();
    TINYOPT_CHECK(key == "dtype" || key == "shape" || key == "data_offsets",
                  "{}: unexpected key '{}' (expected exactly dtype, shape, data_offsets)", where, key);
  }
  for (const char* key : {"dtype", "shape", "data_offsets"}) {
    TINYOPT_CHECK(v.contains(key), "{}: missing key '{}'", where, key);
  }

  Entry e;
  e.name = name;
  const json& dt = v["dtype"];
  TINYOPT_CHECK(dt.is_string(), "{}: dtype must be a string, found {}", where, dt.type_name());
  e.dtype_text = dt.get<std::string>();
  const std::optional<StoredDType> parsed = parse_stored_dtype(e.dtype_text);
  if (!parsed) {
    fail("{}: {} dtype '{}' (tinyopt reads F32, F64, I8, U8, I32, I64, and F16/BF16 converted to f32)", where,
         is_known_unsupported_dtype(e.dtype_text) ? "unsupported" : "unknown", e.dtype_text);
  }
  e.dtype = *parsed;

  const json& shape = v["shape"];
  TINYOPT_CHECK(shape.is_array(), "{}: shape must be an array of integers, found {}", where, shape.type_name());
  TINYOPT_CHECK(shape.size() <= static_cast<size_t>(Shape::kMaxDims), "{}: rank {} exceeds the maximum of {}",
                where, shape.size(), Shape::kMaxDims);
  check_limit(shape.size(), limits().max_rank, "max_rank", where + ": rank");
  std::vector<int64_t> dims;
  uint64_t numel = 1;
  bool numel_overflow = false;
  for (size_t i = 0; i < shape.size(); ++i) {
    const uint64_t d = json_u64(shape[i], where, fmt::format("shape[{}]", i));
    TINYOPT_CHECK(d <= kMaxDim, "{}: shape {} has an absurd dimension {}", where, shape.dump(), d);
    dims.push_back(static_cast<int64_t>(d));
    numel_overflow |= __builtin_mul_overflow(numel, d, &numel);
  }
  e.shape = Shape(dims);

  const json& off = v["data_offsets"];
  TINYOPT_CHECK(off.is_array() && off.size() == 2, "{}: data_offsets must be an array [begin, end], found {}", where,
                off.dump());
  e.begin = json_u64(off[0], where, "data_offsets[0]");
  e.end = json_u64(off[1], where, "data_offsets[1]");
  TINYOPT_CHECK(e.begin <= e.end, "{}: data_offsets [{}, {}] has begin after end", where, e.begin, e.end);
  TINYOPT_CHECK(e.end <= buffer_size,
                "{}: data_offsets [{}, {}] lie outside the data buffer of {} bytes (file truncated?)", where, e.begin,
                e.end, buffer_size);

  uint64_t expected_bytes = 0;
  numel_overflow |= __builtin_mul_overflow(numel, static_cast<uint64_t>(e.dtype.file_size), &expected_bytes);
  if (!numel_overflow) check_limit(expected_bytes, limits().max_tensor_bytes, "max_tensor_bytes", where + ": size in bytes");
  TINYOPT_CHECK(!numel_overflow && expected_bytes == e.end - e.begin,
                "{}: shape {} of {} needs {} bytes, but data_offsets [{}, {}] span {} bytes", where, e.shape.str(),
                e.dtype_text, numel_overflow ? std::string("more than 2^64") : std::to_string(expected_bytes),
                e.begin, e.end, e.end - e.begin);
  // An empty tensor passes the byte checks whatever its other dims are.
  TINYOPT_CHECK(e.shape.within_extent(),
                "{}: shape {} is absurd: its dimensions multiply (a zero counted as one) to more than 2^40", where,
                shape.dump());
  return e;
}

// Our header has at most three levels of nesting (file object > tensor
// object > shape array); anything deeper is rejected while parsing, before a
// hostile document can build a deep tree.
constexpr int kMaxJsonDepth = 3;

json parse_header_json(const std::string& file, const std::string& text) {
  std::set<std::string> top_keys;
  // Counted while parsing, so a header of a million tiny entries stops early.
  const uint64_t max_tensors = limits().max_tensors;
  uint64_t tensors = 0;
  std::string duplicate;
  json::parser_callback_t cb = [&](int depth, json::parse_event_t event, json& parsed) -> bool {
    if ((event == json::parse_event_t::object_start || event == json::parse_event_t::array_start) &&
        depth >= kMaxJsonDepth) {
      fail("'{}': header JSON is nested deeper than a safetensors header can be", file);
    }
    if (event == json::parse_event_t::key && depth == 1) {
      const std::string key = parsed.get<std::string>();
      if (!top_keys.insert(key).second && duplicate.empty()) duplicate = key;
      if (key != "__metadata__" && ++tensors > max_tensors)
        check_limit(tensors, max_tensors, "max_tensors", fmt::format("'{}': the number of tensors", file));
    }
    return true;
  };
  json header;
  try {
    header = json::parse(text, cb);
  } catch (const json::exception& e) {
    // The parser quotes the offending input, which may be arbitrary bytes.
    std::string why = e.what();
    for (char& c : why)
      if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
    fail("'{}': the safetensors header is not valid JSON: {}", file, why);
  }
  TINYOPT_CHECK(header.is_object(), "'{}': the safetensors header must be a JSON object, found {}", file,
                header.type_name());
  TINYOPT_CHECK(duplicate.empty(), "'{}': the safetensors header names '{}' twice", file, duplicate);
  return header;
}

SafetensorsFile parse_source(const ByteSource& src) {
  const std::string& file = src.name();
  const uint64_t size = src.size();
  TINYOPT_CHECK(size >= 8,
                "'{}' is not a safetensors file: it is {} bytes long, shorter than the 8-byte header length field",
                file, size);
  unsigned char len_bytes[8];
  src.read(0, len_bytes, 8, "the header length");
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | len_bytes[i];
  TINYOPT_CHECK(header_len <= kSafetensorsMaxHeaderBytes,
                "'{}': header length {} exceeds the limit of {} bytes (corrupt file or not safetensors)", file,
                header_len, kSafetensorsMaxHeaderBytes);
  TINYOPT_CHECK(header_len <= size - 8,
                "'{}': header length {} exceeds the {} bytes that follow the length field (truncated file or not "
                "safetensors)",
                file, header_len, size - 8);
  check_limit(header_len, limits().max_header_bytes, "max_header_bytes",
              fmt::format("'{}': the safetensors header length", file));
  TINYOPT_CHECK(header_len >= 2, "'{}': header length {} is too small for a JSON object", file, header_len);

  std::string text(static_cast<size_t>(header_len), '\0');
  src.read(8, text.data(), text.size(), "the JSON header");
  TINYOPT_CHECK(text[0] == '{', "'{}': the header does not start with '{{' (found byte 0x{:02x}); not a safetensors file",
                file, static_cast<unsigned char>(text[0]));
  const json header = parse_header_json(file, text);

  const uint64_t buffer_start = 8 + header_len;
  const uint64_t buffer_size = size - buffer_start;

  SafetensorsFile out;
  out.path = file;
  std::vector<Entry> entries;
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") {
      const json& meta = it.value();
      TINYOPT_CHECK(meta.is_object(), "'{}': __metadata__ must be an object of strings, found {}", file,
                    meta.type_name());
      for (auto m = meta.begin(); m != meta.end(); ++m) {
        TINYOPT_CHECK(m.value().is_string(), "'{}': __metadata__ key '{}' must have a string value, found {} {}", file,
                      m.key(), m.value().type_name(), m.value().dump());
        out.metadata[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    entries.push_back(parse_entry(file, it.key(), it.value(), buffer_size));
  }

  // No two non-empty byte ranges may overlap.
  std::vector<const Entry*> by_offset;
  for (const Entry& e : entries)
    if (e.end > e.begin) by_offset.push_back(&e);
  std::sort(by_offset.begin(), by_offset.end(),
            [](const Entry* a, const Entry* b) { return a->begin != b->begin ? a->begin < b->begin : a->end < b->end; });
  for (size_t i = 1; i < by_offset.size(); ++i) {
    const Entry& a = *by_offset[i - 1];
    const Entry& b = *by_offset[i];
    TINYOPT_CHECK(b.begin >= a.end, "'{}': tensors '{}' (bytes [{}, {})) and '{}' (bytes [{}, {})) overlap", file,
                  a.name, a.begin, a.end, b.name, b.begin, b.end);
  }

  // Every size is now known to fit in the file: allocate and read.
  for (const Entry& e : entries) {
    const std::string what = fmt::format("tensor '{}'", e.name);
    Tensor t = Tensor::empty(e.shape, e.dtype.dtype);
    const size_t bytes = static_cast<size_t>(e.end - e.begin);
    if (e.dtype.kind == StoredKind::native) {
      if (bytes > 0) src.read(buffer_start + e.begin, t.raw_data(), bytes, what);
    } else {
      std::vector<uint16_t> raw(bytes / 2);
      if (bytes > 0) src.read(buffer_start + e.begin, raw.data(), bytes, what);
      float* dst = t.data<float>();
      for (size_t i = 0; i < raw.size(); ++i)
        dst[i] = e.dtype.kind == StoredKind::f16 ? half_to_float(raw[i]) : bf16_to_float(raw[i]);
    }
    out.tensors.emplace(e.name, std::move(t));
    out.stored_dtypes.emplace(e.name, e.dtype_text);
  }
  return out;
}

// ---- writing ---------------------------------------------------------------

struct Prepared {
  std::string header;                                    // padded JSON
  std::vector<std::pair<const std::string*, Tensor>> data;  // CPU contiguous, in file order
};

Prepared prepare(const std::map<std::string, Tensor>& tensors, const std::map<std::string, std::string>& metadata) {
  Prepared p;
  ordered_json header = ordered_json::object();
  if (!metadata.empty()) {
    ordered_json meta = ordered_json::object();
    for (const auto& [k, v] : metadata) meta[k] = v;
    header["__metadata__"] = std::move(meta);
  }
  uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    TINYOPT_CHECK(name != "__metadata__", "safetensors: a tensor cannot be called '__metadata__'");
    TINYOPT_CHECK(tensor.defined(), "safetensors: tensor '{}' is undefined", name);
    Tensor cpu = tensor.to(Device::cpu());  // contiguous CPU copy (or *this when already so)
    ordered_json entry = ordered_json::object();
    entry["dtype"] = safetensors_dtype_name(cpu.dtype());
    entry["shape"] = cpu.shape().to_vector();
    entry["data_offsets"] = {offset, offset + cpu.nbytes()};
    offset += cpu.nbytes();
    header[name] = std::move(entry);
    p.data.emplace_back(&name, std::move(cpu));
  }
  try {
    p.header = header.dump();
  } catch (const ordered_json::exception& e) {
    fail("safetensors: cannot encode the header (tensor names and metadata must be valid UTF-8): {}", e.what());
  }
  p.header.append((8 - p.header.size() % 8) % 8, ' ');
  return p;
}

void write_prepared(std::ostream& out, const Prepared& p) {
  const uint64_t n = p.header.size();
  char len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  out.write(len, 8);
  out.write(p.header.data(), static_cast<std::streamsize>(p.header.size()));
  for (const auto& [name, t] : p.data) {
    if (t.nbytes() > 0) out.write(static_cast<const char*>(t.raw_data()), static_cast<std::streamsize>(t.nbytes()));
  }
}

}  // namespace

std::string safetensors_dtype_name(DType dtype) {
  switch (dtype) {
    case DType::f32: return "F32";
    case DType::f64: return "F64";
    case DType::i8: return "I8";
    case DType::u8: return "U8";
    case DType::i32: return "I32";
    case DType::i64: return "I64";
  }
  fail("safetensors: no dtype name for dtype {}", static_cast<int>(dtype));
}

// ---- SafetensorsFile ---------------------------------------------------------

const Tensor& SafetensorsFile::get(const std::string& name) const {
  auto it = tensors.find(name);
  TINYOPT_CHECK(it != tensors.end(), "'{}': missing tensor '{}'", path, name);
  consumed_.insert(name);
  return it->second;
}

const Tensor& SafetensorsFile::require(const std::string& name, DType dtype, const Shape& shape) const {
  const Tensor& t = get(name);
  if (t.dtype() != dtype) {
    auto stored = stored_dtypes.find(name);
    fail("'{}': tensor '{}': expected dtype {}, found {}{}", path, name, dtype_name(dtype), dtype_name(t.dtype()),
         stored != stored_dtypes.end() ? fmt::format(" (stored as {})", stored->second) : std::string());
  }
  TINYOPT_CHECK(t.shape() == shape, "'{}': tensor '{}': expected shape {}, found {}", path, name, shape.str(),
                t.shape().str());
  return t;
}

const std::string& SafetensorsFile::require_metadata(const std::string& key) const {
  auto it = metadata.find(key);
  TINYOPT_CHECK(it != metadata.end(), "'{}': missing metadata key '{}'", path, key);
  return it->second;
}

std::vector<std::string> SafetensorsFile::unconsumed() const {
  std::vector<std::string> out;
  for (const auto& [name, t] : tensors)
    if (!consumed_.count(name)) out.push_back(name);
  return out;
}

void SafetensorsFile::check_all_consumed() const {
  const std::vector<std::string> extra = unconsumed();
  if (extra.empty()) return;
  std::string list;
  const size_t shown = std::min<size_t>(extra.size(), 10);
  for (size_t i = 0; i < shown; ++i) list += (i ? ", " : "") + extra[i];
  if (shown < extra.size()) list += fmt::format(", ... ({} more)", extra.size() - shown);
  fail("'{}': {} unexpected tensor{} not used by the model: {}", path, extra.size(), extra.size() == 1 ? "" : "s",
       list);
}

// ---- entry points --------------------------------------------------------------

SafetensorsFile load_safetensors(const std::string& path) { return parse_source(FileSource(path)); }

SafetensorsFile parse_safetensors(const std::string& bytes, const std::string& name) {
  return parse_source(MemorySource(bytes, name));
}

std::string serialize_safetensors(const std::map<std::string, Tensor>& tensors,
                                  const std::map<std::string, std::string>& metadata) {
  const Prepared p = prepare(tensors, metadata);
  std::ostringstream out;
  write_prepared(out, p);
  return std::move(out).str();
}

void save_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  const Prepared p = prepare(tensors, metadata);
  write_file_atomic(path, [&](std::ostream& out) { write_prepared(out, p); });
}

}  // namespace tinyopt
