#include <gtest/gtest.h>
#include <sys/stat.h>

#include "io/atomic_file.h"
#include "test_io_util.h"

using namespace tinyopt;
using tinyopt::test::expect_error;
using tinyopt::test::read_bytes;
using tinyopt::test::ScratchDir;

TEST(AtomicFile, WritesBytesAndLeavesNoTemporaryFile) {
  ScratchDir dir;
  const std::string path = dir.file("out.bin");
  std::string payload = "hello";
  payload += '\0';
  payload += "world";
  write_file_atomic(path, payload);
  EXPECT_EQ(read_bytes(path), payload);
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"out.bin"});
  struct stat st{};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
}

TEST(AtomicFile, StreamWriterReplacesExistingFileAndKeepsItsMode) {
  ScratchDir dir;
  const std::string path = dir.file("model.bin");
  write_file_atomic(path, std::string("old contents"));
  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
  // Larger than the 1 MiB stream buffer, to exercise the flushes.
  std::string big(3 * (1 << 20) + 17, 'x');
  for (size_t i = 0; i < big.size(); i += 4099) big[i] = static_cast<char>(i & 0x7f);
  write_file_atomic(path, [&](std::ostream& out) {
    out << "head:";
    out.write(big.data(), static_cast<std::streamsize>(big.size()));
    out.put('!');
  });
  EXPECT_EQ(read_bytes(path), "head:" + big + "!");
  struct stat st{};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"model.bin"});
}

TEST(AtomicFile, ThrowingWriterLeavesOldFileUntouchedAndRemovesTemp) {
  ScratchDir dir;
  const std::string path = dir.file("keep.bin");
  write_file_atomic(path, std::string("precious"));
  EXPECT_THROW(write_file_atomic(path,
                                 [](std::ostream& out) {
                                   out << std::string(2 << 20, 'z');  // some bytes already reached the temp file
                                   throw std::runtime_error("writer failed half way");
                                 }),
               std::runtime_error);
  EXPECT_EQ(read_bytes(path), "precious");
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"keep.bin"});
}

TEST(AtomicFile, FailedStreamIsAnErrorAndLeavesOldFile) {
  ScratchDir dir;
  const std::string path = dir.file("keep.bin");
  write_file_atomic(path, std::string("precious"));
  expect_error([&] { write_file_atomic(path, [](std::ostream& out) { out.setstate(std::ios::badbit); }); },
               {path, "stream failed"});
  EXPECT_EQ(read_bytes(path), "precious");
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"keep.bin"});
}

TEST(AtomicFile, MissingDirectoryIsAClearError) {
  ScratchDir dir;
  const std::string path = dir.file("no/such/dir/out.bin");
  expect_error([&] { write_file_atomic(path, std::string("x")); }, {path, "does not exist", dir.file("no/such/dir")});
}

TEST(AtomicFile, ParentThatIsAFileOrTargetThatIsADirectoryIsAnError) {
  ScratchDir dir;
  write_file_atomic(dir.file("plain"), std::string("x"));
  expect_error([&] { write_file_atomic(dir.file("plain/child"), std::string("x")); }, {dir.file("plain/child")});
  std::filesystem::create_directory(dir.file("sub"));
  expect_error([&] { write_file_atomic(dir.file("sub"), std::string("x")); }, {dir.file("sub"), "directory"});
  expect_error([&] { write_file_atomic("", std::string("x")); }, {"empty"});
}

TEST(AtomicFile, BarePathWritesIntoCurrentDirectory) {
  ScratchDir dir;
  const auto old = std::filesystem::current_path();
  std::filesystem::current_path(dir.path());
  write_file_atomic("bare.txt", std::string("abc"));
  std::filesystem::current_path(old);
  EXPECT_EQ(read_bytes(dir.file("bare.txt")), "abc");
}
