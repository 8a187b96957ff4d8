#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "io/safetensors.h"
#include "test_io_util.h"

using namespace tinyopt;
using tinyopt::test::expect_error;
using tinyopt::test::le64;
using tinyopt::test::read_bytes;
using tinyopt::test::ScratchDir;
using tinyopt::test::write_bytes;

namespace {

// A safetensors byte string from a header and a data buffer, exactly as given.
std::string st_bytes(const std::string& header, const std::string& buffer) {
  return le64(header.size()) + header + buffer;
}

template <class T>
Tensor make_tensor(const Shape& shape, std::initializer_list<T> values) {
  Tensor t = Tensor::empty(shape, dtype_of<T>::value);
  EXPECT_EQ(static_cast<size_t>(t.numel()), values.size());
  std::copy(values.begin(), values.end(), t.data<T>());
  return t;
}

std::string tensor_bytes(const Tensor& t) {
  return std::string(static_cast<const char*>(t.raw_data()), t.nbytes());
}

std::string floats_bytes(std::initializer_list<float> v) {
  std::string s(v.size() * 4, '\0');
  std::memcpy(s.data(), v.begin(), s.size());
  return s;
}

}  // namespace

TEST(Safetensors, RoundTripEveryDtypeShapeAndMetadata) {
  ScratchDir dir;
  std::map<std::string, Tensor> tensors;
  tensors["fc1.weight"] = make_tensor<float>({2, 3}, {1.5f, -2.0f, 0.0f, 3.25f, 1e-30f, -7.0f});
  tensors["fc1.bias"] = make_tensor<double>({4}, {1.0, -1e300, 0.5, 42.0});
  tensors["q.int8"] = make_tensor<int8_t>({3, 1}, {-128, 0, 127});
  tensors["q.zero_point"] = make_tensor<uint8_t>({5}, {0, 1, 128, 254, 255});
  tensors["acc"] = make_tensor<int32_t>({2, 2}, {INT32_MIN, -1, 1, INT32_MAX});
  tensors["ids"] = make_tensor<int64_t>({1}, {INT64_MIN});
  tensors["scalar"] = make_tensor<float>({}, {3.0f});
  tensors["empty"] = Tensor::empty({0, 3}, DType::f32);
  tensors["six.dims"] = Tensor::zeros({1, 2, 1, 2, 1, 2}, DType::i32);
  const std::map<std::string, std::string> metadata = {{"format", "pt"}, {"config", R"({"hidden": [128, 64]})"},
                                                       {"unicode", "caf\xc3\xa9"}};
  const std::string path = dir.file("model.safetensors");
  save_safetensors(path, tensors, metadata);

  const SafetensorsFile f = load_safetensors(path);
  EXPECT_EQ(f.path, path);
  EXPECT_EQ(f.metadata, metadata);
  ASSERT_EQ(f.tensors.size(), tensors.size());
  for (const auto& [name, t] : tensors) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(f.contains(name));
    const Tensor& got = f.tensors.at(name);
    EXPECT_EQ(got.dtype(), t.dtype());
    EXPECT_EQ(got.shape(), t.shape());
    EXPECT_TRUE(got.device().is_cpu());
    EXPECT_EQ(tensor_bytes(got), tensor_bytes(t));
    EXPECT_EQ(f.stored_dtypes.at(name), safetensors_dtype_name(t.dtype()));
  }
  // The file layout: header length a multiple of 8, and saving again reproduces the same bytes.
  const std::string bytes = read_bytes(path);
  uint64_t header_len = 0;
  std::memcpy(&header_len, bytes.data(), 8);
  EXPECT_EQ(header_len % 8, 0u);
  EXPECT_EQ(bytes, serialize_safetensors(tensors, metadata));
  save_safetensors(dir.file("again.safetensors"), f.tensors, f.metadata);
  EXPECT_EQ(read_bytes(dir.file("again.safetensors")), bytes);
  EXPECT_EQ(dir.entries(), (std::vector<std::string>{"again.safetensors", "model.safetensors"}));
}

TEST(Safetensors, WriterProducesTheKnownByteLayout) {
  std::map<std::string, Tensor> tensors;
  tensors["b"] = make_tensor<int8_t>({3}, {1, 2, -1});
  tensors["a"] = make_tensor<float>({2}, {1.0f, 2.0f});
  const std::string got = serialize_safetensors(tensors, {{"format", "pt"}});

  // Metadata first, then tensors in name order, laid out back to back; the
  // JSON is padded with spaces to a multiple of 8 bytes.
  std::string header =
      R"({"__metadata__":{"format":"pt"},)"
      R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
      R"("b":{"dtype":"I8","shape":[3],"data_offsets":[8,11]}})";
  ASSERT_EQ(header.size(), 138u);
  header += "      ";  // 138 -> 144
  std::string expected = std::string("\x90\0\0\0\0\0\0\0", 8) + header;
  expected += std::string("\x00\x00\x80\x3f\x00\x00\x00\x40", 8);  // 1.0f, 2.0f little-endian
  expected += std::string("\x01\x02\xff", 3);
  EXPECT_EQ(got, expected);

  // No metadata: no "__metadata__" key at all.
  const std::string plain = serialize_safetensors({{"x", make_tensor<uint8_t>({1}, {7})}});
  EXPECT_EQ(plain.substr(8, 55), R"({"x":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}  )");
  EXPECT_EQ(plain.size(), 8u + 56u + 1u);
}

TEST(Safetensors, ReadsAHandBuiltFileWithHalfTypesAndHoles) {
  ScratchDir dir;
  // Keys in another order, spacing, a hole between tensors, trailing header spaces:
  // all legal and accepted. F16/BF16 become f32.
  const std::string header =
      R"({ "h" : {"shape": [5], "data_offsets": [16, 26], "dtype": "F16"},)"
      R"( "w": {"dtype":"F32","data_offsets":[0,8],"shape":[1,2]},)"
      R"( "bf": {"dtype":"BF16","shape":[2],"data_offsets":[26,30]},)"
      R"( "z": {"dtype":"I64","shape":[0],"data_offsets":[30,30]},)"
      R"( "__metadata__": {"note": "hand built"} }      )";
  std::string buffer = floats_bytes({0.5f, -4.0f});
  buffer += std::string(8, '\xAA');  // hole: bytes [8, 16) belong to no tensor
  const uint16_t halves[5] = {0x3C00, 0xC000, 0x0001, 0x7C00, 0x3555};
  buffer.append(reinterpret_cast<const char*>(halves), 10);
  const uint16_t bf16[2] = {0x3F80, 0xC0A0};
  buffer.append(reinterpret_cast<const char*>(bf16), 4);
  const std::string path = dir.file("hand.safetensors");
  write_bytes(path, st_bytes(header, buffer));

  const SafetensorsFile f = load_safetensors(path);
  EXPECT_EQ(f.metadata.at("note"), "hand built");
  const Tensor& w = f.require("w", DType::f32, {1, 2});
  EXPECT_EQ(w.data<float>()[0], 0.5f);
  EXPECT_EQ(w.data<float>()[1], -4.0f);
  const Tensor& h = f.require("h", DType::f32, {5});
  EXPECT_EQ(f.stored_dtypes.at("h"), "F16");
  EXPECT_EQ(h.data<float>()[0], 1.0f);
  EXPECT_EQ(h.data<float>()[1], -2.0f);
  EXPECT_EQ(h.data<float>()[2], std::ldexp(1.0f, -24));  // smallest subnormal half
  EXPECT_TRUE(std::isinf(h.data<float>()[3]));
  EXPECT_FLOAT_EQ(h.data<float>()[4], 0.333251953125f);
  const Tensor& bf = f.require("bf", DType::f32, {2});
  EXPECT_EQ(bf.data<float>()[0], 1.0f);
  EXPECT_EQ(bf.data<float>()[1], -5.0f);
  EXPECT_EQ(f.require("z", DType::i64, {0}).numel(), 0);
  EXPECT_TRUE(f.unconsumed().empty());
  EXPECT_NO_THROW(f.check_all_consumed());

  // An empty header object is a valid file with no tensors.
  write_bytes(dir.file("empty.safetensors"), st_bytes("{}      ", ""));
  EXPECT_TRUE(load_safetensors(dir.file("empty.safetensors")).tensors.empty());
}

TEST(Safetensors, HalfConversionCoversEverySubnormalAndNaN) {
  // Every F16 bit pattern against a reference computed from the definition.
  Tensor all;
  {
    std::string buffer(65536 * 2, '\0');
    for (uint32_t i = 0; i < 65536; ++i) {
      buffer[2 * i] = static_cast<char>(i & 0xff);
      buffer[2 * i + 1] = static_cast<char>(i >> 8);
    }
    const std::string header = R"({"all":{"dtype":"F16","shape":[65536],"data_offsets":[0,131072]}})";
    all = parse_safetensors(st_bytes(header, buffer), "mem").tensors.at("all");
  }
  for (uint32_t i = 0; i < 65536; ++i) {
    const int exp = (i >> 10) & 0x1f;
    const int mant = i & 0x3ff;
    const float sign = (i & 0x8000) ? -1.0f : 1.0f;
    const float got = all.data<float>()[i];
    if (exp == 31) {
      EXPECT_TRUE(mant ? std::isnan(got) : (std::isinf(got) && std::signbit(got) == (sign < 0))) << i;
    } else {
      const float want = exp == 0 ? sign * std::ldexp(float(mant), -24) : sign * std::ldexp(float(1024 + mant), exp - 25);
      ASSERT_EQ(got, want) << "half bits 0x" << std::hex << i;
      EXPECT_EQ(std::signbit(got), sign < 0) << i;
    }
  }
}

TEST(Safetensors, RequireReportsTheFirstMismatchByName) {
  std::map<std::string, Tensor> tensors = {{"fc1.weight", Tensor::zeros({10, 784}, DType::f32)},
                                           {"fc1.bias", Tensor::zeros({10}, DType::f32)},
                                           {"q", Tensor::zeros({4}, DType::i8)},
                                           {"extra.one", Tensor::zeros({1}, DType::u8)},
                                           {"extra.two", Tensor::zeros({1}, DType::u8)}};
  const SafetensorsFile f = parse_safetensors(serialize_safetensors(tensors), "m.safetensors");
  expect_error([&] { f.require("fc2.weight", DType::f32, {10, 784}); }, {"m.safetensors", "missing tensor 'fc2.weight'"});
  expect_error([&] { f.require("q", DType::f32, {4}); }, {"'q'", "expected dtype f32, found i8", "stored as I8"});
  expect_error([&] { f.require("fc1.weight", DType::f32, {784, 10}); },
               {"'fc1.weight'", "expected shape [784, 10], found [10, 784]"});
  EXPECT_NO_THROW(f.require("fc1.bias", DType::f32, {10}));
  EXPECT_EQ(f.unconsumed(), (std::vector<std::string>{"extra.one", "extra.two"}));
  expect_error([&] { f.check_all_consumed(); }, {"m.safetensors", "2 unexpected tensors", "extra.one, extra.two"});
  EXPECT_NO_THROW(f.get("extra.one"));
  EXPECT_NO_THROW(f.get("extra.two"));
  EXPECT_NO_THROW(f.check_all_consumed());
  expect_error([&] { f.require_metadata("config"); }, {"missing metadata key 'config'"});
}

TEST(Safetensors, WriterRejectsBadInputAndMissingDirectory) {
  ScratchDir dir;
  expect_error([&] { serialize_safetensors({{"__metadata__", Tensor::zeros({1}, DType::f32)}}); }, {"__metadata__"});
  expect_error([&] { serialize_safetensors({{"undefined", Tensor()}}); }, {"'undefined'", "undefined"});
  expect_error([&] { serialize_safetensors({{"bad\xff", Tensor::zeros({1}, DType::f32)}}); }, {"UTF-8"});
  const std::string path = dir.file("missing/model.safetensors");
  expect_error([&] { save_safetensors(path, {{"a", Tensor::zeros({1}, DType::f32)}}); }, {path, "does not exist"});
}

// ---- malformed files: each one a tinyopt::Error that names the file and the problem ----

namespace {

struct Malformed {
  const char* what;
  std::string bytes;
  std::vector<std::string> expect;  // substrings of the message (the path is always checked)
};

std::string valid_entry(const std::string& name, const std::string& dtype, const std::string& shape, uint64_t b,
                        uint64_t e) {
  return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" +
         std::to_string(b) + "," + std::to_string(e) + "]}";
}

std::vector<Malformed> malformed_cases() {
  const std::string f32x3 = floats_bytes({1, 2, 3});
  const std::string good = st_bytes("{" + valid_entry("t", "F32", "[3]", 0, 12) + "}", f32x3);
  std::vector<Malformed> c;
  c.push_back({"empty file", "", {"0 bytes", "8-byte header length"}});
  c.push_back({"shorter than the length field", std::string("\x05\0\0", 3), {"3 bytes", "8-byte header length"}});
  c.push_back({"header length beyond file", le64(1000) + "{}", {"header length 1000", "exceeds"}});
  c.push_back({"header length absurd", le64(uint64_t{1} << 62) + "{}", {"exceeds the limit"}});
  c.push_back({"header length all ones", le64(~uint64_t{0}) + "{}", {"exceeds the limit"}});
  c.push_back({"header not an object", st_bytes("[1, 2]", ""), {"does not start with '{'"}});
  c.push_back({"bad json", st_bytes("{\"t\": {\"dtype\": \"F32\",", ""), {"not valid JSON"}});
  c.push_back({"json with trailing garbage", st_bytes("{} x", ""), {"not valid JSON"}});
  c.push_back({"invalid utf-8 in json", st_bytes("{\"t\xff\": 1}", ""), {"not valid JSON"}});
  c.push_back({"truncated file (data cut off)", good.substr(0, good.size() - 4),
               {"tensor 't'", "outside the data buffer of 8 bytes"}});
  c.push_back({"truncated in the header", good.substr(0, 20), {"exceeds"}});
  c.push_back({"offsets out of range", st_bytes("{" + valid_entry("t", "F32", "[3]", 4, 16) + "}", f32x3),
               {"tensor 't'", "[4, 16]", "outside the data buffer of 12 bytes"}});
  c.push_back({"offsets end before begin", st_bytes("{" + valid_entry("t", "F32", "[0]", 8, 4) + "}", f32x3),
               {"tensor 't'", "begin after end"}});
  c.push_back({"overlapping tensors",
               st_bytes("{" + valid_entry("a", "F32", "[2]", 0, 8) + "," + valid_entry("b", "F32", "[2]", 4, 12) + "}",
                        f32x3),
               {"'a'", "'b'", "overlap"}});
  c.push_back({"identical ranges overlap",
               st_bytes("{" + valid_entry("a", "I32", "[3]", 0, 12) + "," + valid_entry("b", "F32", "[3]", 0, 12) + "}",
                        f32x3),
               {"'a'", "'b'", "overlap"}});
  c.push_back({"wrong size for shape", st_bytes("{" + valid_entry("t", "F32", "[2, 2]", 0, 12) + "}", f32x3),
               {"tensor 't'", "needs 16 bytes", "span 12 bytes"}});
  c.push_back({"size overflow", st_bytes("{" + valid_entry("t", "F64", "[1099511627776, 1099511627776]", 0, 12) + "}", f32x3),
               {"tensor 't'", "more than 2^64"}});
  c.push_back({"absurd dimension", st_bytes("{" + valid_entry("t", "F32", "[0, 99999999999999]", 0, 0) + "}", ""),
               {"tensor 't'", "absurd dimension"}});
  c.push_back({"unknown dtype", st_bytes("{" + valid_entry("t", "Q7", "[3]", 0, 12) + "}", f32x3),
               {"tensor 't'", "unknown dtype 'Q7'"}});
  c.push_back({"unsupported dtype BOOL", st_bytes("{" + valid_entry("flags", "BOOL", "[3]", 0, 3) + "}", "abc"),
               {"tensor 'flags'", "unsupported dtype 'BOOL'"}});
  c.push_back({"unsupported dtype F8", st_bytes("{" + valid_entry("f8", "F8_E4M3", "[3]", 0, 3) + "}", "abc"),
               {"tensor 'f8'", "unsupported dtype 'F8_E4M3'"}});
  c.push_back({"negative dim", st_bytes("{" + valid_entry("t", "F32", "[-3]", 0, 12) + "}", f32x3),
               {"tensor 't'", "shape[0] must be a non-negative integer, found -3"}});
  c.push_back({"float dim", st_bytes("{" + valid_entry("t", "F32", "[3.0]", 0, 12) + "}", f32x3),
               {"tensor 't'", "non-negative integer"}});
  c.push_back({"string offset", st_bytes(R"({"t":{"dtype":"F32","shape":[3],"data_offsets":["0",12]}})", f32x3),
               {"tensor 't'", "data_offsets[0]"}});
  c.push_back({"three offsets", st_bytes(R"({"t":{"dtype":"F32","shape":[3],"data_offsets":[0,4,12]}})", f32x3),
               {"tensor 't'", "[begin, end]"}});
  c.push_back({"rank too high", st_bytes("{" + valid_entry("t", "F32", "[1,1,1,1,1,1,3]", 0, 12) + "}", f32x3),
               {"tensor 't'", "rank 7"}});
  c.push_back({"shape not an array", st_bytes(R"({"t":{"dtype":"F32","shape":3,"data_offsets":[0,12]}})", f32x3),
               {"tensor 't'", "shape must be an array"}});
  c.push_back({"dtype not a string", st_bytes(R"({"t":{"dtype":1,"shape":[3],"data_offsets":[0,12]}})", f32x3),
               {"tensor 't'", "dtype must be a string"}});
  c.push_back({"missing key", st_bytes(R"({"t":{"dtype":"F32","data_offsets":[0,12]}})", f32x3),
               {"tensor 't'", "missing key 'shape'"}});
  c.push_back({"extra key", st_bytes(R"({"t":{"dtype":"F32","shape":[3],"data_offsets":[0,12],"x":1}})", f32x3),
               {"tensor 't'", "unexpected key 'x'"}});
  c.push_back({"entry not an object", st_bytes(R"({"t":[1,2]})", ""), {"tensor 't'", "expected an object"}});
  c.push_back({"metadata value not a string", st_bytes(R"({"__metadata__":{"epochs":3}})", ""),
               {"__metadata__ key 'epochs'", "string value"}});
  c.push_back({"metadata not an object", st_bytes(R"({"__metadata__":"pt"})", ""), {"__metadata__ must be an object"}});
  c.push_back({"duplicate tensor name",
               st_bytes("{" + valid_entry("t", "F32", "[1]", 0, 4) + "," + valid_entry("t", "F32", "[1]", 4, 8) + "}",
                        f32x3),
               {"'t' twice"}});
  c.push_back({"deep nesting", st_bytes("{\"t\":" + std::string(5000, '[') + std::string(5000, ']') + "}", ""),
               {"nested deeper"}});
  return c;
}

}  // namespace

TEST(Safetensors, MalformedFilesGiveClearErrors) {
  ScratchDir dir;
  int i = 0;
  for (const Malformed& m : malformed_cases()) {
    SCOPED_TRACE(m.what);
    const std::string path = dir.file("bad" + std::to_string(i++) + ".safetensors");
    write_bytes(path, m.bytes);
    const std::string msg = expect_error([&] { load_safetensors(path); }, {"'" + path + "'"});
    for (const std::string& part : m.expect) EXPECT_NE(msg.find(part), std::string::npos) << "'" << part << "' not in: " << msg;
    // The in-memory parser agrees.
    expect_error([&] { parse_safetensors(m.bytes, "mem.safetensors"); }, {"mem.safetensors"});
  }
}

TEST(Safetensors, MissingFileAndDirectoryAreErrors) {
  ScratchDir dir;
  expect_error([&] { load_safetensors(dir.file("nope.safetensors")); }, {dir.file("nope.safetensors"), "no such file"});
  expect_error([&] { load_safetensors(dir.path()); }, {dir.path(), "directory"});
  expect_error([&] { load_safetensors("/dev/null"); }, {"/dev/null", "not a regular file"});
  // A FIFO with no writer must be rejected, not block forever in open().
  ASSERT_EQ(::mkfifo(dir.file("pipe").c_str(), 0600), 0);
  expect_error([&] { load_safetensors(dir.file("pipe")); }, {dir.file("pipe"), "not a regular file"});
}

TEST(Safetensors, EveryTruncationOfAValidFileIsAnError) {
  std::map<std::string, Tensor> tensors = {{"a", make_tensor<float>({2}, {1, 2})},
                                           {"b", make_tensor<int64_t>({2}, {3, 4})}};
  const std::string bytes = serialize_safetensors(tensors, {{"k", "v"}});
  for (size_t n = 0; n < bytes.size(); ++n) {
    SCOPED_TRACE(n);
    expect_error([&] { parse_safetensors(bytes.substr(0, n), "cut.safetensors"); }, {"cut.safetensors"});
  }
  EXPECT_NO_THROW(parse_safetensors(bytes, "whole.safetensors"));
}

TEST(Safetensors, RandomCorruptionsOnlyEverThrowTinyoptError) {
  std::map<std::string, Tensor> tensors = {{"layer.0.weight", make_tensor<float>({2, 2}, {1, 2, 3, 4})},
                                           {"layer.0.bias", make_tensor<double>({2}, {5, 6})},
                                           {"q", make_tensor<int8_t>({3}, {-1, 0, 1})},
                                           {"h", Tensor::zeros({2}, DType::i64)}};
  const std::string good = serialize_safetensors(tensors, {{"config", "{\"n\": 2}"}});
  std::mt19937 rng(1234);
  int loaded = 0, rejected = 0;
  for (int iter = 0; iter < 4000; ++iter) {
    std::string bytes = good;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const size_t pos = rng() % bytes.size();
      switch (rng() % 4) {
        case 0: bytes[pos] = static_cast<char>(rng()); break;                  // random byte
        case 1: bytes[pos] = "0123456789[]{}\",:-. "[rng() % 20]; break;        // JSON-ish byte
        case 2: bytes.resize(pos); break;                                       // truncate
        case 3: bytes.insert(pos, 1, static_cast<char>(rng())); break;         // insert
      }
      if (bytes.empty()) break;
    }
    try {
      parse_safetensors(bytes, "fuzz");
      ++loaded;
    } catch (const Error& err) {
      ++rejected;
      EXPECT_NE(std::string(err.what()).find("fuzz"), std::string::npos) << err.what();
    }
  }
  EXPECT_GT(rejected, 1000);
  EXPECT_GT(loaded, 0);  // e.g. edits inside tensor data or metadata text
}
