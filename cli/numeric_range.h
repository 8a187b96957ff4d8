// Range checks for numeric flags. CLI::Range lets NaN through (every
// comparison with NaN is false), and a NaN or infinite --seconds or --lr
// turns into a loop that never ends or a model full of NaN; these refuse it.
#pragma once

#include <CLI/CLI.hpp>
#include <cmath>
#include <string>

namespace tinyopt::cli {

// A finite number in [lo, hi] (or [lo, hi) when `hi_excluded`); the parse
// error names the flag and the range.
inline CLI::Validator finite_range(double lo, double hi, bool hi_excluded = false) {
  const std::string range = fmt::format("[{}, {}{}", lo, hi, hi_excluded ? ")" : "]");
  return CLI::Validator(
      [lo, hi, hi_excluded, range](std::string& text) -> std::string {
        double v = 0;
        if (!CLI::detail::lexical_cast(text, v) || !std::isfinite(v) || v < lo || v > hi || (hi_excluded && v == hi))
          return "value " + text + " is not a finite number in " + range;
        return "";
      },
      "FLOAT in " + range);
}

}  // namespace tinyopt::cli
