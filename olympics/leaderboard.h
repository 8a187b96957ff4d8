// The Olympics leaderboard: a SQLite database (one file, default
// ${XDG_DATA_HOME:-~/.local/share}/tinyopt/leaderboard.db).
//
// Safety, because several submitters may share one file and any of them may
// be killed half way:
//   - WAL journal, synchronous=FULL: a committed submission survives a crash
//     of the process or the machine; an uncommitted one vanishes whole.
//   - every submission is one BEGIN IMMEDIATE ... COMMIT transaction;
//     concurrent writers queue on SQLite's lock with a busy timeout, and an
//     expired wait is a clear "locked" error, never a lost or partial row.
//   - each submission carries a random submission_id (UNIQUE): submitting the
//     same entry twice (a retry after an error) stores it once.
//   - rows are never updated or deleted by tinyopt.
//   - a file that is not a SQLite database, is corrupt, or was written by a
//     newer schema is refused with an error naming it, and left untouched.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "olympics/leaderboard_entry.h"

struct sqlite3;

namespace tinyopt::olympics {

inline constexpr int kLeaderboardSchemaVersion = 3;  // 2 added input_model_sha256, 3 the measurement's verdict

struct LeaderboardOptions {
  int busy_timeout_ms = 10000;  // how long to wait for another writer
  bool create = true;           // create the file (and its directory, for the default path) when absent
  bool read_only = false;       // view only: never writes, works on a file or directory the user cannot write
};

class Leaderboard {
 public:
  // ${XDG_DATA_HOME:-$HOME/.local/share}/tinyopt/leaderboard.db
  static std::string default_path();

  explicit Leaderboard(const std::string& path, LeaderboardOptions options = {});
  ~Leaderboard();
  Leaderboard(const Leaderboard&) = delete;
  Leaderboard& operator=(const Leaderboard&) = delete;

  // Stores one entry in its own transaction and returns its row id (the
  // existing row's id when this submission_id is already stored).
  int64_t submit(const LeaderboardEntry& entry);

  // Every entry, oldest first ("" = all events).
  std::vector<LeaderboardEntry> entries(const std::string& event = "") const;
  // Rankings of one event: the best-scoring entry of each (team, recipe,
  // division), valid entries only; closed division first, then by score.
  // Entries measured under contention are left out unless `include_contended`.
  std::vector<LeaderboardEntry> rankings(const std::string& event, bool include_contended = false) const;
  int64_t count() const;
  const std::string& path() const { return path_; }

  // Tests only: called inside submit()'s transaction after the row is
  // written and before COMMIT (to kill a submitter mid-write).
  void set_before_commit_hook(std::function<void()> hook) { before_commit_ = std::move(hook); }

 private:
  void open(const std::string& uri);
  void exec(const char* sql) const;
  void check_integrity() const;
  void create_or_check_schema();
  int check_schema_version() const;
  void read_present_columns();
  [[noreturn]] void fail_sqlite(int rc, const std::string& doing) const;
  std::vector<LeaderboardEntry> query(const std::string& where, const std::string& event) const;

  std::string path_;
  LeaderboardOptions options_;
  sqlite3* db_ = nullptr;
  std::vector<std::string> present_columns_;
  mutable int last_error_ = 0;  // the last SQLite result code that failed
  std::function<void()> before_commit_;
};

}  // namespace tinyopt::olympics
