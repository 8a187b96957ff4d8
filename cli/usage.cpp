#include "cli/usage.h"

#include <fmt/format.h>

#include <algorithm>
#include <iostream>


namespace tinyopt::cli {

namespace {

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t substitute = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
      diagonal = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, substitute});
    }
  }
  return row[b.size()];
}

std::vector<std::string> subcommand_names(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) names.push_back(sub->get_name());
  return names;
}

// The command the user reached (`bench matmul` within `bench`), and its name as typed.
CLI::App* deepest_parsed(CLI::App& app, std::string& path) {
  CLI::App* command = &app;
  path = app.get_name();
  while (!command->get_subcommands().empty()) {
    command = command->get_subcommands().front();
    path += " " + command->get_name();
  }
  return command;
}

// Every option spelling valid at `command`: its own and its parents' (global options).
std::vector<std::string> option_spellings(const CLI::App* command) {
  std::vector<std::string> names;
  for (const CLI::App* a = command; a != nullptr; a = a->get_parent())
    for (const CLI::Option* opt : a->get_options()) {
      for (const std::string& l : opt->get_lnames()) names.push_back("--" + l);
      for (const std::string& s : opt->get_snames()) names.push_back("-" + s);
    }
  return names;
}

std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates) {
  const std::string best = closest_spelling(word, candidates);
  return best.empty() ? "" : fmt::format(" (did you mean '{}'?)", best);
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

}  // namespace

std::string closest_spelling(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_distance = std::max<size_t>(2, word.size() / 3) + 1;  // a plausible typo: a few edits at most
  for (const std::string& c : candidates) {
    const size_t d = edit_distance(word, c);
    if (d < best_distance) {
      best = c;
      best_distance = d;
    }
  }
  return best;
}

std::string explain_parse_error(CLI::App& app, const CLI::ParseError& error) {
  std::string path;
  CLI::App* command = deepest_parsed(app, path);
  // Words CLI11 could not place: with fallthrough() they collect at the top.
  std::vector<std::string> rest = app.remaining();
  for (const std::string& w : command->remaining())
    if (std::find(rest.begin(), rest.end(), w) == rest.end()) rest.push_back(w);

  for (const std::string& word : rest)
    if (word.size() > 1 && word[0] == '-' && word != "--") {
      const std::string name = word.substr(0, word.find('='));
      return fmt::format("unknown option '{}' for '{}'{}", name, path, did_you_mean(name, option_spellings(command)));
    }
  const std::vector<std::string> commands = subcommand_names(*command);
  if (!commands.empty() && command->get_require_subcommand_min() > 0) {
    if (!rest.empty())
      return fmt::format("unknown command '{}'{}; '{}' takes one of: {}", rest.front(),
                         did_you_mean(rest.front(), commands), path, join(commands));
    return fmt::format("'{}' needs a command: {}", path, join(commands));
  }
  if (!rest.empty()) return fmt::format("unexpected argument '{}' for '{}'", rest.front(), path);
  return fmt::format("{}: {}", path, error.what());
}

namespace {
std::vector<std::string> g_help_path;  // `tinyopt help bench matmul` -> {"bench", "matmul"}
}

CLI::App* add_help_command(CLI::App& app) {
  CLI::App* help = app.add_subcommand("help", "Show help for a command: tinyopt help [COMMAND [SUBCOMMAND]]");
  help->add_option("command", g_help_path, "The command (and subcommand) to explain");
  return help;
}

void run_help_command(CLI::App& app) {
  CLI::App* target = &app;
  std::string path = app.get_name();
  for (const std::string& word : g_help_path) {
    const std::vector<std::string> names = subcommand_names(*target);
    CLI::App* next = nullptr;
    for (CLI::App* sub : target->get_subcommands([](CLI::App*) { return true; }))
      if (sub->get_name() == word) next = sub;
    if (next == nullptr)
      throw UsageError(fmt::format("help: unknown command '{}'{}; '{}' takes one of: {}", word,
                                   did_you_mean(word, names), path, join(names)));
    target = next;
    path += " " + word;
  }
  // The formatter directly: App::help() would describe the `help` command itself, the one that was parsed.
  std::cout << target->get_formatter()->make_help(target, path, CLI::AppFormatMode::Normal);
}

}  // namespace tinyopt::cli
