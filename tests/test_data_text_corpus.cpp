#include <gtest/gtest.h>

#include <filesystem>

#include "data/text_corpus.h"
#include "test_io_util.h"

using namespace tinyopt;
using tinyopt::test::expect_error;
using tinyopt::test::ScratchDir;
using tinyopt::test::write_bytes;

TEST(TextCorpus, SplitFortunesOnPercentLines) {
  EXPECT_EQ(split_fortunes("a\nb\n%\nc\n%\n\n  \n%\nd"), (std::vector<std::string>{"a\nb\n", "c\n", "d\n"}));
  EXPECT_EQ(split_fortunes("x\r\n%\r\ny 100%\n%%\n"), (std::vector<std::string>{"x\r\n", "y 100%\n%%\n"}));
  EXPECT_TRUE(split_fortunes("").empty());
  EXPECT_TRUE(split_fortunes("%\n%\n").empty());
}

TEST(TextCorpus, VocabEncodeDecode) {
  const CharVocab v = CharVocab::from_text("hello, world\n\x07\xc3\xa9");
  EXPECT_EQ(v.symbols(), std::string("\x07\n ,dehlorw\xa9\xc3"));  // sorted distinct bytes
  EXPECT_EQ(v.size(), 13);
  EXPECT_EQ(v.id_of('\x07'), 0);
  EXPECT_EQ(v.id_of('z'), -1);
  const std::vector<int32_t> ids = v.encode("world, hello\xc3\xa9");
  EXPECT_EQ(ids.front(), v.id_of('w'));
  EXPECT_EQ(v.decode(ids), "world, hello\xc3\xa9");
  expect_error([&] { v.encode("help"); }, {"'p' (0x70)", "position 3", "13-symbol vocabulary"});
  expect_error([&] { v.encode(std::string("\x01", 1)); }, {"byte 0x01", "position 0"});
  const std::vector<int32_t> bad = {0, 13};
  expect_error([&] { v.decode(bad); }, {"token id 13", "position 1", "0..12"});
  const std::vector<int32_t> neg = {-1};
  expect_error([&] { v.decode(neg); }, {"token id -1"});
  // Rebuilt from its symbols (as a model file would store them) it is the same vocabulary.
  EXPECT_EQ(CharVocab(v.symbols()).encode("hello"), v.encode("hello"));
  expect_error([] { CharVocab("abca"); }, {"'a' (0x61) twice"});
  EXPECT_EQ(CharVocab().size(), 0);
  expect_error([] { CharVocab().encode("a"); }, {"0-symbol vocabulary"});
}

TEST(TextCorpus, LoadsPlainFilesInSortedOrderWithEveryTenthFortuneHeldOut) {
  ScratchDir dir;
  std::string b_text, a_text;
  for (int i = 0; i < 12; ++i) a_text += "a" + std::to_string(i) + "\n%\n";
  for (int i = 0; i < 9; ++i) b_text += "b" + std::to_string(i) + "\n%\n";
  write_bytes(dir.file("b"), b_text);
  write_bytes(dir.file("a"), a_text);
  write_bytes(dir.file("a.dat"), std::string("\0\0\0\2binary", 10));
  std::filesystem::create_symlink("a", dir.file("a.u8"));
  std::filesystem::create_symlink("b", dir.file("c-link"));
  std::filesystem::create_directory(dir.file("off"));
  write_bytes(dir.file("off/rude"), "ZZZ\n%\n");

  const TextCorpus c = load_text_corpus(dir.path());
  EXPECT_EQ(c.files, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(c.fortune_count, 21);
  // Fortunes 0..20 over a then b; indices 9 and 19 are held out.
  EXPECT_EQ(c.heldout_text, "a9\n%\nb7\n%\n");
  EXPECT_EQ(c.train_text.substr(0, 10), "a0\n%\na1\n%\n");
  EXPECT_EQ(c.train_text.find("a9"), std::string::npos);
  EXPECT_EQ(c.train_text.find('Z'), std::string::npos);
  EXPECT_EQ(c.vocab.symbols(), "\n%0123456789ab");
  ASSERT_EQ(c.train_tokens.dtype(), DType::i32);
  ASSERT_EQ(c.train_tokens.numel(), static_cast<int64_t>(c.train_text.size()));
  EXPECT_EQ(c.vocab.decode({c.train_tokens.data<int32_t>(), static_cast<size_t>(c.train_tokens.numel())}),
            c.train_text);
  EXPECT_EQ(c.vocab.decode({c.heldout_tokens.data<int32_t>(), static_cast<size_t>(c.heldout_tokens.numel())}),
            c.heldout_text);
}

TEST(TextCorpus, MissingPackageIsAClearError) {
  ScratchDir dir;
  expect_error([&] { load_text_corpus(dir.file("none")); }, {dir.file("none"), "apt-get install fortunes"});
  expect_error([&] { load_text_corpus(dir.path()); }, {dir.path(), "no fortune files", "apt-get install fortunes"});
  write_bytes(dir.file("few"), "one\n%\ntwo\n");
  expect_error([&] { load_text_corpus(dir.path()); }, {"only 2 fortunes"});
}

TEST(TextCorpus, RealFortunesCorpus) {
  if (!std::filesystem::is_directory(kFortunesDefaultDir))
    GTEST_SKIP() << kFortunesDefaultDir << " is missing (apt-get install fortunes)";
  const TextCorpus c = load_text_corpus();
  ASSERT_FALSE(c.files.empty());
  EXPECT_TRUE(std::is_sorted(c.files.begin(), c.files.end()));
  for (const std::string& f : c.files) {
    EXPECT_FALSE(f.ends_with(".dat")) << f;
    EXPECT_FALSE(f.ends_with(".u8")) << f;
  }
  EXPECT_GT(c.fortune_count, 1000);
  const double heldout_fraction =
      double(c.heldout_tokens.numel()) / double(c.heldout_tokens.numel() + c.train_tokens.numel());
  EXPECT_GT(heldout_fraction, 0.07);
  EXPECT_LT(heldout_fraction, 0.13);
  EXPECT_GT(c.vocab.size(), 90);  // printable ASCII and a few more
  EXPECT_LE(c.vocab.size(), 256);
  EXPECT_GE(c.vocab.id_of('a'), 0);
  EXPECT_GE(c.vocab.id_of('%'), 0);
  EXPECT_EQ(c.vocab.decode({c.heldout_tokens.data<int32_t>(), static_cast<size_t>(c.heldout_tokens.numel())}),
            c.heldout_text);
  // Deterministic: a second load is identical.
  const TextCorpus again = load_text_corpus();
  EXPECT_EQ(again.train_text, c.train_text);
  EXPECT_EQ(again.vocab.symbols(), c.vocab.symbols());
}
