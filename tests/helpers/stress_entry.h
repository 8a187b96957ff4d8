// The entries of the leaderboard stress test, shared by the submitter
// processes (leaderboard_submitter.cpp) and the test that checks what they
// stored (test_leaderboard_stress.cpp): entry i of process p in round r is a
// pure function of (r, p, i).
#pragma once

#include <fmt/format.h>

#include <string>

#include "olympics/leaderboard_entry.h"
#include "profiler/timer.h"

namespace tinyopt::stress {

inline const char* const kEvents[] = {"mlp", "cnn", "gpt"};

inline std::string submission_id(int round, int process, int i) {
  return fmt::format("stress-r{}-p{}-i{}", round, process, i);
}

inline olympics::LeaderboardEntry entry(int round, int process, int i) {
  olympics::LeaderboardEntry e;
  e.submission_id = submission_id(round, process, i);
  e.event = kEvents[(process + i) % 3];
  e.team = fmt::format("team{}", process % 3);  // teams shared across processes: rankings mix writers
  e.division = i % 4 == 3 ? "open" : "closed";
  e.recipe = fmt::format("recipe{}", i % 2);
  e.recipe_json = {{"round", round}, {"process", process}, {"i", i}};
  e.techniques = {"int8"};
  e.quality_metric = "test_accuracy";
  e.quality = 0.9;
  // Distinct scores everywhere (ties would make the ranking order depend on ids only).
  e.score = 1.0 + ((round * 7919 + process * 104729 + i * 1299709) % 100003) / 1000.0 + process * 1e-7 + i * 1e-9;
  e.valid = i % 5 != 4;
  if (!e.valid) e.flags = {"stress: invalid on purpose"};
  e.threads = 1;
  e.machine = "stress";
  e.created_at = utc_now_iso8601();
  return e;
}

}  // namespace tinyopt::stress
