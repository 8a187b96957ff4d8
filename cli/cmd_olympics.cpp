// `tinyopt olympics`: the TinyMLPerf Olympics (docs/OLYMPICS.md). With no
// arguments: all three events with recipes `baseline` and `all`, each
// event's table, the ablation, submission to the local leaderboard and the
// rankings. Progress goes to stderr, results to stdout.
#include <cstdio>
#include <filesystem>

#include "cli/commands.h"
#include "cli/output_path.h"
#include "cli/usage.h"
#include "core/dispatcher.h"
#include "core/threads.h"
#include "olympics/olympics_run.h"
#include "olympics/report_html.h"
#include "olympics/tables.h"
#include "profiler/memory_profiler.h"

namespace tinyopt::cli {

namespace {

struct Options {
  std::vector<std::string> events, recipes;
  std::string team, db, report;
  bool json = false, no_submit = false, list_recipes = false;
};

void run_olympics_command(const Options& o) {
  using namespace olympics;
  if (o.list_recipes) {
    for (const std::string& name : builtin_recipe_names()) {
      const Recipe r = load_recipe(name);
      std::printf("%-16s %s\n", name.c_str(), r.description.c_str());
    }
    return;
  }
  // Each recipe names its kernels; a process-wide choice would be overridden by every one of them.
  if (const std::string forced = OptimizedBackend::instance().choice_summary(); forced != "auto")
    throw UsageError(fmt::format("--backend / TINYOPT_BACKEND ({}) does not apply to `olympics`: each recipe names its "
                                 "kernels (\"backend\": \"{}\" in a recipe file does what you mean)",
                                 forced, forced));
  if (!o.report.empty()) {  // before minutes of work
    std::vector<std::string> inputs = o.recipes;
    inputs.push_back(o.db);
    check_output_path("--report", o.report, ".html", inputs);
  }
  OlympicsOptions opt;
  opt.events = o.events;
  opt.recipes = o.recipes;
  opt.team = o.team;
  opt.db_path = o.db;
  opt.submit = !o.no_submit;
  opt.progress = [](const std::string& line) {
    std::fprintf(stderr, "[olympics] %s\n", line.c_str());
    std::fflush(stderr);
  };
  std::fprintf(stderr, "[olympics] TinyMLPerf Olympics on %s, %d thread(s) available\n",
               machine_description().c_str(), num_threads());
  const OlympicsOutcome out = run_olympics(opt);
  if (!o.report.empty()) {
    write_html_report(out, o.report);
    std::fprintf(stderr, "[olympics] report written to %s\n", o.report.c_str());
  }
  if (o.json) {
    print_json(to_json(out));
    return;
  }
  std::printf("TinyMLPerf Olympics: team %s, machine %s\n", out.team.c_str(), out.machine.c_str());
  for (const EventOutcome& eo : out.events) {
    std::fputs(event_table(eo).c_str(), stdout);
    std::fputs(ablation_table(eo).c_str(), stdout);
  }
  if (!o.no_submit) {
    std::printf("\nSubmitted to %s\n", out.db_path.c_str());
    for (const auto& [event, entries] : out.leaderboard) std::fputs(leaderboard_table(event, entries).c_str(), stdout);
  }
  std::printf("\nTotal %.1f s, peak resident memory %s\n", out.seconds, format_bytes(double(out.peak_rss_bytes)).c_str());
}

}  // namespace

Command add_olympics_command(CLI::App& app) {
  CLI::App* sub = app.add_subcommand("olympics", "TinyMLPerf Olympics: events x recipes, validated, scored, submitted");
  static Options o;
  sub->add_option("-e,--event", o.events, "Event(s): mlp, cnn, gpt (default: all three)");
  sub->add_option("-r,--recipe", o.recipes, "Recipe(s): a built-in name or a JSON file (default: baseline all)");
  sub->add_option("--team", o.team, "Team name for the leaderboard (default: $USER)");
  sub->add_option("--db", o.db, "Leaderboard database (default: ${XDG_DATA_HOME:-~/.local/share}/tinyopt/leaderboard.db)");
  sub->add_option("--report", o.report, "Write a self-contained HTML report here (atomically)");
  sub->add_flag("--json", o.json, "Print the whole outcome as JSON");
  sub->add_flag("--no-submit", o.no_submit, "Measure and validate, but leave the leaderboard alone");
  sub->add_flag("--list-recipes", o.list_recipes, "List the built-in recipes and exit");
  return {sub, [] { run_olympics_command(o); }};
}

}  // namespace tinyopt::cli
