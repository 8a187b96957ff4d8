#include "io/npy.h"

#include <bit>
#include <cctype>
#include <cstring>
#include <optional>
#include <vector>

#include <fmt/ranges.h>

#include "io/atomic_file.h"
#include "io/byte_source.h"
#include "io/limits.h"

namespace tinyopt {

static_assert(std::endian::native == std::endian::little, "the .npy reader assumes a little-endian host");

namespace {

constexpr char kMagic[6] = {'\x93', 'N', 'U', 'M', 'P', 'Y'};
// numpy itself refuses headers over 10000 bytes by default; 1 MiB is generous.
constexpr uint32_t kMaxHeaderBytes = 1u << 20;
constexpr int64_t kMaxDim = int64_t{1} << 40;

// ---- a parser for the Python literals a .npy header can hold ------------------

// (A struct, not std::pair: a pair of the still-incomplete PyValue inside
// PyValue's own vector does not compile with clang and libstdc++.)
struct PyDictEntry;

struct PyValue {
  enum class Kind { string, integer, boolean, none, tuple, list, dict } kind = Kind::none;
  std::string str;
  int64_t integer = 0;
  bool boolean = false;
  std::vector<PyValue> items;                            // tuple / list
  std::vector<PyDictEntry> entries;                      // dict

  std::string kind_name() const {
    switch (kind) {
      case Kind::string: return "a string";
      case Kind::integer: return "an integer";
      case Kind::boolean: return "a bool";
      case Kind::none: return "None";
      case Kind::tuple: return "a tuple";
      case Kind::list: return "a list";
      case Kind::dict: return "a dict";
    }
    return "?";
  }
};

struct PyDictEntry {
  PyValue key, value;
};

class PyLiteralParser {
 public:
  PyLiteralParser(std::string_view text, const std::string& file) : text_(text), file_(file) {}

  PyValue parse_document() {
    PyValue v = parse_value(0);
    skip_space();
    if (pos_ != text_.size()) error("unexpected text after the header dict");
    return v;
  }

 private:
  static constexpr int kMaxDepth = 8;

  [[noreturn]] void error(const std::string& what) const {
    fail("'{}': cannot parse the .npy header at character {}: {} (header: {})", file_, pos_, what, excerpt());
  }

  std::string excerpt() const {
    std::string_view t = text_;
    while (!t.empty() && (t.back() == ' ' || t.back() == '\n' || t.back() == '\r' || t.back() == '\t'))
      t.remove_suffix(1);
    std::string s(t.substr(0, 200));
    for (char& c : s)
      if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
    return s + (t.size() > 200 ? "..." : "");
  }

  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' ||
                                    text_[pos_] == '\r'))
      ++pos_;
  }

  bool peek(char c) {
    skip_space();
    return pos_ < text_.size() && text_[pos_] == c;
  }

  void expect(char c) {
    if (!peek(c)) error(fmt::format("expected '{}'", c));
    ++pos_;
  }

  bool starts_with_word(std::string_view word) const {
    if (text_.substr(pos_, word.size()) != word) return false;
    const size_t after = pos_ + word.size();
    return after >= text_.size() || !(std::isalnum(static_cast<unsigned char>(text_[after])) || text_[after] == '_');
  }

  PyValue parse_value(int depth) {
    if (depth > kMaxDepth) error("nested too deeply");
    skip_space();
    if (pos_ >= text_.size()) error("unexpected end of header");
    const char c = text_[pos_];
    PyValue v;
    if (c == '\'' || c == '"') return parse_string();
    if ((c == 'u' || c == 'b') && pos_ + 1 < text_.size() && (text_[pos_ + 1] == '\'' || text_[pos_ + 1] == '"')) {
      ++pos_;  // u'...' (Python 2 era headers) / b'...'
      return parse_string();
    }
    if (c == '-' || c == '+' || std::isdigit(static_cast<unsigned char>(c))) return parse_integer();
    if (starts_with_word("True") || starts_with_word("False")) {
      v.kind = PyValue::Kind::boolean;
      v.boolean = text_[pos_] == 'T';
      pos_ += v.boolean ? 4 : 5;
      return v;
    }
    if (starts_with_word("None")) {
      pos_ += 4;
      return v;
    }
    if (c == '(' || c == '[') {
      const char close = c == '(' ? ')' : ']';
      v.kind = c == '(' ? PyValue::Kind::tuple : PyValue::Kind::list;
      ++pos_;
      bool saw_comma = false;
      while (!peek(close)) {
        v.items.push_back(parse_value(depth + 1));
        saw_comma = peek(',');
        if (saw_comma) {
          ++pos_;
        } else if (!peek(close)) {
          error(fmt::format("expected ',' or '{}'", close));
        }
      }
      ++pos_;
      // "(3)" is the integer 3 in Python, not a tuple.
      if (v.kind == PyValue::Kind::tuple && v.items.size() == 1 && !saw_comma) return v.items[0];
      return v;
    }
    if (c == '{') {
      v.kind = PyValue::Kind::dict;
      ++pos_;
      while (!peek('}')) {
        PyValue key = parse_value(depth + 1);
        expect(':');
        PyValue value = parse_value(depth + 1);
        v.entries.push_back({std::move(key), std::move(value)});
        if (peek(',')) {
          ++pos_;
        } else if (!peek('}')) {
          error("expected ',' or '}'");
        }
      }
      ++pos_;
      return v;
    }
    error(fmt::format("unexpected character '{}'", c));
  }

  PyValue parse_string() {
    const char quote = text_[pos_++];
    PyValue v;
    v.kind = PyValue::Kind::string;
    while (true) {
      if (pos_ >= text_.size()) error("unterminated string");
      const char c = text_[pos_++];
      if (c == quote) break;
      if (c == '\n') error("newline inside a string");
      if (c == '\\') {
        if (pos_ >= text_.size()) error("unterminated string");
        const char e = text_[pos_++];
        switch (e) {
          case '\\': case '\'': case '"': v.str += e; break;
          case 'n': v.str += '\n'; break;
          case 't': v.str += '\t'; break;
          default: error(fmt::format("unsupported escape '\\{}' in a string", e));
        }
        continue;
      }
      v.str += c;
    }
    return v;
  }

  PyValue parse_integer() {
    PyValue v;
    v.kind = PyValue::Kind::integer;
    bool negative = false;
    if (text_[pos_] == '+' || text_[pos_] == '-') negative = text_[pos_++] == '-';
    if (pos_ >= text_.size() || !std::isdigit(static_cast<unsigned char>(text_[pos_]))) error("expected digits");
    uint64_t value = 0;
    while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) {
      const uint64_t digit = static_cast<uint64_t>(text_[pos_++] - '0');
      if (value > (uint64_t{INT64_MAX} - digit) / 10) error("integer too large");
      value = value * 10 + digit;
    }
    if (pos_ < text_.size() && (text_[pos_] == 'L' || text_[pos_] == 'l')) ++pos_;  // Python 2 long
    if (pos_ < text_.size() && (text_[pos_] == '.' || text_[pos_] == 'e' || text_[pos_] == 'E'))
      error("expected an integer, found a float");
    v.integer = negative ? -static_cast<int64_t>(value) : static_cast<int64_t>(value);
    return v;
  }

  std::string_view text_;
  const std::string& file_;
  size_t pos_ = 0;
};

// ---- dtypes ----------------------------------------------------------------

std::optional<DType> dtype_from_descr(const std::string& d) {
  if (d == "<f4") return DType::f32;
  if (d == "<f8") return DType::f64;
  if (d == "<i4") return DType::i32;
  if (d == "<i8") return DType::i64;
  if (d == "|i1" || d == "<i1" || d == ">i1") return DType::i8;
  if (d == "|u1" || d == "<u1" || d == ">u1") return DType::u8;
  return std::nullopt;
}

}  // namespace

std::string npy_descr(DType dtype) {
  switch (dtype) {
    case DType::f32: return "<f4";
    case DType::f64: return "<f8";
    case DType::i8: return "|i1";
    case DType::u8: return "|u1";
    case DType::i32: return "<i4";
    case DType::i64: return "<i8";
  }
  fail("npy: no descr for dtype {}", static_cast<int>(dtype));
}

namespace {

Tensor parse_npy_source(const ByteSource& file) {
  const std::string& path = file.name();
  const uint64_t size = file.size();
  TINYOPT_CHECK(size >= 10, "'{}' is not a .npy file: it is {} bytes long, shorter than the 10-byte preamble", path,
                size);
  unsigned char pre[12] = {};
  file.read(0, pre, size >= 12 ? 12 : 10, "the .npy preamble");
  TINYOPT_CHECK(std::memcmp(pre, kMagic, 6) == 0, "'{}' is not a .npy file: expected the magic \"\\x93NUMPY\", found {}",
                path, fmt::format("{:02x} {:02x} {:02x} {:02x} {:02x} {:02x}", pre[0], pre[1], pre[2], pre[3], pre[4],
                                  pre[5]));
  const int major = pre[6], minor = pre[7];
  uint64_t header_len = 0, header_start = 0;
  if (major == 1) {
    header_len = pre[8] | (uint32_t{pre[9]} << 8);
    header_start = 10;
  } else if (major == 2 || major == 3) {
    TINYOPT_CHECK(size >= 12, "'{}' is truncated: a version {}.{} .npy needs a 12-byte preamble, the file has {} bytes",
                  path, major, minor, size);
    header_len = pre[8] | (uint32_t{pre[9]} << 8) | (uint32_t{pre[10]} << 16) | (uint32_t{pre[11]} << 24);
    header_start = 12;
  } else {
    fail("'{}': unsupported .npy format version {}.{} (expected 1.0, 2.0 or 3.0)", path, major, minor);
  }
  TINYOPT_CHECK(header_len <= kMaxHeaderBytes, "'{}': .npy header length {} exceeds the limit of {} bytes", path,
                header_len, kMaxHeaderBytes);
  check_limit(header_len, limits().max_header_bytes, "max_header_bytes", fmt::format("'{}': the .npy header length", path));
  TINYOPT_CHECK(header_len <= size - header_start,
                "'{}' is truncated: the .npy header claims {} bytes, but only {} follow the preamble", path, header_len,
                size - header_start);
  std::string header(static_cast<size_t>(header_len), '\0');
  file.read(header_start, header.data(), header.size(), "the .npy header");

  const PyValue dict = PyLiteralParser(header, path).parse_document();
  TINYOPT_CHECK(dict.kind == PyValue::Kind::dict, "'{}': the .npy header must be a dict, found {}", path,
                dict.kind_name());
  const PyValue* descr = nullptr;
  const PyValue* fortran = nullptr;
  const PyValue* shape = nullptr;
  for (const auto& [key, value] : dict.entries) {
    TINYOPT_CHECK(key.kind == PyValue::Kind::string, "'{}': .npy header keys must be strings, found {}", path,
                  key.kind_name());
    const PyValue** slot = key.str == "descr"           ? &descr
                           : key.str == "fortran_order" ? &fortran
                           : key.str == "shape"         ? &shape
                                                        : nullptr;
    TINYOPT_CHECK(slot != nullptr, "'{}': unexpected key '{}' in the .npy header (expected descr, fortran_order, shape)",
                  path, key.str);
    TINYOPT_CHECK(*slot == nullptr, "'{}': key '{}' appears twice in the .npy header", path, key.str);
    *slot = &value;
  }
  TINYOPT_CHECK(descr && fortran && shape, "'{}': the .npy header lacks '{}'", path,
                !descr ? "descr" : !fortran ? "fortran_order" : "shape");

  TINYOPT_CHECK(descr->kind == PyValue::Kind::string,
                "'{}': unsupported .npy dtype: descr is {} (structured arrays are not supported)", path,
                descr->kind_name());
  const std::optional<DType> dtype = dtype_from_descr(descr->str);
  if (!dtype) {
    const std::string& d = descr->str;
    if (d.size() >= 2 && d[1] == 'b') fail("'{}': unsupported .npy dtype '{}': bool arrays are not supported", path, d);
    if (d.size() >= 2 && d[0] == '>')
      fail("'{}': unsupported .npy dtype '{}': big-endian data is not supported (save it little-endian)", path, d);
    fail("'{}': unsupported .npy dtype '{}' (expected one of <f4, <f8, |i1, |u1, <i4, <i8)", path, d);
  }

  TINYOPT_CHECK(shape->kind == PyValue::Kind::tuple, "'{}': .npy shape must be a tuple, found {}", path,
                shape->kind_name());
  TINYOPT_CHECK(shape->items.size() <= static_cast<size_t>(Shape::kMaxDims),
                "'{}': .npy array has rank {}, more than the maximum of {}", path, shape->items.size(), Shape::kMaxDims);
  check_limit(shape->items.size(), limits().max_rank, "max_rank", fmt::format("'{}': the .npy array's rank", path));
  std::vector<int64_t> dims;
  for (const PyValue& d : shape->items) {
    TINYOPT_CHECK(d.kind == PyValue::Kind::integer, "'{}': .npy shape entries must be integers, found {}", path,
                  d.kind_name());
    TINYOPT_CHECK(d.integer >= 0 && d.integer <= kMaxDim,
                  "'{}': invalid .npy shape dimension {}: expected a non-negative size of at most 2^40", path,
                  d.integer);
    dims.push_back(d.integer);
  }
  const Shape tshape(dims);

  TINYOPT_CHECK(fortran->kind == PyValue::Kind::boolean, "'{}': fortran_order must be True or False, found {}", path,
                fortran->kind_name());
  TINYOPT_CHECK(!fortran->boolean || tshape.size() <= 1,
                "'{}': .npy array {} is stored in Fortran (column-major) order; only C order is supported (save it "
                "with np.ascontiguousarray)",
                path, tshape.str());

  // Byte count, overflow-safe, checked against the real file size before allocating.
  uint64_t expected = dtype_size(*dtype);
  for (int64_t d : dims) {
    if (__builtin_mul_overflow(expected, static_cast<uint64_t>(d), &expected)) {
      fail("'{}': .npy shape {} is too large", path, tshape.str());
    }
  }
  check_limit(expected, limits().max_tensor_bytes, "max_tensor_bytes",
              fmt::format("'{}': the .npy array's size in bytes", path));
  const uint64_t data_start = header_start + header_len;
  const uint64_t available = size - data_start;
  TINYOPT_CHECK(available == expected, "'{}': {} shape {} needs {} data bytes, found {}{}", path, descr->str,
                tshape.str(), expected, available, available < expected ? " (file truncated)" : " (trailing bytes)");

  // An empty array passes the byte checks whatever its other dims are.
  TINYOPT_CHECK(tshape.within_extent(),
                "'{}': .npy shape {} is absurd: its dimensions multiply (a zero counted as one) to more than 2^40", path,
                tshape.str());

  Tensor t = Tensor::empty(tshape, *dtype);
  if (expected > 0) file.read(data_start, t.raw_data(), static_cast<size_t>(expected), "the array data");
  return t;
}

}  // namespace

Tensor load_npy(const std::string& path) { return parse_npy_source(FileSource(path)); }

Tensor parse_npy(const std::string& bytes, const std::string& name) { return parse_npy_source(MemorySource(bytes, name)); }

void save_npy(const std::string& path, const Tensor& tensor) {
  TINYOPT_CHECK(tensor.defined(), "cannot save an undefined tensor to '{}'", path);
  const Tensor cpu = tensor.to(Device::cpu());
  // Python tuple syntax, as numpy writes it: "()", "(3,)", "(2, 3)".
  std::string shape;
  if (cpu.ndim() == 1) {
    shape = fmt::format("({},)", cpu.shape()[0]);
  } else {
    shape = fmt::format("({})", fmt::join(cpu.shape().begin(), cpu.shape().end(), ", "));
  }
  std::string header = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}", npy_descr(cpu.dtype()),
                                   shape);
  // Pad with spaces so magic (6) + version (2) + length (2) + header + '\n' is a multiple of 64.
  const size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header += '\n';
  TINYOPT_CHECK(header.size() <= 0xffff, "'{}': .npy header too long for format 1.0", path);

  write_file_atomic(path, [&](std::ostream& out) {
    out.write(kMagic, 6);
    const char version_and_len[4] = {1, 0, static_cast<char>(header.size() & 0xff),
                                     static_cast<char>((header.size() >> 8) & 0xff)};
    out.write(version_and_len, 4);
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    if (cpu.nbytes() > 0) out.write(static_cast<const char*>(cpu.raw_data()), static_cast<std::streamsize>(cpu.nbytes()));
  });
}

}  // namespace tinyopt
