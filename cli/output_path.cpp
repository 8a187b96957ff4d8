#include "cli/output_path.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "cli/commands.h"
#include "cli/usage.h"

namespace tinyopt::cli {

namespace {

namespace fs = std::filesystem;

// A real write test that leaves nothing behind: O_TMPFILE creates an unnamed
// file that vanishes on close (and is honest for root, for whom access()
// always says yes). File systems without it get a named probe, removed at once.
int directory_write_error(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
  if (fd >= 0) {
    ::close(fd);
    return 0;
  }
  const int err = errno;
  if (err != EOPNOTSUPP && err != EISDIR && err != EINVAL) return err;
  std::string probe = (dir / ".tinyopt-write-probe-XXXXXX").string();
  const int pfd = ::mkstemp(probe.data());
  if (pfd < 0) return errno;
  ::close(pfd);
  ::unlink(probe.c_str());
  return 0;
}

bool same_file(const fs::path& a, const fs::path& b) {
  std::error_code ec;
  if (fs::exists(a, ec) && fs::exists(b, ec)) return fs::equivalent(a, b, ec);
  return fs::weakly_canonical(a, ec) == fs::weakly_canonical(b, ec);
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

}  // namespace

void check_output_path(const std::string& flag, const std::string& path, const std::string& extension,
                       const std::vector<std::string>& inputs) {
  const fs::path p(path);
  const fs::path dir = p.parent_path().empty() ? fs::path(".") : p.parent_path();
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw UsageError(fmt::format("{} {}: directory '{}' does not exist", flag, path, dir.string()));
  if (fs::is_directory(p, ec))
    throw UsageError(fmt::format("{} {}: is a directory, expected a file name", flag, path));
  if (const int err = directory_write_error(dir); err != 0)
    throw UsageError(fmt::format("{} {}: directory '{}' is not writable ({})", flag, path, dir.string(),
                                 std::strerror(err)));
  if (global_options().force) return;
  for (const std::string& input : inputs)
    if (!input.empty() && same_file(p, input))
      throw UsageError(fmt::format("{} {} is also an input of this command ({}); writing it would destroy that input "
                                   "(choose another name, or pass --force to overwrite it)",
                                   flag, path, input));
  if (lower(p.extension().string()) != extension)
    throw UsageError(fmt::format("{} {}: this command writes a {} file here; name it *{} (or pass --force)", flag,
                                 path, extension.substr(1), extension));
}

}  // namespace tinyopt::cli
