// N separate processes submitting to one SQLite leaderboard at once, round
// after round (issue 9, concurrency): each round execs kProcesses submitter
// binaries (tests/helpers/leaderboard_submitter.cpp) that wait for one shared
// start time and then write kPerProcess entries each, retrying every third
// one. After every round the database must hold every submission acknowledged
// so far exactly once, nothing else, and each event's rankings must be what
// the stored entries say they are (best valid entry per team, recipe and
// division; closed first; by score).
//
// Bounded: kRounds rounds, and no new round starts after kTimeBudget
// (at least two always run), so CI stays quick under ASan too.
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <fmt/format.h>

#include "olympics/leaderboard.h"
#include "tests/helpers/stress_entry.h"

extern char** environ;

using namespace tinyopt;
using olympics::Leaderboard;
using olympics::LeaderboardEntry;

namespace {

constexpr int kProcesses = 6;
constexpr int kPerProcess = 10;
constexpr int kRounds = 5;
constexpr auto kTimeBudget = std::chrono::seconds(20);

pid_t spawn(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ);
  return rc == 0 ? pid : -1;
}

int wait_child(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// The rankings rule, computed from the stored entries without SQL.
std::vector<std::string> expected_ranking(const std::vector<LeaderboardEntry>& all, const std::string& event) {
  std::map<std::tuple<std::string, std::string, std::string>, const LeaderboardEntry*> best;
  for (const LeaderboardEntry& e : all) {
    if (e.event != event || !e.valid) continue;
    const LeaderboardEntry*& b = best[{e.team, e.recipe, e.division}];
    if (b == nullptr || e.score > b->score || (e.score == b->score && e.id > b->id)) b = &e;
  }
  std::vector<const LeaderboardEntry*> rows;
  for (const auto& [key, e] : best) rows.push_back(e);
  std::sort(rows.begin(), rows.end(), [](const LeaderboardEntry* a, const LeaderboardEntry* b) {
    const bool a_open = a->division == "open", b_open = b->division == "open";
    if (a_open != b_open) return !a_open;
    if (a->score != b->score) return a->score > b->score;
    return a->id < b->id;
  });
  std::vector<std::string> ids;
  for (const LeaderboardEntry* e : rows) ids.push_back(e->submission_id);
  return ids;
}

}  // namespace

TEST(LeaderboardStress, ProcessesSubmittingAtOnceStoreEverySubmissionExactlyOnce) {
  const std::string path = fmt::format("{}/leaderboard_stress_{}.db", ::testing::TempDir(), ::getpid());
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  { Leaderboard create(path); }

  const auto started = std::chrono::steady_clock::now();
  std::set<std::string> expected_ids;
  int rounds = 0;
  for (int round = 0; round < kRounds; ++round) {
    if (round >= 2 && std::chrono::steady_clock::now() - started > kTimeBudget) break;
    // Everyone starts at the same moment, a little ahead so all processes are up.
    const auto start = std::chrono::system_clock::now() + std::chrono::milliseconds(300);
    const long long start_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(start.time_since_epoch()).count() + 1;
    std::vector<pid_t> children;
    for (int p = 0; p < kProcesses; ++p) {
      const pid_t pid = spawn({TINYOPT_LEADERBOARD_SUBMITTER_PATH, path, std::to_string(p), std::to_string(round),
                               std::to_string(kPerProcess), std::to_string(start_ms)});
      ASSERT_GT(pid, 0) << "cannot start " << TINYOPT_LEADERBOARD_SUBMITTER_PATH;
      children.push_back(pid);
    }
    for (int p = 0; p < kProcesses; ++p) {
      EXPECT_EQ(wait_child(children[p]), 0) << "round " << round << ": submitter " << p << " failed";
      for (int i = 0; i < kPerProcess; ++i) expected_ids.insert(stress::submission_id(round, p, i));
    }
    ++rounds;

    // Every submission of every round so far, each exactly once, stored as submitted.
    Leaderboard board(path);
    const std::vector<LeaderboardEntry> all = board.entries();
    ASSERT_EQ(board.count(), static_cast<int64_t>(expected_ids.size())) << "after round " << round;
    ASSERT_EQ(all.size(), expected_ids.size());
    std::set<std::string> stored;
    std::set<int64_t> row_ids;
    for (const LeaderboardEntry& e : all) {
      EXPECT_TRUE(stored.insert(e.submission_id).second) << e.submission_id << " stored twice";
      EXPECT_TRUE(row_ids.insert(e.id).second) << "row id " << e.id << " twice";
      const int r = e.recipe_json.at("round"), p = e.recipe_json.at("process"), i = e.recipe_json.at("i");
      const LeaderboardEntry want = stress::entry(r, p, i);
      EXPECT_EQ(e.submission_id, want.submission_id);
      EXPECT_EQ(e.event, want.event);
      EXPECT_EQ(e.team, want.team);
      EXPECT_EQ(e.division, want.division);
      EXPECT_EQ(e.score, want.score) << e.submission_id;
      EXPECT_EQ(e.valid, want.valid) << e.submission_id;
    }
    EXPECT_EQ(stored, expected_ids) << "after round " << round;
    // Rankings agree with the entries, and each one's order is closed first, then by score.
    for (const char* event : stress::kEvents) {
      const std::vector<LeaderboardEntry> ranked = board.rankings(event);
      std::vector<std::string> got;
      for (const LeaderboardEntry& e : ranked) got.push_back(e.submission_id);
      EXPECT_EQ(got, expected_ranking(all, event)) << "event " << event << " after round " << round;
      EXPECT_FALSE(ranked.empty()) << event;
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const int retries = rounds * kProcesses * ((kPerProcess + 2) / 3);
  EXPECT_GE(rounds, 2);
  RecordProperty("processes", kProcesses);
  RecordProperty("rounds", rounds);
  RecordProperty("submissions_held", static_cast<int>(expected_ids.size()));
  std::printf("leaderboard stress: %d processes x %d rounds x %d entries: %zu submissions held exactly once "
              "(%d retried submits ignored) in %.1f s\n",
              kProcesses, rounds, kPerProcess, expected_ids.size(), retries, seconds);
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
}
