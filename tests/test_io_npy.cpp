#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "io/npy.h"
#include "test_io_util.h"

using namespace tinyopt;
using tinyopt::test::expect_error;
using tinyopt::test::read_bytes;
using tinyopt::test::ScratchDir;
using tinyopt::test::system_python_has;
using tinyopt::test::write_bytes;

namespace {

// A .npy file from a header dict string: version 1.0 (or `major`.0), the
// header padded to 64 bytes as numpy does, then `data`.
std::string npy_bytes(const std::string& dict, const std::string& data, int major = 1) {
  const size_t prefix = major == 1 ? 10 : 12;
  std::string header = dict;
  header.append((64 - (prefix + header.size() + 1) % 64) % 64, ' ');
  header += '\n';
  std::string out = "\x93NUMPY";
  out += static_cast<char>(major);
  out += '\0';
  const uint32_t n = static_cast<uint32_t>(header.size());
  out += static_cast<char>(n & 0xff);
  out += static_cast<char>((n >> 8) & 0xff);
  if (major != 1) {
    out += static_cast<char>((n >> 16) & 0xff);
    out += static_cast<char>((n >> 24) & 0xff);
  }
  return out + header + data;
}

template <class T>
std::string raw(std::initializer_list<T> v) {
  std::string s(v.size() * sizeof(T), '\0');
  std::memcpy(s.data(), v.begin(), s.size());
  return s;
}

std::string tensor_bytes(const Tensor& t) { return std::string(static_cast<const char*>(t.raw_data()), t.nbytes()); }

Tensor iota(const Shape& shape, DType dtype) {
  Tensor t = Tensor::empty(shape, dtype);
  for (int64_t i = 0; i < t.numel(); ++i) {
    const double v = static_cast<double>(i % 100) - 50.0 + (dtype == DType::f32 || dtype == DType::f64 ? 0.25 : 0.0);
    switch (dtype) {
      case DType::f32: t.data<float>()[i] = static_cast<float>(v); break;
      case DType::f64: t.data<double>()[i] = v; break;
      case DType::i8: t.data<int8_t>()[i] = static_cast<int8_t>(v); break;
      case DType::u8: t.data<uint8_t>()[i] = static_cast<uint8_t>(i % 256); break;
      case DType::i32: t.data<int32_t>()[i] = static_cast<int32_t>(v * 1000); break;
      case DType::i64: t.data<int64_t>()[i] = static_cast<int64_t>(v) << 40; break;
    }
  }
  return t;
}

}  // namespace

TEST(Npy, RoundTripEveryDtypeAndRank) {
  ScratchDir dir;
  const std::vector<std::pair<DType, Shape>> cases = {
      {DType::f32, {2, 3}},    {DType::f64, {5}},          {DType::i8, {4, 1, 2}}, {DType::u8, {300}},
      {DType::i32, {1, 1, 7}}, {DType::i64, {2, 2, 2, 2}}, {DType::f32, {}},       {DType::f32, {0, 4}},
      {DType::f32, {1, 2, 3, 1, 2, 3}}};
  int i = 0;
  for (const auto& [dtype, shape] : cases) {
    const std::string path = dir.file("a" + std::to_string(i++) + ".npy");
    SCOPED_TRACE(path + " " + std::string(dtype_name(dtype)) + shape.str());
    const Tensor t = iota(shape, dtype);
    save_npy(path, t);
    const Tensor back = load_npy(path);
    EXPECT_EQ(back.dtype(), dtype);
    EXPECT_EQ(back.shape(), shape);
    EXPECT_EQ(tensor_bytes(back), tensor_bytes(t));
    const std::string bytes = read_bytes(path);
    ASSERT_GE(bytes.size(), 10u);
    const size_t header_len = static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8);
    EXPECT_EQ((10 + header_len) % 64, 0u) << "data must start 64-byte aligned";
    EXPECT_EQ(bytes[6], 1);
    EXPECT_EQ(bytes[7], 0);
    EXPECT_EQ(bytes[10 + header_len - 1], '\n');
    EXPECT_EQ(bytes.size(), 10 + header_len + t.nbytes());
  }
  EXPECT_EQ(dir.entries().size(), cases.size());  // no temporary files left behind
}

TEST(Npy, WriterUsesNumpysExactHeaderText) {
  ScratchDir dir;
  auto header_of = [&](const Tensor& t) {
    save_npy(dir.file("h.npy"), t);
    const std::string bytes = read_bytes(dir.file("h.npy"));
    std::string h = bytes.substr(10, static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8));
    return h.substr(0, h.find_last_not_of(" \n") + 1);
  };
  EXPECT_EQ(header_of(Tensor::zeros({2, 3}, DType::f32)), "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }");
  EXPECT_EQ(header_of(Tensor::zeros({7}, DType::i64)), "{'descr': '<i8', 'fortran_order': False, 'shape': (7,), }");
  EXPECT_EQ(header_of(Tensor::zeros({}, DType::u8)), "{'descr': '|u1', 'fortran_order': False, 'shape': (), }");
  EXPECT_EQ(header_of(Tensor::zeros({1}, DType::i8)), "{'descr': '|i1', 'fortran_order': False, 'shape': (1,), }");
  EXPECT_EQ(header_of(Tensor::zeros({1}, DType::f64)), "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }");
  EXPECT_EQ(header_of(Tensor::zeros({1}, DType::i32)), "{'descr': '<i4', 'fortran_order': False, 'shape': (1,), }");
}

TEST(Npy, HeaderIsParsedAsAPythonLiteral) {
  ScratchDir dir;
  const std::string data = raw<float>({1, 2, 3, 4, 5, 6});
  const std::vector<std::string> dicts = {
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
      "{'shape':(2,3),'fortran_order':False,'descr':'<f4'}",
      "{ \"descr\" : \"<f4\" ,\n 'fortran_order' : False , 'shape' : ( 2 , 3 ) }",
      "{'descr': u'<f4', 'fortran_order': False, 'shape': (2L, 3L)}",
      "{'descr':'<f4','fortran_order':False,'shape':[2,3],}",
  };
  for (size_t i = 0; i < dicts.size(); ++i) {
    SCOPED_TRACE(dicts[i]);
    const std::string path = dir.file("p" + std::to_string(i) + ".npy");
    write_bytes(path, npy_bytes(dicts[i], data));
    if (i == 4) {  // a list is not a tuple: numpy would not write it, we do not accept it
      expect_error([&] { load_npy(path); }, {path, "shape must be a tuple"});
      continue;
    }
    const Tensor t = load_npy(path);
    EXPECT_EQ(t.shape(), Shape({2, 3}));
    EXPECT_EQ(tensor_bytes(t), data);
  }
  // Versions 2.0 and 3.0 have a 4-byte header length.
  for (int major : {2, 3}) {
    const std::string path = dir.file("v" + std::to_string(major) + ".npy");
    write_bytes(path, npy_bytes("{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }", raw<int32_t>({7, 8, 9}), major));
    const Tensor t = load_npy(path);
    EXPECT_EQ(t.dtype(), DType::i32);
    EXPECT_EQ(t.data<int32_t>()[2], 9);
  }
  // Fortran order is harmless for rank <= 1 (identical bytes).
  write_bytes(dir.file("f1.npy"), npy_bytes("{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }", raw<float>({1, 2})));
  EXPECT_EQ(load_npy(dir.file("f1.npy")).numel(), 2);
}

TEST(Npy, MalformedFilesGiveClearErrors) {
  ScratchDir dir;
  const std::string f6 = raw<float>({1, 2, 3, 4, 5, 6});
  const std::string good = npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", f6);
  struct Case {
    const char* what;
    std::string bytes;
    std::vector<std::string> expect;
  };
  const std::vector<Case> cases = {
      {"empty", "", {"0 bytes", "10-byte preamble"}},
      {"wrong magic", "\x93NUMPZ" + good.substr(6), {"not a .npy file", "magic"}},
      {"safetensors, not npy", std::string(8, '\0') + "{}", {"not a .npy file"}},
      {"unsupported version", good.substr(0, 6) + "\x04" + good.substr(7), {"unsupported .npy format version 4.0"}},
      {"truncated data", good.substr(0, good.size() - 4), {"needs 24 data bytes, found 20", "truncated"}},
      {"trailing bytes", good + "xx", {"needs 24 data bytes, found 26", "trailing"}},
      {"truncated header", good.substr(0, 40), {"truncated", "header claims"}},
      {"fortran order", npy_bytes("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", f6),
       {"Fortran", "[2, 3]", "C order"}},
      {"bool", npy_bytes("{'descr': '|b1', 'fortran_order': False, 'shape': (6,), }", "\1\0\1\0\1\0"),
       {"'|b1'", "bool"}},
      {"big endian", npy_bytes("{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }", f6),
       {"'>f4'", "big-endian"}},
      {"complex", npy_bytes("{'descr': '<c8', 'fortran_order': False, 'shape': (3,), }", f6),
       {"unsupported .npy dtype '<c8'"}},
      {"structured", npy_bytes("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (6,), }", f6),
       {"structured"}},
      {"missing key", npy_bytes("{'descr': '<f4', 'shape': (2, 3), }", f6), {"lacks 'fortran_order'"}},
      {"extra key", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'x': 1}", f6),
       {"unexpected key 'x'"}},
      {"duplicate key", npy_bytes("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (6,)}", f6),
       {"'descr' appears twice"}},
      {"negative dim", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (-2, 3), }", f6),
       {"invalid .npy shape dimension -2"}},
      {"float dim", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2.0, 3), }", f6),
       {"found a float"}},
      {"huge dims", npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000, 1000000000000), }", f6),
       {"too large"}},
      {"integer overflow", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}", f6),
       {"integer too large"}},
      {"rank 7", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,2,3), }", f6), {"rank 7"}},
      {"not a dict", npy_bytes("['descr', '<f4']", f6), {"must be a dict"}},
      {"syntax error", npy_bytes("{'descr': '<f4' 'fortran_order': False}", f6), {"cannot parse", "expected ','"}},
      {"unterminated string", npy_bytes("{'descr: '<f4'}", f6), {"cannot parse"}},
      {"python expression", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2*3,)}", f6),
       {"cannot parse"}},
      {"deep nesting", npy_bytes("{'shape': " + std::string(200, '(') + std::string(200, ')') + "}", f6),
       {"nested too deeply"}},
      {"fortran_order not bool", npy_bytes("{'descr': '<f4', 'fortran_order': 0, 'shape': (2, 3), }", f6),
       {"fortran_order must be True or False"}},
  };
  int i = 0;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    const std::string path = dir.file("bad" + std::to_string(i++) + ".npy");
    write_bytes(path, c.bytes);
    const std::string msg = expect_error([&] { load_npy(path); }, {"'" + path + "'"});
    for (const std::string& part : c.expect) EXPECT_NE(msg.find(part), std::string::npos) << "'" << part << "' not in: " << msg;
  }
  expect_error([&] { load_npy(dir.file("missing.npy")); }, {dir.file("missing.npy"), "no such file"});
}

TEST(Npy, EveryTruncationIsAnError) {
  ScratchDir dir;
  save_npy(dir.file("full.npy"), iota({3, 5}, DType::f64));
  const std::string bytes = read_bytes(dir.file("full.npy"));
  for (size_t n = 0; n < bytes.size(); n += (n < 12 ? 1 : 5)) {
    SCOPED_TRACE(n);
    write_bytes(dir.file("cut.npy"), bytes.substr(0, n));
    expect_error([&] { load_npy(dir.file("cut.npy")); }, {dir.file("cut.npy")});
  }
}

TEST(Npy, InteropWithNumpy) {
  if (!system_python_has("numpy")) GTEST_SKIP() << "Debian's /usr/bin/python3 has no numpy (apt-get install python3-numpy)";
  ScratchDir dir;
  // numpy writes, we read.
  const std::string script = dir.file("make.py");
  write_bytes(script,
              "import numpy as np, sys\n"
              "d = sys.argv[1]\n"
              "np.save(d + '/f4.npy', np.arange(12, dtype='<f4').reshape(3, 4) / 4)\n"
              "np.save(d + '/f8.npy', np.array([1.5, -2.25, 1e300]))\n"
              "np.save(d + '/i1.npy', np.array([[-128, 127]], dtype=np.int8))\n"
              "np.save(d + '/u1.npy', np.arange(256, dtype=np.uint8).reshape(2, 2, 64))\n"
              "np.save(d + '/i4.npy', np.array(-7, dtype=np.int32))\n"
              "np.save(d + '/i8.npy', np.array([2**40, -1], dtype=np.int64))\n"
              "np.save(d + '/empty.npy', np.zeros((0, 3), dtype=np.float32))\n"
              "np.save(d + '/fortran.npy', np.asfortranarray(np.ones((2, 3), dtype=np.float32)))\n"
              "np.save(d + '/bool.npy', np.array([True, False]))\n"
              "np.lib.format.write_array(open(d + '/v2.npy', 'wb'), np.arange(3, dtype='<i8'), version=(2, 0))\n"
              "np.lib.format.write_array(open(d + '/v3.npy', 'wb'), np.arange(3, dtype='<i8'), version=(3, 0))\n");
  ASSERT_EQ(std::system(("/usr/bin/python3 " + script + " " + dir.path()).c_str()), 0);

  const Tensor f4 = load_npy(dir.file("f4.npy"));
  EXPECT_EQ(f4.shape(), Shape({3, 4}));
  for (int i = 0; i < 12; ++i) EXPECT_EQ(f4.data<float>()[i], i / 4.0f);
  const Tensor f8 = load_npy(dir.file("f8.npy"));
  EXPECT_EQ(f8.data<double>()[2], 1e300);
  EXPECT_EQ(load_npy(dir.file("i1.npy")).data<int8_t>()[0], -128);
  const Tensor u1 = load_npy(dir.file("u1.npy"));
  EXPECT_EQ(u1.shape(), Shape({2, 2, 64}));
  EXPECT_EQ(u1.data<uint8_t>()[255], 255);
  const Tensor i4 = load_npy(dir.file("i4.npy"));
  EXPECT_EQ(i4.ndim(), 0);
  EXPECT_EQ(i4.data<int32_t>()[0], -7);
  EXPECT_EQ(load_npy(dir.file("i8.npy")).data<int64_t>()[0], int64_t{1} << 40);
  EXPECT_EQ(load_npy(dir.file("empty.npy")).shape(), Shape({0, 3}));
  EXPECT_EQ(load_npy(dir.file("v2.npy")).data<int64_t>()[2], 2);
  EXPECT_EQ(load_npy(dir.file("v3.npy")).data<int64_t>()[2], 2);
  expect_error([&] { load_npy(dir.file("fortran.npy")); }, {"fortran.npy", "Fortran"});
  expect_error([&] { load_npy(dir.file("bool.npy")); }, {"bool.npy", "bool"});

  // We write, numpy reads (np.load checks the header strictly, incl. alignment-independent parsing).
  save_npy(dir.file("ours_f4.npy"), f4);
  save_npy(dir.file("ours_i8.npy"), load_npy(dir.file("i8.npy")));
  save_npy(dir.file("ours_scalar.npy"), i4);
  const std::string check = dir.file("check.py");
  write_bytes(check,
              "import numpy as np, sys\n"
              "d = sys.argv[1]\n"
              "a = np.load(d + '/ours_f4.npy')\n"
              "assert a.dtype == np.float32 and a.shape == (3, 4), (a.dtype, a.shape)\n"
              "assert (a == np.arange(12, dtype='<f4').reshape(3, 4) / 4).all()\n"
              "b = np.load(d + '/ours_i8.npy')\n"
              "assert b.dtype == np.int64 and list(b) == [2**40, -1]\n"
              "c = np.load(d + '/ours_scalar.npy')\n"
              "assert c.shape == () and c.dtype == np.int32 and int(c) == -7\n"
              "with open(d + '/ours_f4.npy', 'rb') as f:\n"
              "    v = np.lib.format.read_magic(f)\n"
              "    assert v == (1, 0)\n"
              "    np.lib.format.read_array_header_1_0(f)\n"
              "    assert f.tell() % 64 == 0\n");
  EXPECT_EQ(std::system(("/usr/bin/python3 " + check + " " + dir.path()).c_str()), 0) << "numpy rejected our .npy";
}

TEST(Npy, RandomCorruptionsOnlyEverThrowTinyoptError) {
  ScratchDir dir;
  save_npy(dir.file("good.npy"), iota({3, 4}, DType::i32));
  const std::string good = read_bytes(dir.file("good.npy"));
  std::mt19937 rng(99);
  int rejected = 0;
  for (int iter = 0; iter < 300; ++iter) {
    std::string bytes = good;
    const size_t pos = rng() % 128;  // the preamble and header
    switch (rng() % 3) {
      case 0: bytes[pos] = static_cast<char>(rng()); break;
      case 1: bytes[pos] = "0123456789(),:'\"{}-TFx "[rng() % 23]; break;
      case 2: bytes.resize(rng() % bytes.size()); break;
    }
    write_bytes(dir.file("fuzz.npy"), bytes);
    try {
      load_npy(dir.file("fuzz.npy"));
    } catch (const Error& err) {
      ++rejected;
      EXPECT_NE(std::string(err.what()).find("fuzz.npy"), std::string::npos) << err.what();
    }
  }
  EXPECT_GT(rejected, 100);
}
