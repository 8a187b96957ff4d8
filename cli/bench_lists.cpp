#include "cli/bench_lists.h"

#include <fmt/format.h>

#include <algorithm>
#include <sstream>

#include "core/error.h"

namespace tinyopt::cli {

namespace {

// Digits only, at most `max_digits` of them (so std::stoll cannot overflow).
bool is_unsigned(const std::string& s, size_t max_digits) {
  if (s.empty() || s.size() > max_digits) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

std::string MatmulShape::str() const { return fmt::format("{}x{}x{}", m, k, n); }

std::vector<MatmulShape> parse_matmul_sizes(const std::string& text) {
  std::vector<MatmulShape> shapes;
  std::stringstream items(text);
  std::string item;
  while (std::getline(items, item, ',')) {
    std::vector<int64_t> dims;
    std::stringstream parts(item);
    std::string part;
    while (std::getline(parts, part, 'x')) {
      TINYOPT_CHECK(is_unsigned(part, 6), "--sizes: '{}' is not a size; expected N or MxKxN with positive integers up to 999999, "
                    "comma separated (e.g. 256,1024,1x784x128)", item);
      dims.push_back(std::stoll(part));
      TINYOPT_CHECK(dims.back() > 0, "--sizes: '{}' has a zero dimension", item);
    }
    const size_t separators = static_cast<size_t>(std::count(item.begin(), item.end(), 'x'));
    TINYOPT_CHECK(dims.size() == separators + 1 && (dims.size() == 1 || dims.size() == 3),
                  "--sizes: '{}' must be N or MxKxN", item);
    if (dims.size() == 1) shapes.push_back({dims[0], dims[0], dims[0]});
    else shapes.push_back({dims[0], dims[1], dims[2]});
    TINYOPT_CHECK(double(shapes.back().m) * shapes.back().k * shapes.back().n <= 1.5e11,
                  "--sizes: '{}' is too large for a benchmark (M*K*N over 1.5e11)", item);
  }
  TINYOPT_CHECK(!shapes.empty(), "--sizes: no sizes given");
  return shapes;
}

std::vector<int64_t> parse_int_list(const std::string& text, const char* flag, int64_t lo, int64_t hi,
                                    const char* what, const char* example) {
  std::vector<int64_t> out;
  std::stringstream items(text);
  std::string item;
  while (std::getline(items, item, ',')) {
    const bool ok = is_unsigned(item, 9) && std::stoll(item) >= lo && std::stoll(item) <= hi;
    TINYOPT_CHECK(ok, "{}: '{}' is not a {} in {}..{} (comma list, e.g. {})", flag, item, what, lo, hi, example);
    out.push_back(std::stoll(item));
  }
  TINYOPT_CHECK(!out.empty(), "{}: no values given (comma list, e.g. {})", flag, example);
  return out;
}

}  // namespace tinyopt::cli
