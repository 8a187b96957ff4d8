// `tinyopt leaderboard [--event E] [--json] [--all] [--db PATH]`: the
// rankings stored by `tinyopt olympics` (best valid entry per team, recipe
// and division; closed division first, then by score; entries measured under
// contention left out unless --include-contended), or every entry.
#include <cstdio>

#include "cli/commands.h"
#include "olympics/leaderboard.h"
#include "olympics/tables.h"

namespace tinyopt::cli {

namespace {

struct Options {
  std::vector<std::string> events;
  std::string db;
  bool json = false, all = false, include_contended = false;
};

void run_leaderboard(const Options& o) {
  using namespace olympics;
  std::vector<std::string> keys;
  for (const std::string& e : o.events) keys.push_back(find_event(e).key);
  if (keys.empty())
    for (const Event& e : all_events()) keys.push_back(e.key);
  LeaderboardOptions lo;
  lo.create = false;
  lo.read_only = true;  // viewing a shared leaderboard needs no write access
  const Leaderboard board(o.db.empty() ? Leaderboard::default_path() : o.db, lo);
  nlohmann::json j = {{"db", board.path()}, {"total_entries", board.count()}, {"events", nlohmann::json::object()}};
  for (const std::string& key : keys) {
    const std::vector<LeaderboardEntry> entries = o.all ? board.entries(key) : board.rankings(key, o.include_contended);
    if (o.json) {
      j["events"][key] = nlohmann::json::array();
      for (const LeaderboardEntry& e : entries) j["events"][key].push_back(to_json(e));
    } else {
      std::fputs(leaderboard_table(key, entries).c_str(), stdout);
    }
  }
  if (o.json)
    print_json(j);
  else
    std::printf("\n%lld entries in %s\n", (long long)board.count(), board.path().c_str());
}

}  // namespace

Command add_leaderboard_command(CLI::App& app) {
  CLI::App* sub = app.add_subcommand("leaderboard", "Rankings of the TinyMLPerf Olympics leaderboard");
  static Options o;
  sub->add_option("-e,--event", o.events, "Event(s): mlp, cnn, gpt (default: all)");
  sub->add_option("--db", o.db, "Leaderboard database (default: ${XDG_DATA_HOME:-~/.local/share}/tinyopt/leaderboard.db)");
  sub->add_flag("--json", o.json, "Print JSON");
  sub->add_flag("--all", o.all, "Every entry, oldest first, instead of the rankings");
  sub->add_flag("--include-contended", o.include_contended,
                "Rank entries measured while other processes kept the machine busy too (left out by default)");
  return {sub, [] { run_leaderboard(o); }};
}

}  // namespace tinyopt::cli
