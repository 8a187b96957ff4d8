// Progress of long steps: one line per phase, with counts, on stderr, so a
// run that takes seconds is never silent and stdout (tables, --json) stays
// clean for pipes.
#pragma once

#include <fmt/format.h>

#include <cstdio>
#include <string>
#include <utility>

namespace tinyopt::cli {

template <typename... Args>
void progress(const char* command, fmt::format_string<Args...> format, Args&&... args) {
  std::fprintf(stderr, "[%s] %s\n", command, fmt::format(format, std::forward<Args>(args)...).c_str());
  std::fflush(stderr);
}

}  // namespace tinyopt::cli
