#include "io/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <streambuf>
#include <vector>

#include "core/error.h"
#include "io/interrupt_cleanup.h"

namespace tinyopt {
namespace {

std::string errno_text(int err) { return std::strerror(err); }

std::atomic<int64_t>& disk_free_bytes() {
  static std::atomic<int64_t> free_bytes{[] {
    const char* env = std::getenv("TINYOPT_DISK_FREE_BYTES");
    return env != nullptr && *env != '\0' ? std::strtoll(env, nullptr, 10) : int64_t{-1};
  }()};
  return free_bytes;
}

// How many of `n` bytes the (possibly simulated-full) disk accepts.
size_t disk_accepts(size_t n) {
  std::atomic<int64_t>& free_bytes = disk_free_bytes();
  int64_t f = free_bytes.load(std::memory_order_relaxed);
  while (f >= 0) {
    const int64_t take = std::min<int64_t>(f, static_cast<int64_t>(n));
    if (free_bytes.compare_exchange_weak(f, f - take, std::memory_order_relaxed)) return static_cast<size_t>(take);
  }
  return n;
}

// A std::streambuf writing straight to a file descriptor through a 1 MiB
// buffer, so large models stream to disk without a second in-memory copy.
// The first write error is remembered (errno) and every later write fails.
class FdStreamBuf : public std::streambuf {
 public:
  explicit FdStreamBuf(int fd) : fd_(fd), buffer_(1 << 20) { setp(buffer_.data(), buffer_.data() + buffer_.size()); }
  int error() const { return error_; }

 protected:
  int_type overflow(int_type ch) override {
    if (!flush_buffer()) return traits_type::eof();
    if (!traits_type::eq_int_type(ch, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(ch);
      pbump(1);
    }
    return traits_type::not_eof(ch);
  }

  std::streamsize xsputn(const char* s, std::streamsize n) override {
    // Large writes bypass the buffer once it is flushed.
    if (n >= static_cast<std::streamsize>(buffer_.size())) {
      if (!flush_buffer() || !write_all(s, static_cast<size_t>(n))) return 0;
      return n;
    }
    return std::streambuf::xsputn(s, n);
  }

  int sync() override { return flush_buffer() ? 0 : -1; }

 private:
  bool flush_buffer() {
    const size_t n = static_cast<size_t>(pptr() - pbase());
    const bool ok = write_all(pbase(), n);
    setp(buffer_.data(), buffer_.data() + buffer_.size());
    return ok;
  }

  bool write_all(const char* p, size_t n) {
    if (error_ != 0) return false;
    while (n > 0) {
      const size_t accepted = disk_accepts(n);
      if (accepted == 0) {
        error_ = ENOSPC;
        return false;
      }
      const ssize_t w = ::write(fd_, p, accepted);
      if (w < 0) {
        if (errno == EINTR) continue;
        error_ = errno;
        return false;
      }
      p += w;
      n -= static_cast<size_t>(w);
    }
    return true;
  }

  int fd_;
  std::vector<char> buffer_;
  int error_ = 0;
};

// Owns the temporary file until it is renamed: the destructor closes it and
// removes it unless the rename succeeded. While it exists it is registered for
// removal on Ctrl-C or kill (io/interrupt_cleanup.h).
struct TempFile {
  std::string path;
  int fd = -1;
  int interrupt_slot = -1;
  bool committed = false;
  ~TempFile() {
    if (fd >= 0) ::close(fd);
    if (!committed && !path.empty()) ::unlink(path.c_str());
    release_temp_file(interrupt_slot);
  }
};

// Fault injection: TINYOPT_PAUSE_BEFORE_RENAME_MS=N holds every finished
// temporary file N ms before its rename, so a test can interrupt a write in flight.
void pause_before_rename() {
  static const long ms = [] {
    const char* env = std::getenv("TINYOPT_PAUSE_BEFORE_RENAME_MS");
    return env != nullptr ? std::strtol(env, nullptr, 10) : 0L;
  }();
  if (ms > 0) ::usleep(static_cast<useconds_t>(ms) * 1000);
}

std::string parent_dir_of(const std::string& path) {
  const std::filesystem::path p(path);
  const std::filesystem::path parent = p.parent_path();
  return parent.empty() ? std::string(".") : parent.string();
}

}  // namespace

void write_file_atomic(const std::string& path, const std::function<void(std::ostream&)>& writer) {
  TINYOPT_CHECK(!path.empty(), "cannot write a file: the path is empty");
  const std::string dir = parent_dir_of(path);

  struct stat dir_stat{};
  if (::stat(dir.c_str(), &dir_stat) != 0) {
    fail("cannot write '{}': directory '{}' does not exist ({})", path, dir, errno_text(errno));
  }
  TINYOPT_CHECK(S_ISDIR(dir_stat.st_mode), "cannot write '{}': '{}' is not a directory", path, dir);

  struct stat target_stat{};
  mode_t mode = 0644;
  if (::stat(path.c_str(), &target_stat) == 0) {
    TINYOPT_CHECK(!S_ISDIR(target_stat.st_mode), "cannot write '{}': it is a directory", path);
    mode = target_stat.st_mode & 07777;
  }

  TempFile tmp;
  {
    std::string pattern = path + ".tmp.XXXXXX";
    std::vector<char> buf(pattern.begin(), pattern.end());
    buf.push_back('\0');
    const int fd = ::mkostemp(buf.data(), O_CLOEXEC);
    if (fd < 0) {
      const int err = errno;
      fail("cannot write '{}': cannot create a temporary file in directory '{}' ({}){}", path, dir,
           errno_text(err), (err == EACCES || err == EROFS || err == EPERM) ? "; is the directory writable?" : "");
    }
    tmp.fd = fd;
    tmp.path = buf.data();
    tmp.interrupt_slot = register_temp_file(buf.data());
  }

  {
    FdStreamBuf sbuf(tmp.fd);
    std::ostream out(&sbuf);
    out.exceptions(std::ios::goodbit);
    writer(out);  // a throwing writer unwinds through ~TempFile, which removes the file
    out.flush();
    if (sbuf.error() != 0) fail("cannot write '{}': write failed ({})", path, errno_text(sbuf.error()));
    TINYOPT_CHECK(out.good(), "cannot write '{}': the output stream failed while writing", path);
  }

  if (::fchmod(tmp.fd, mode) != 0) fail("cannot write '{}': chmod of the temporary file failed ({})", path, errno_text(errno));
  if (::fsync(tmp.fd) != 0) fail("cannot write '{}': fsync failed ({})", path, errno_text(errno));
  const int fd = tmp.fd;
  tmp.fd = -1;
  if (::close(fd) != 0) fail("cannot write '{}': close failed ({})", path, errno_text(errno));
  pause_before_rename();

  if (::rename(tmp.path.c_str(), path.c_str()) != 0) {
    fail("cannot write '{}': renaming the temporary file '{}' over it failed ({})", path, tmp.path, errno_text(errno));
  }
  tmp.committed = true;

  // Make the rename durable. Failing to open or sync the directory does not
  // undo the write, so it is not an error (some file systems refuse it).
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    (void)::fsync(dfd);
    ::close(dfd);
  }
}

int64_t inject_disk_free_bytes(int64_t free_bytes) { return disk_free_bytes().exchange(free_bytes < 0 ? -1 : free_bytes); }

void write_file_atomic(const std::string& path, std::string_view bytes) {
  write_file_atomic(path, [&](std::ostream& out) { out.write(bytes.data(), static_cast<std::streamsize>(bytes.size())); });
}

}  // namespace tinyopt
