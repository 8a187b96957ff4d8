// The SQLite leaderboard: round trip of every column, rankings, idempotent
// resubmission, and the failure modes a shared file meets: a submitter
// SIGKILLed inside its transaction, several submitter processes at once, a
// lock held by someone else, a corrupt or foreign file. Earlier entries must
// survive all of them.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <string>

#include <fmt/format.h>

#include "core/error.h"
#include "olympics/leaderboard.h"
#include "olympics/tables.h"
#include "profiler/timer.h"

using namespace tinyopt::olympics;

namespace {

std::string fresh_db(const std::string& name) {
  const std::string path = fmt::format("{}/olympics_{}_{}.db", ::testing::TempDir(), name, ::getpid());
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  return path;
}

LeaderboardEntry sample_entry(const std::string& event, const std::string& recipe, double score) {
  LeaderboardEntry e;
  e.submission_id = new_submission_id();
  e.event = event;
  e.team = "team-a";
  e.division = "closed";
  e.recipe = recipe;
  e.recipe_json = {{"backend", "auto"}};
  e.techniques = {"prune", "int8"};
  e.quality_metric = "test_accuracy";
  e.quality = 0.9;
  e.reference_quality = 0.91;
  e.quality_ratio = 0.9 / 0.91;
  e.latency_p50_s = 1e-4;
  e.latency_p90_s = 2e-4;
  e.latency_p99_s = 3e-4;
  e.queries = 64;
  e.offline_throughput = 1234.5;
  e.offline_batch = 256;
  e.peak_memory_bytes = 4096;
  e.model_bytes = 1024;
  e.train_samples_per_s = 99.5;
  e.speedup_latency = 27.1;
  e.speedup_offline = 12.6;
  e.size_reduction = 3.9;
  e.score = score;
  e.score_parts = {{"latency_factor", 3.7}};
  e.valid = true;
  e.flags = {"a flag"};
  e.threads = 1;
  e.machine = "test machine";
  e.tinyopt_version = "0.1.0";
  e.git_commit = "abc";
  e.model_sha256 = std::string(64, 'f');
  e.input_model_sha256 = std::string(64, 'e');
  e.created_at = tinyopt::utc_now_iso8601();
  return e;
}

// Waits for a child and returns its exit status (or 128 + signal).
int wait_child(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

TEST(OlympicsLeaderboard, RoundTripsEveryColumnAndNotApplicableAsNull) {
  const std::string path = fresh_db("roundtrip");
  Leaderboard board(path);
  LeaderboardEntry e = sample_entry("cnn", "all", 801.1);
  e.agreement = kNotApplicable;
  e.decode_tokens_per_s = kNotApplicable;
  const int64_t id = board.submit(e);
  EXPECT_GT(id, 0);
  const auto all = board.entries();
  ASSERT_EQ(all.size(), 1u);
  const LeaderboardEntry& r = all[0];
  EXPECT_EQ(r.id, id);
  EXPECT_EQ(r.submission_id, e.submission_id);
  EXPECT_EQ(r.recipe_json, e.recipe_json);
  EXPECT_EQ(r.techniques, e.techniques);
  EXPECT_EQ(r.flags, e.flags);
  EXPECT_DOUBLE_EQ(r.latency_p99_s, 3e-4);
  EXPECT_DOUBLE_EQ(r.speedup_latency, 27.1);
  EXPECT_EQ(r.offline_batch, 256);
  EXPECT_TRUE(std::isnan(r.agreement));
  EXPECT_TRUE(std::isnan(r.decode_tokens_per_s));
  EXPECT_EQ(r.model_sha256, e.model_sha256);
  EXPECT_EQ(r.input_model_sha256, e.input_model_sha256);
  // JSON form keeps not-applicable values as null.
  EXPECT_TRUE(to_json(r).at("agreement").is_null());
  EXPECT_EQ(entry_from_json(to_json(r)).score, r.score);
}

TEST(OlympicsLeaderboard, ResubmittingTheSameSubmissionStoresItOnce) {
  const std::string path = fresh_db("idempotent");
  Leaderboard board(path);
  const LeaderboardEntry e = sample_entry("mlp", "all", 300);
  const int64_t a = board.submit(e);
  const int64_t b = board.submit(e);
  EXPECT_EQ(a, b);
  EXPECT_EQ(board.count(), 1);
}

TEST(OlympicsLeaderboard, RankingsBestPerTeamRecipeDivisionClosedFirst) {
  const std::string path = fresh_db("rankings");
  Leaderboard board(path);
  board.submit(sample_entry("cnn", "all", 500));
  board.submit(sample_entry("cnn", "all", 800));  // same team+recipe: only the best is ranked
  LeaderboardEntry open = sample_entry("cnn", "prune-finetune", 2000);
  open.division = "open";
  board.submit(open);
  LeaderboardEntry invalid = sample_entry("cnn", "cheat", 9999);
  invalid.valid = false;
  board.submit(invalid);
  board.submit(sample_entry("mlp", "baseline", 100));
  const auto r = board.rankings("cnn");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].recipe, "all");
  EXPECT_DOUBLE_EQ(r[0].score, 800);
  EXPECT_EQ(r[1].division, "open");
  EXPECT_EQ(board.entries("cnn").size(), 4u);
  EXPECT_EQ(board.count(), 5);
}

TEST(OlympicsLeaderboard, SubmitterKilledMidTransactionLosesNothingEarlier) {
  const std::string path = fresh_db("killed");
  {
    Leaderboard board(path);
    for (int i = 0; i < 5; ++i) board.submit(sample_entry("gpt", fmt::format("r{}", i), 100 + i));
  }
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The child writes a row, tells the parent it is inside the transaction, and waits to be killed.
    ::close(ready[0]);
    try {
      Leaderboard board(path);
      board.set_before_commit_hook([&] {
        const char c = 'x';
        if (::write(ready[1], &c, 1) != 1) ::_exit(3);
        for (;;) ::pause();
      });
      board.submit(sample_entry("gpt", "killed", 1e6));
    } catch (...) {
      ::_exit(2);
    }
    ::_exit(0);
  }
  ::close(ready[1]);
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1) << "child never reached the commit";
  ::close(ready[0]);
  ::kill(child, SIGKILL);
  EXPECT_EQ(wait_child(child), 128 + SIGKILL);

  Leaderboard board(path);  // opens, checks integrity, recovers the WAL
  const auto entries = board.entries();
  ASSERT_EQ(entries.size(), 5u) << "the killed submission must vanish whole, the earlier ones stay";
  for (int i = 0; i < 5; ++i) EXPECT_EQ(entries[size_t(i)].recipe, fmt::format("r{}", i));
  board.submit(sample_entry("gpt", "after", 1));  // and the file still takes writes
  EXPECT_EQ(board.count(), 6);
}

TEST(OlympicsLeaderboard, KilledAtRandomMomentsKeepsEveryAcknowledgedEntry) {
  const std::string path = fresh_db("random_kill");
  { Leaderboard board(path); }
  int acks[2];
  ASSERT_EQ(::pipe(acks), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(acks[0]);
    try {
      Leaderboard board(path);
      for (int i = 0;; ++i) {
        board.submit(sample_entry("mlp", fmt::format("loop{}", i), i));
        const char c = 'a';
        if (::write(acks[1], &c, 1) != 1) ::_exit(3);
      }
    } catch (...) {
      ::_exit(2);
    }
  }
  ::close(acks[1]);
  int acknowledged = 0;
  char c;
  while (acknowledged < 20 && ::read(acks[0], &c, 1) == 1) ++acknowledged;
  ::usleep(3000);  // somewhere inside a later submission
  ::kill(child, SIGKILL);
  EXPECT_EQ(wait_child(child), 128 + SIGKILL);
  while (::read(acks[0], &c, 1) == 1) ++acknowledged;
  ::close(acks[0]);
  Leaderboard board(path);
  const int64_t stored = board.count();
  // Every acknowledged submission is there; at most one more committed before its acknowledgement.
  EXPECT_GE(stored, acknowledged);
  EXPECT_LE(stored, acknowledged + 1);
  std::set<std::string> recipes;
  for (const auto& e : board.entries()) recipes.insert(e.recipe);
  EXPECT_EQ(int64_t(recipes.size()), stored);
}

TEST(OlympicsLeaderboard, ConcurrentSubmittersEachStoredExactlyOnce) {
  const std::string path = fresh_db("concurrent");
  { Leaderboard board(path); }
  const int processes = 4, each = 15;
  std::vector<pid_t> children;
  for (int p = 0; p < processes; ++p) {
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      try {
        Leaderboard board(path);
        for (int i = 0; i < each; ++i) {
          LeaderboardEntry e = sample_entry("cnn", fmt::format("p{}-{}", p, i), i);
          e.team = fmt::format("proc{}", p);
          board.submit(e);
        }
      } catch (...) {
        ::_exit(2);
      }
      ::_exit(0);
    }
    children.push_back(child);
  }
  for (pid_t child : children) EXPECT_EQ(wait_child(child), 0);
  Leaderboard board(path);
  const auto entries = board.entries();
  EXPECT_EQ(entries.size(), size_t(processes * each));
  std::set<std::string> ids, recipes;
  for (const auto& e : entries) {
    ids.insert(e.submission_id);
    recipes.insert(e.recipe);
  }
  EXPECT_EQ(ids.size(), entries.size());
  EXPECT_EQ(recipes.size(), entries.size());
  for (int p = 0; p < processes; ++p)
    for (int i = 0; i < each; ++i) EXPECT_TRUE(recipes.count(fmt::format("p{}-{}", p, i)));
}

TEST(OlympicsLeaderboard, LockedDatabaseIsAClearErrorAndNothingIsLost) {
  const std::string path = fresh_db("locked");
  {
    Leaderboard board(path);
    board.submit(sample_entry("mlp", "first", 1));
  }
  sqlite3* holder = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &holder), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(holder, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  LeaderboardOptions quick;
  quick.busy_timeout_ms = 200;
  try {
    Leaderboard board(path, quick);
    board.submit(sample_entry("mlp", "blocked", 2));
    FAIL() << "expected a locked error";
  } catch (const tinyopt::Error& e) {
    EXPECT_NE(std::string(e.what()).find("locked"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
  sqlite3_exec(holder, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(holder);
  Leaderboard board(path);
  ASSERT_EQ(board.count(), 1);
  EXPECT_EQ(board.entries()[0].recipe, "first");
}

TEST(OlympicsLeaderboard, CorruptOrForeignFilesAreRefusedAndLeftUntouched) {
  // Not a database at all.
  const std::string garbage = fresh_db("garbage");
  {
    std::ofstream out(garbage, std::ios::binary);
    out << std::string(4096, 'x');
  }
  EXPECT_THROW({ Leaderboard b(garbage); }, tinyopt::Error);
  try {
    Leaderboard b(garbage);
  } catch (const tinyopt::Error& e) {
    EXPECT_NE(std::string(e.what()).find("not a valid SQLite database"), std::string::npos) << e.what();
  }
  EXPECT_EQ(std::filesystem::file_size(garbage), 4096u);

  // A real leaderboard with its pages damaged after the header.
  const std::string damaged = fresh_db("damaged");
  {
    Leaderboard board(damaged);
    for (int i = 0; i < 50; ++i) board.submit(sample_entry("cnn", fmt::format("r{}", i), i));
  }
  {
    sqlite3* db = nullptr;  // fold the WAL into the main file so the damage hits real pages
    sqlite3_open(damaged.c_str(), &db);
    sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", nullptr, nullptr, nullptr);
    sqlite3_close(db);
    // Every page after the first gets a garbage b-tree page header.
    const auto size = std::filesystem::file_size(damaged);
    std::fstream f(damaged, std::ios::in | std::ios::out | std::ios::binary);
    const std::string junk(64, '\xA5');
    for (std::uintmax_t page = 4096; page < size; page += 4096) {
      f.seekp(std::streamoff(page));
      f.write(junk.data(), std::streamsize(junk.size()));
    }
  }
  EXPECT_THROW({ Leaderboard b(damaged); }, tinyopt::Error);

  // Somebody else's SQLite database.
  const std::string foreign = fresh_db("foreign");
  {
    sqlite3* db = nullptr;
    sqlite3_open(foreign.c_str(), &db);
    sqlite3_exec(db, "CREATE TABLE notes (x TEXT)", nullptr, nullptr, nullptr);
    sqlite3_close(db);
  }
  try {
    Leaderboard b(foreign);
    FAIL() << "expected a refusal";
  } catch (const tinyopt::Error& e) {
    EXPECT_NE(std::string(e.what()).find("not a tinyopt leaderboard"), std::string::npos) << e.what();
  }
}

TEST(OlympicsLeaderboard, NewerSchemaAndMissingFilesAreClearErrors) {
  const std::string path = fresh_db("newer");
  { Leaderboard board(path); }
  {
    sqlite3* db = nullptr;
    sqlite3_open(path.c_str(), &db);
    sqlite3_exec(db, "UPDATE tinyopt_meta SET value = '99' WHERE key = 'schema_version'", nullptr, nullptr, nullptr);
    sqlite3_close(db);
  }
  try {
    Leaderboard b(path);
    FAIL() << "expected a schema error";
  } catch (const tinyopt::Error& e) {
    EXPECT_NE(std::string(e.what()).find("newer"), std::string::npos) << e.what();
  }
  LeaderboardOptions no_create;
  no_create.create = false;
  EXPECT_THROW({ Leaderboard b(path + ".absent", no_create); }, tinyopt::Error);
  EXPECT_THROW({ Leaderboard b("/nonexistent-dir/x/leaderboard.db"); }, tinyopt::Error);
}

TEST(OlympicsLeaderboard, DefaultPathFollowsXdgDataHome) {
  const char* old = std::getenv("XDG_DATA_HOME");
  const std::string saved = old ? old : "";
  ::setenv("XDG_DATA_HOME", "/some/where", 1);
  EXPECT_EQ(Leaderboard::default_path(), "/some/where/tinyopt/leaderboard.db");
  if (old)
    ::setenv("XDG_DATA_HOME", saved.c_str(), 1);
  else
    ::unsetenv("XDG_DATA_HOME");
}

namespace {

// Runs `body` as another user who cannot write `dir` (nobody, when we are
// root; else ourselves with the directory made read-only) and returns its exit status.
int as_reader_without_write_access(const std::string& dir, const std::function<int()>& body) {
  const bool root = ::geteuid() == 0;
  if (!root) std::filesystem::permissions(dir, std::filesystem::perms::owner_write, std::filesystem::perm_options::remove);
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (root && (::setresgid(65534, 65534, 65534) != 0 || ::setresuid(65534, 65534, 65534) != 0)) ::_exit(90);
    ::_exit(body());
  }
  const int status = wait_child(pid);
  if (!root) std::filesystem::permissions(dir, std::filesystem::perms::owner_write, std::filesystem::perm_options::add);
  return status;
}

}  // namespace

TEST(OlympicsLeaderboard, ReadOnlyViewersNeedNoWriteAccess) {
  const std::string dir = fmt::format("{}/olympics_shared_{}", ::testing::TempDir(), ::getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::filesystem::permissions(dir, std::filesystem::perms(0755));
  const std::string path = dir + "/lb.db";
  {
    Leaderboard board(path);
    board.submit(sample_entry("mlp", "all", 500));
  }  // the last writer closed: no -wal or -shm is left for a reader to use
  std::filesystem::permissions(path, std::filesystem::perms(0644));
  const int viewed = as_reader_without_write_access(dir, [&] {
    try {
      LeaderboardOptions view;
      view.read_only = true;
      const Leaderboard board(path, view);
      return board.count() == 1 && board.rankings("mlp").size() == 1 ? 0 : 1;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "read-only view failed: %s\n", e.what());
      return 2;
    }
  });
  EXPECT_EQ(viewed, 0);
  // Creating a leaderboard where one cannot write says so.
  const int created = as_reader_without_write_access(dir, [&] {
    try {
      Leaderboard board(dir + "/new.db");
      return 1;
    } catch (const tinyopt::Error& e) {
      return std::string(e.what()).find("is not writable") != std::string::npos ? 0 : 3;
    }
  });
  EXPECT_EQ(created, 0);
  EXPECT_FALSE(std::filesystem::exists(dir + "/new.db"));
  std::filesystem::remove_all(dir);
}

TEST(OlympicsLeaderboard, VersionOneFilesAreUpgradedOrReadAsTheyAre) {
  const std::string path = fresh_db("version1");
  {
    Leaderboard board(path);
    board.submit(sample_entry("mlp", "all", 500));
  }
  {  // make it a version-1 file: no input_model_sha256 column
    sqlite3* db = nullptr;
    sqlite3_open(path.c_str(), &db);
    ASSERT_EQ(sqlite3_exec(db, "ALTER TABLE submissions DROP COLUMN input_model_sha256; UPDATE tinyopt_meta SET value = '1' "
                           "WHERE key = 'schema_version'", nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    sqlite3_close(db);
  }
  LeaderboardOptions view;
  view.read_only = true;
  {
    const Leaderboard board(path, view);  // read as it is, the missing column empty
    ASSERT_EQ(board.entries().size(), 1u);
    EXPECT_EQ(board.entries()[0].input_model_sha256, "");
  }
  {
    Leaderboard board(path);  // a writer upgrades it
    board.submit(sample_entry("mlp", "all", 600));
    EXPECT_EQ(board.entries().back().input_model_sha256, std::string(64, 'e'));
  }
}

TEST(OlympicsLeaderboard, TablesGiveTheQualityUnitAndDirection) {
  LeaderboardEntry gpt = sample_entry("gpt", "all", 500);
  gpt.quality_metric = "heldout_loss";
  gpt.quality = 1.6425;
  const std::string table = leaderboard_table("gpt", {gpt});
  EXPECT_NE(table.find("1.6425 nats/char"), std::string::npos) << table;
  EXPECT_NE(table.find("lower is better"), std::string::npos) << table;
  const std::string images = leaderboard_table("mlp", {sample_entry("mlp", "all", 500)});
  EXPECT_NE(images.find("90.00%"), std::string::npos) << images;
  EXPECT_NE(images.find("higher is better"), std::string::npos) << images;
}

TEST(OlympicsLeaderboard, EntriesMeasuredUnderContentionAreStoredButNotRanked) {
  const std::string path = fresh_db("contended");
  Leaderboard board(path);
  LeaderboardEntry quiet = sample_entry("mlp", "all", 500);
  quiet.measurement = {{"verdict", "quiet"}, {"others_cores", 0.01}};
  LeaderboardEntry busy = sample_entry("mlp", "fast", 900);  // the best score, but distorted
  busy.measurement = {{"verdict", "contended"}, {"reason", "other processes kept 1.90 of 2 cores busy"}};
  board.submit(quiet);
  board.submit(busy);
  ASSERT_EQ(board.entries("mlp").size(), 2u);
  const auto ranked = board.rankings("mlp");
  ASSERT_EQ(ranked.size(), 1u);
  EXPECT_EQ(ranked[0].recipe, "all");
  const auto all = board.rankings("mlp", /*include_contended=*/true);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].recipe, "fast");
  EXPECT_TRUE(all[0].contended());
  EXPECT_EQ(all[0].measurement["reason"], "other processes kept 1.90 of 2 cores busy");
  EXPECT_NE(leaderboard_table("mlp", all).find("contended"), std::string::npos);
}
