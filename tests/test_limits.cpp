// Resource limits (io/limits.h): every parser refuses a file whose header
// declares more than a stated limit (header bytes, tensor count, bytes per
// tensor, rank, JSON depth, model parameter bytes, vocabulary size) with an
// error naming the limit, and does so before allocating anything large.
#include <gtest/gtest.h>

#include "core/allocator.h"
#include "data/idx.h"
#include "io/limits.h"
#include "io/npy.h"
#include "io/safetensors.h"
#include "models/model_file.h"
#include "nn/char_tokenizer.h"
#include "nn/model.h"
#include "tests/test_io_util.h"

using namespace tinyopt;

namespace {

std::string safetensors_bytes(const std::string& header, const std::string& data = "") {
  return test::le64(header.size()) + header + data;
}

// Bytes the host allocator handed out while `fn` ran.
int64_t host_bytes_allocated_by(const std::function<void()>& fn) {
  const int64_t before = TrackingAllocator::of(Device::cpu()).stats().total_bytes;
  fn();
  return TrackingAllocator::of(Device::cpu()).stats().total_bytes - before;
}

std::string npy_bytes(const std::string& dict, const std::string& data = "") {
  std::string h = dict;
  h.append((64 - (10 + h.size() + 1) % 64) % 64, ' ');
  h += '\n';
  std::string out = "\x93NUMPY";
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(h.size() & 0xff);
  out += static_cast<char>(h.size() >> 8);
  return out + h + data;
}

Limits with(const std::string& spec) { return parse_limits(spec, Limits{}, "test"); }

}  // namespace

TEST(Limits, ParseOverridesNamedKeysWithSuffixes) {
  const Limits l = with("max_tensors=5,max_tensor_bytes=2K,max_model_bytes=3G,max_json_depth=7");
  EXPECT_EQ(l.max_tensors, 5u);
  EXPECT_EQ(l.max_tensor_bytes, 2048u);
  EXPECT_EQ(l.max_model_bytes, uint64_t{3} << 30);
  EXPECT_EQ(l.max_json_depth, 7u);
  EXPECT_EQ(l.max_header_bytes, Limits{}.max_header_bytes);  // untouched keys keep their defaults
  test::expect_error([] { with("max_tensor=5"); }, {"test", "unknown limit 'max_tensor'", "max_tensors"});
  test::expect_error([] { with("max_tensors=5X"); }, {"unknown suffix"});
  test::expect_error([] { with("max_tensors"); }, {"expected KEY=VALUE"});
  test::expect_error([] { with("max_tensors=-1"); }, {"not a non-negative integer"});
  test::expect_error([] { with("max_tensors=99999999999999999999"); }, {"too large"});
  test::expect_error([] { with("max_rank=7"); }, {"max_rank 7"});
}

TEST(Limits, SafetensorsHeaderBytes) {
  ScopedLimits scope(with("max_header_bytes=64"));
  const std::string header = R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"__metadata__":{"k":"vvvvvvvvvvvvvvv"}})";
  ASSERT_GT(header.size(), 64u);
  test::expect_error([&] { parse_safetensors(safetensors_bytes(header, "abcd"), "h.safetensors"); },
                     {"h.safetensors", "header length", "max_header_bytes=64"});
}

TEST(Limits, SafetensorsTensorCountIsCheckedWhileParsing) {
  ScopedLimits scope(with("max_tensors=2"));
  std::string header = "{";
  for (int i = 0; i < 3; ++i)
    header += fmt::format(R"({}"t{}":{{"dtype":"U8","shape":[1],"data_offsets":[{},{}]}})", i ? "," : "", i, i, i + 1);
  header += "}";
  test::expect_error([&] { parse_safetensors(safetensors_bytes(header, "abc"), "n.safetensors"); },
                     {"n.safetensors", "number of tensors", "max_tensors=2"});
  // Two tensors plus __metadata__ are within the limit.
  header = R"({"__metadata__":{"a":"b"},"x":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"y":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})";
  EXPECT_EQ(parse_safetensors(safetensors_bytes(header, "ab"), "ok").tensors.size(), 2u);
}

TEST(Limits, SafetensorsTensorBytesAndRank) {
  {
    ScopedLimits scope(with("max_tensor_bytes=512"));
    const std::string header = R"({"big":{"dtype":"F32","shape":[16,16],"data_offsets":[0,1024]}})";
    test::expect_error([&] { parse_safetensors(safetensors_bytes(header, std::string(1024, 'x')), "b.st"); },
                       {"b.st", "tensor 'big'", "max_tensor_bytes=512"});
  }
  {
    ScopedLimits scope(with("max_rank=2"));
    const std::string header = R"({"r":{"dtype":"U8","shape":[1,1,1],"data_offsets":[0,1]}})";
    test::expect_error([&] { parse_safetensors(safetensors_bytes(header, "x"), "r.st"); },
                       {"r.st", "tensor 'r'", "rank is 3", "max_rank=2"});
  }
}

TEST(Limits, HugeDeclaredSafetensorsTensorIsRefusedWithoutAllocating) {
  // 2^20 x 2^20 f32 = 4 TiB declared in a 100-byte file.
  const std::string header = R"({"huge":{"dtype":"F32","shape":[1048576,1048576],"data_offsets":[0,4398046511104]}})";
  const int64_t allocated = host_bytes_allocated_by([&] {
    test::expect_error([&] { parse_safetensors(safetensors_bytes(header), "huge.st"); }, {"huge.st", "huge"});
  });
  EXPECT_LT(allocated, 1 << 20);
}

TEST(Limits, NpyTensorBytesRankAndHeader) {
  {
    ScopedLimits scope(with("max_tensor_bytes=100"));
    test::expect_error([] { parse_npy(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (5, 6), }",
                                                std::string(120, 'x')), "a.npy"); },
                       {"a.npy", "max_tensor_bytes=100"});
  }
  {
    ScopedLimits scope(with("max_rank=1"));
    test::expect_error([] { parse_npy(npy_bytes("{'descr': '|u1', 'fortran_order': False, 'shape': (1, 1), }", "x"),
                                      "r.npy"); },
                       {"r.npy", "rank", "max_rank=1"});
  }
  {
    ScopedLimits scope(with("max_header_bytes=32"));
    test::expect_error([] { parse_npy(npy_bytes("{'descr': '|u1', 'fortran_order': False, 'shape': (1,), }", "x"),
                                      "h.npy"); },
                       {"h.npy", "header length", "max_header_bytes=32"});
  }
  // A 40-byte file declaring 2^40 x 2^20 f8 is refused before any allocation.
  const int64_t allocated = host_bytes_allocated_by([] {
    test::expect_error([] { parse_npy(npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (1099511627776, 1048576), }"),
                                      "huge.npy"); },
                       {"huge.npy"});
  });
  EXPECT_LT(allocated, 1 << 20);
}

// An empty tensor whose other dims multiply past 2^63 once overflowed the
// contiguous strides (found by fuzz_npy in CI). Both parsers refuse it by name.
TEST(Limits, EmptyTensorWithAbsurdDimsIsRefused) {
  test::expect_error([] { parse_npy(npy_bytes("{'descr': '<f4', 'fortran_order': False, "
                                              "'shape': (0, 1099511627776, 1099511627776), }"), "zero.npy"); },
                     {"zero.npy", "absurd", "2^40"});
  const std::string header = R"({"z":{"dtype":"F32","shape":[0,1099511627776,1099511627776],"data_offsets":[0,0]}})";
  test::expect_error([&] { parse_safetensors(safetensors_bytes(header), "zero.safetensors"); },
                     {"zero.safetensors", "'z'", "absurd"});
  // The tensor layer itself refuses such a shape too, and reshape checks before numel().
  test::expect_error([] { Tensor::empty(Shape{0, int64_t{1} << 40, int64_t{1} << 40}, DType::f32); }, {"invalid shape", "2^40"});
  Tensor empty = Tensor::empty(Shape{0, 4}, DType::f32);
  test::expect_error([&] { empty.reshape(Shape{int64_t{1} << 40, int64_t{1} << 40, 0}); }, {"invalid shape"});
  // A legitimate empty tensor still works.
  EXPECT_EQ(parse_npy(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 3), }"), "ok.npy").numel(), 0);
}

TEST(Limits, IdxBytesAndRank) {
  test::ScratchDir dir;
  IdxArray a{{4, 5, 6}, std::vector<uint8_t>(120, 1)};
  write_idx_gz(dir.file("a.gz"), a);
  {
    ScopedLimits scope(with("max_tensor_bytes=100"));
    test::expect_error([&] { read_idx(dir.file("a.gz"), kIdxMagicImages); }, {"a.gz", "max_tensor_bytes=100"});
  }
  {
    ScopedLimits scope(with("max_rank=2"));
    test::expect_error([&] { read_idx(dir.file("a.gz"), kIdxMagicImages); }, {"a.gz", "rank", "max_rank=2"});
  }
  EXPECT_EQ(read_idx(dir.file("a.gz"), kIdxMagicImages).data.size(), 120u);
}

TEST(Limits, IdxDimensionsWhoseProductWrapsAroundAreRefused) {
  // 2^31 x 8 x 2^31 = 2^65 elements: the product wraps to 2 in 64 bits. The
  // reader once accepted this with 2 data bytes (found by review while
  // writing the IDX fuzz target's invariant).
  test::ScratchDir dir;
  std::string raw = {0, 0, 8, 3, char(0x80), 0, 0, 0, 0, 0, 0, 8, char(0x80), 0, 0, 0, 1, 2};
  test::write_bytes(dir.file("wrap.idx"), raw);
  test::expect_error([&] { read_idx(dir.file("wrap.idx"), kIdxMagicImages); }, {"wrap.idx", "elements"});
}

TEST(Limits, DeepJsonInModelConfigIsRefused) {
  const std::string deep = std::string(100, '[') + std::string(100, ']');
  const std::string file = serialize_safetensors({}, {{"config", deep}});
  test::expect_error([&] { models::load_model_from_bytes(file, "deep.safetensors"); },
                     {"deep.safetensors", "metadata 'config'", "max_json_depth=64"});
  // A deep safetensors header is refused too (its structure is never deeper than 3).
  const std::string header = "{\"a\":" + std::string(50, '[') + std::string(50, ']') + "}";
  test::expect_error([&] { parse_safetensors(safetensors_bytes(header), "deep.st"); }, {"deep.st", "nested deeper"});
}

TEST(Limits, ModelConfigDeclaringMoreParametersThanTheFileHoldsAllocatesNothingLarge) {
  // linear 2^24 x 2^24 = 1 PiB of weights, declared by a file with no tensors.
  const nlohmann::json config = {
      {"arch", "sequential"},
      {"input_shape", {1, 4096, 4096}},
      {"layers",
       {{{"type", "flatten"}}, {{"type", "linear"}, {"in_features", 16777216}, {"out_features", 16777216}}}}};
  const std::string file = serialize_safetensors({}, {{"config", config.dump()}});
  const int64_t allocated = host_bytes_allocated_by([&] {
    test::expect_error([&] { models::load_model_from_bytes(file, "big.safetensors"); },
                       {"big.safetensors", "layer 1 (linear)", "max_model_bytes"});
  });
  EXPECT_LT(allocated, 1 << 20);

  // Within max_model_bytes but far more than the file holds (256 MiB of
  // weights, 32 KiB of tensors): refused against the file's own tensors.
  const nlohmann::json mid = {{"arch", "sequential"},
                              {"input_shape", {8192}},
                              {"layers", {{{"type", "linear"}, {"in_features", 8192}, {"out_features", 8192}}}}};
  const std::string file2 = serialize_safetensors({{"0.bias", Tensor::zeros({8192}, DType::f32)}},
                                                  {{"config", mid.dump()}});
  const int64_t allocated2 = host_bytes_allocated_by([&] {
    test::expect_error([&] { models::load_model_from_bytes(file2, "short.safetensors"); },
                       {"short.safetensors", "file's tensors hold only 32768 bytes"});
  });
  EXPECT_LT(allocated2, 1 << 20);
  // A small model missing a tensor still gets the error that names it.
  const nlohmann::json small = {{"arch", "sequential"},
                                {"input_shape", {16}},
                                {"layers", {{{"type", "linear"}, {"in_features", 16}, {"out_features", 4}}}}};
  const std::string file3 = serialize_safetensors({{"0.bias", Tensor::zeros({4}, DType::f32)}},
                                                  {{"config", small.dump()}});
  test::expect_error([&] { models::load_model_from_bytes(file3, "s.safetensors"); }, {"s.safetensors", "missing tensor '0.weight'"});
}

TEST(Limits, GptConfigOverTheModelLimitIsRefusedBeforeBuilding) {
  const nlohmann::json config = {{"arch", "gpt"}, {"vocab_size", 1000000}, {"n_layer", 256}, {"n_head", 1},
                                 {"n_embd", 65536}, {"block_size", 1000000}, {"bias", true}};
  const int64_t allocated = host_bytes_allocated_by([&] {
    test::expect_error([&] { nn::build_model(config, nullptr); }, {"transformer.wte", "max_model_bytes"});
  });
  EXPECT_LT(allocated, 1 << 20);
}

TEST(Limits, VocabularySize) {
  ScopedLimits scope(with("max_vocab=3"));
  test::expect_error([] { nn::parse_vocab_json(R"(["a","b","c","d"])", "metadata 'vocab'"); },
                     {"metadata 'vocab'", "max_vocab=3"});
  EXPECT_EQ(nn::parse_vocab_json(R"(["a","b","c"])", "v").size(), 3u);
  test::expect_error([] { nn::parse_vocab_json(R"(["a",1])", "metadata 'vocab'"); }, {"only strings"});
  test::expect_error([] { nn::parse_vocab_json(R"({"a":1})", "metadata 'vocab'"); }, {"JSON list"});
}

TEST(Limits, CliFlagAndEnvironmentOverrideTheLimits) {
  test::ScratchDir dir;
  const std::string x = dir.file("x.npy"), y = dir.file("y.npy");
  save_npy(x, Tensor::zeros({4, 8}, DType::f32));  // 128 data bytes
  nn::Rng rng(1);
  nn::Model m = nn::build_model({{"arch", "sequential"}, {"input_shape", {8}},
                                 {"layers", {{{"type", "linear"}, {"in_features", 8}, {"out_features", 2}}}}},
                                &rng);
  const std::string model = dir.file("m.safetensors");
  nn::save_model(m, model);
  const std::string cli = TINYOPT_CLI_PATH;
  const std::string infer = " infer --model " + model + " --input " + x + " --output " + y + " > " + dir.file("out") +
                            " 2> " + dir.file("err");
  ASSERT_EQ(std::system((cli + infer).c_str()), 0) << test::read_bytes(dir.file("err"));
  EXPECT_NE(std::system((cli + " --limit max_tensor_bytes=100" + infer).c_str()), 0);
  EXPECT_NE(test::read_bytes(dir.file("err")).find("max_tensor_bytes=100"), std::string::npos)
      << test::read_bytes(dir.file("err"));
  EXPECT_NE(std::system(("TINYOPT_LIMITS=max_tensor_bytes=50 " + cli + infer).c_str()), 0);
  EXPECT_NE(test::read_bytes(dir.file("err")).find("max_tensor_bytes=50"), std::string::npos);
  // The flag wins over the environment.
  EXPECT_EQ(std::system(("TINYOPT_LIMITS=max_tensor_bytes=50 " + cli + " --limit max_tensor_bytes=1K" + infer).c_str()), 0)
      << test::read_bytes(dir.file("err"));
  EXPECT_NE(std::system((cli + " --limit bogus=1" + infer).c_str()), 0);
  EXPECT_NE(test::read_bytes(dir.file("err")).find("unknown limit 'bogus'"), std::string::npos);
}
