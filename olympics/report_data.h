// What the HTML report shows, as plain values: gathered from a finished run
// by report_data(), or built directly by a test (tests/test_olympics_report.cpp)
// so the page's layout can be checked without a run of the events.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "olympics/olympics_run.h"

namespace tinyopt::olympics {

struct ReportContender {
  std::string label;
  bool submitted = true;  // a recipe asked for; false: an ablation step
  BenchmarkResult result;
  Speedup vs_baseline;
};

struct ReportSubmission {
  std::string label;
  ValidationResult validation;
  Score score;
  int64_t model_bytes = 0;
  std::vector<std::string> skipped;  // "<technique>: <why>" for what the recipe asked for and did not apply
};

struct ReportEvent {
  const Event* event = nullptr;
  std::string quality_note;
  std::vector<ReportContender> contenders;  // [0] is baseline
  std::vector<ReportSubmission> submissions;
  std::vector<AblationStep> ablation;
};

struct ReportData {
  std::string team, machine, db_path;
  double seconds = 0;
  int64_t peak_rss_bytes = 0;
  std::vector<ReportEvent> events;
  std::vector<std::pair<std::string, std::vector<LeaderboardEntry>>> leaderboard;  // rankings per event
};

ReportData report_data(const OlympicsOutcome& outcome);

}  // namespace tinyopt::olympics
