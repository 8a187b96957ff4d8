// Errors: every failure a user can cause becomes a tinyopt::Error whose text
// says what was expected and what was found. The CLI prints it on one line
// and exits non-zero; nothing else in the project prints-and-aborts.
#pragma once

#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace tinyopt {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

template <class... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
  throw Error(fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace tinyopt

// TINYOPT_CHECK(cond, "format", args...): throws tinyopt::Error when cond is false.
#define TINYOPT_CHECK(cond, ...)        \
  do {                                  \
    if (!(cond)) ::tinyopt::fail(__VA_ARGS__); \
  } while (0)
