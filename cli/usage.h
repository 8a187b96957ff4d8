// Usage errors: what a user typed wrong, said plainly, with one exit code.
//
// CLI11 reports the first rule it finds broken ("A subcommand is required",
// "--model is required"), which for a typo is the wrong one: `tinyopt evall`
// and `eval --modle m` are unknown words, and the user wants to hear that,
// with the closest valid spelling. Every usage error exits with 2, as
// argparse, getopt-based tools and most CLIs do; errors while running a
// command exit with 1.
#pragma once

#include <CLI/CLI.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace tinyopt::cli {

inline constexpr int kUsageExitCode = 2;

// A usage error found after parsing (main() prints it like a parse error and exits with 2).
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The message for a failed parse: an unknown command or option named, with a
// suggestion; otherwise CLI11's own message, prefixed by the command it is about.
std::string explain_parse_error(CLI::App& app, const CLI::ParseError& error);

// The candidate closest to `word` by edit distance, or "" when none is close
// enough to be a plausible typo.
std::string closest_spelling(const std::string& word, const std::vector<std::string>& candidates);

// `tinyopt help [command [subcommand]]`: prints that command's help.
CLI::App* add_help_command(CLI::App& app);
void run_help_command(CLI::App& app);

}  // namespace tinyopt::cli
