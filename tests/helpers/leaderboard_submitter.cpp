// One submitter process of the leaderboard stress test
// (tests/test_leaderboard_stress.cpp): waits for a shared start time so that
// every process of a round writes at once, then submits COUNT entries to the
// leaderboard at DB, each in its own transaction, and submits every third one
// a second time, as a client retrying after a lost acknowledgement would.
//
// Usage: leaderboard_submitter DB PROCESS ROUND COUNT START_UNIX_MS
// Exit 0 when every submit() returned; 1 with the error on stderr otherwise.
//
// Entry i of process p in round r is fully determined by (r, p, i) (see
// stress_entry.h), so the test knows exactly what must be stored.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "core/error.h"
#include "olympics/leaderboard.h"
#include "tests/helpers/stress_entry.h"

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: %s DB PROCESS ROUND COUNT START_UNIX_MS\n", argv[0]);
    return 2;
  }
  const std::string db = argv[1];
  const int process = std::atoi(argv[2]), round = std::atoi(argv[3]), count = std::atoi(argv[4]);
  const auto start = std::chrono::system_clock::time_point(std::chrono::milliseconds(std::atoll(argv[5])));
  std::this_thread::sleep_until(start);
  try {
    tinyopt::olympics::Leaderboard board(db);
    for (int i = 0; i < count; ++i) {
      const auto e = tinyopt::stress::entry(round, process, i);
      board.submit(e);
      if (i % 3 == 0) board.submit(e);  // a retry: must not be stored twice
    }
  } catch (const tinyopt::Error& e) {
    std::fprintf(stderr, "leaderboard_submitter %d/%d: %s\n", round, process, e.what());
    return 1;
  }
  return 0;
}
