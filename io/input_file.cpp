#include "io/input_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/error.h"

namespace tinyopt {

InputFile::InputFile(std::string path) : path_(std::move(path)) {
  // O_NONBLOCK: opening a FIFO must not hang waiting for a writer (it is then
  // rejected as not a regular file); it changes nothing for regular files.
  fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd_ < 0) {
    const int err = errno;
    if (err == ENOENT) fail("cannot read '{}': no such file", path_);
    fail("cannot read '{}': {}", path_, std::strerror(err));
  }
  struct stat st{};
  if (::fstat(fd_, &st) != 0) {
    const int err = errno;
    ::close(fd_);
    fd_ = -1;
    fail("cannot read '{}': stat failed ({})", path_, std::strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd_);
    fd_ = -1;
    fail("cannot read '{}': {}", path_, S_ISDIR(st.st_mode) ? "it is a directory" : "not a regular file");
  }
  size_ = static_cast<uint64_t>(st.st_size);
}

InputFile::~InputFile() {
  if (fd_ >= 0) ::close(fd_);
}

void InputFile::read_exact(uint64_t offset, void* dst, size_t bytes, const std::string& what) const {
  char* p = static_cast<char*>(dst);
  size_t done = 0;
  while (done < bytes) {
    const size_t chunk = std::min<size_t>(bytes - done, size_t{1} << 30);
    const ssize_t n = ::pread(fd_, p + done, chunk, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("cannot read '{}': reading {} failed at offset {} ({})", path_, what, offset + done, std::strerror(errno));
    }
    if (n == 0) {
      fail("'{}' is truncated: expected {} bytes of {} at offset {}, found {}", path_, bytes, what, offset, done);
    }
    done += static_cast<size_t>(n);
  }
}

}  // namespace tinyopt
