#include "olympics/leaderboard.h"

#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "core/error.h"

namespace tinyopt::olympics {

namespace {

// Every column after `id`, in table order; insert and select both use this list.
constexpr const char* kColumns[] = {
    "submission_id", "event", "team", "division", "recipe", "recipe_json", "techniques",
    "quality_metric", "quality", "reference_quality", "quality_ratio", "agreement",
    "latency_p50_s", "latency_p90_s", "latency_p99_s", "queries", "offline_throughput", "offline_batch",
    "peak_memory_bytes", "model_bytes", "train_samples_per_s", "decode_tokens_per_s",
    "speedup_latency", "speedup_offline", "size_reduction", "score", "score_parts", "valid", "flags",
    "threads", "machine", "tinyopt_version", "git_commit", "model_sha256", "created_at", "input_model_sha256",
    "measurement_verdict", "measurement", "speedup_latency_p90"};
constexpr int kColumnCount = sizeof(kColumns) / sizeof(kColumns[0]);

constexpr const char* kCreateSchema = R"sql(
CREATE TABLE IF NOT EXISTS tinyopt_meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS submissions (
  id                  INTEGER PRIMARY KEY AUTOINCREMENT,
  submission_id       TEXT NOT NULL UNIQUE,
  event               TEXT NOT NULL,
  team                TEXT NOT NULL,
  division            TEXT NOT NULL CHECK (division IN ('closed', 'open')),
  recipe              TEXT NOT NULL,
  recipe_json         TEXT NOT NULL,   -- the recipe as run (JSON)
  techniques          TEXT NOT NULL,   -- JSON list, verified present
  quality_metric      TEXT NOT NULL,   -- test_accuracy | heldout_loss
  quality             REAL,
  reference_quality   REAL,
  quality_ratio       REAL,
  agreement           REAL,            -- GPT only
  latency_p50_s       REAL,            -- SingleStream, batch 1
  latency_p90_s       REAL,
  latency_p99_s       REAL,
  queries             INTEGER NOT NULL,
  offline_throughput  REAL,            -- samples/s (images) or tokens/s (GPT)
  offline_batch       INTEGER NOT NULL,
  peak_memory_bytes   INTEGER NOT NULL,
  model_bytes         INTEGER NOT NULL,
  train_samples_per_s REAL,            -- MLP and CNN only
  decode_tokens_per_s REAL,            -- GPT only
  speedup_latency     REAL,
  speedup_offline     REAL,
  size_reduction      REAL,
  score               REAL NOT NULL,
  score_parts         TEXT NOT NULL,   -- JSON: each factor of the score
  valid               INTEGER NOT NULL,
  flags               TEXT NOT NULL,   -- JSON list of validation findings
  threads             INTEGER NOT NULL,
  machine             TEXT NOT NULL,
  tinyopt_version     TEXT NOT NULL,
  git_commit          TEXT NOT NULL,
  model_sha256        TEXT NOT NULL,   -- the model that was measured (its tensors and config)
  created_at          TEXT NOT NULL,   -- UTC in ISO 8601
  -- added in schema version 2: the file the measured model was made from
  input_model_sha256  TEXT NOT NULL DEFAULT '',
  -- added in schema version 3: was the machine quiet while this was measured
  measurement_verdict TEXT NOT NULL DEFAULT 'unknown',
  measurement         TEXT NOT NULL DEFAULT '{}',
  speedup_latency_p90 REAL             -- SingleStream p90 ratio: the score's latency metric
);
CREATE INDEX IF NOT EXISTS submissions_by_event ON submissions (event, valid, score DESC);
)sql";

// Columns added after schema version 1, with their definitions (defaults for the rows before them).
constexpr std::pair<const char*, const char*> kAddedColumns[] = {
    {"input_model_sha256", "TEXT NOT NULL DEFAULT ''"},          // version 2
    {"measurement_verdict", "TEXT NOT NULL DEFAULT 'unknown'"},  // version 3
    {"measurement", "TEXT NOT NULL DEFAULT '{}'"},               // version 3
    {"speedup_latency_p90", "REAL"},                             // version 3
};

// A prepared statement that finalizes itself.
struct Statement {
  sqlite3_stmt* stmt = nullptr;
  ~Statement() { sqlite3_finalize(stmt); }
};

void bind_real(sqlite3_stmt* s, int i, double v) {
  if (std::isfinite(v))
    sqlite3_bind_double(s, i, v);
  else
    sqlite3_bind_null(s, i);  // not applicable (SQLite would store NaN as NULL anyway; say it)
}
void bind_text(sqlite3_stmt* s, int i, const std::string& v) {
  sqlite3_bind_text(s, i, v.c_str(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
}
double column_real(sqlite3_stmt* s, int i) {
  return sqlite3_column_type(s, i) == SQLITE_NULL ? kNotApplicable : sqlite3_column_double(s, i);
}
std::string column_text(sqlite3_stmt* s, int i) {
  const unsigned char* t = sqlite3_column_text(s, i);
  return t ? reinterpret_cast<const char*>(t) : "";
}

// A SQLite file: URI for any path (absolute, with %, ? and # escaped).
std::string file_uri(const std::string& path, const std::string& query) {
  std::string uri = "file://";
  for (const char c : std::filesystem::absolute(path).string()) {
    if (c == '%' || c == '?' || c == '#')
      uri += fmt::format("%{:02X}", static_cast<unsigned char>(c));
    else
      uri += c;
  }
  return uri + "?" + query;
}

}  // namespace

std::string Leaderboard::default_path() {
  std::string base;
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg) {
    base = xdg;
  } else {
    const char* home = std::getenv("HOME");
    TINYOPT_CHECK(home && *home, "leaderboard: neither XDG_DATA_HOME nor HOME is set; pass --db PATH");
    base = std::string(home) + "/.local/share";
  }
  return base + "/tinyopt/leaderboard.db";
}

[[noreturn]] void Leaderboard::fail_sqlite(int rc, const std::string& doing) const {
  last_error_ = rc;
  const std::string message = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      fail("leaderboard {}: locked by another process; gave up after waiting {} ms while {} (nothing was written; "
           "try again)",
           path_, options_.busy_timeout_ms, doing);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      fail("leaderboard {}: not a valid SQLite database or corrupt ({}) while {}; the file was left untouched: "
           "move it aside to start a new leaderboard, or pass --db PATH",
           path_, message, doing);
    case SQLITE_CANTOPEN:
      fail("leaderboard {}: cannot open ({}) while {}: does the directory exist and is it writable?", path_, message,
           doing);
    case SQLITE_READONLY:
      fail("leaderboard {}: read-only ({}) while {}", path_, message, doing);
    case SQLITE_FULL:
      fail("leaderboard {}: disk full while {} (nothing was written)", path_, doing);
    default:
      fail("leaderboard {}: {} while {}", path_, message, doing);
  }
}

void Leaderboard::exec(const char* sql) const {
  char* err = nullptr;
  const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
  sqlite3_free(err);
  if (rc != SQLITE_OK) fail_sqlite(rc, std::string("running ") + std::string(sql).substr(0, 40));
}

Leaderboard::Leaderboard(const std::string& path, LeaderboardOptions options) : path_(path), options_(options) {
  namespace fs = std::filesystem;
  TINYOPT_CHECK(!path.empty(), "leaderboard: empty database path");
  std::error_code ec;
  const bool exists = fs::exists(path, ec);
  if (!exists) {
    TINYOPT_CHECK(options_.create && !options_.read_only,
                  "leaderboard {}: no such file (run `tinyopt olympics` to create it, or pass --db)", path);
    // The default location's directory is ours to create; a --db path's directory must exist.
    if (path == default_path()) fs::create_directories(fs::path(path).parent_path(), ec);
    const fs::path dir = fs::path(path).parent_path().empty() ? fs::path(".") : fs::path(path).parent_path();
    TINYOPT_CHECK(fs::is_directory(dir, ec), "leaderboard {}: directory '{}' does not exist", path, dir.string());
    TINYOPT_CHECK(::access(dir.c_str(), W_OK) == 0,
                  "leaderboard {}: directory '{}' is not writable, so the database cannot be created there; pass "
                  "--db PATH in a directory you can write",
                  path, dir.string());
  } else {
    TINYOPT_CHECK(!fs::is_directory(path, ec), "leaderboard {}: is a directory, expected a database file", path);
  }
  if (!options_.read_only) {
    open(file_uri(path, options_.create ? "mode=rwc" : "mode=rw"));
    return;
  }
  try {
    open(file_uri(path, "mode=ro"));
  } catch (const Error&) {
    // A shared leaderboard may sit in a directory the viewer cannot write, where
    // SQLite cannot create the WAL index (-shm) that read-only readers use. No
    // writer is connected then (the last one to close removes -wal and -shm),
    // so the file can be read as immutable instead.
    const int why = last_error_ & 0xff;
    if (why != SQLITE_READONLY && why != SQLITE_CANTOPEN) throw;
    open(file_uri(path, "immutable=1"));
  }
}

// Opens the database and checks that it is a healthy tinyopt leaderboard,
// creating or upgrading the schema unless read-only. Throws naming the file
// (with the database closed again) when it is not.
void Leaderboard::open(const std::string& uri) {
  const int flags = SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX |
                    (options_.read_only ? SQLITE_OPEN_READONLY
                                        : SQLITE_OPEN_READWRITE | (options_.create ? SQLITE_OPEN_CREATE : 0));
  const int rc = sqlite3_open_v2(uri.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    last_error_ = rc;
    const std::string message = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    fail("leaderboard {}: cannot open: {}", path_, message);
  }
  try {
    sqlite3_busy_timeout(db_, options_.busy_timeout_ms);
    sqlite3_extended_result_codes(db_, 1);
    if (!options_.read_only) {
      // The first statements that read the file: a non-database fails here.
      exec("PRAGMA journal_mode=WAL");
      exec("PRAGMA synchronous=FULL");
      exec("PRAGMA foreign_keys=ON");
    }
    check_integrity();
    create_or_check_schema();
  } catch (...) {
    sqlite3_close(db_);
    db_ = nullptr;
    throw;
  }
}

void Leaderboard::check_integrity() const {
  Statement check;
  int r = sqlite3_prepare_v2(db_, "PRAGMA quick_check", -1, &check.stmt, nullptr);
  if (r != SQLITE_OK) fail_sqlite(r, "checking integrity");
  std::string problems;
  while ((r = sqlite3_step(check.stmt)) == SQLITE_ROW) {
    const std::string line = column_text(check.stmt, 0);
    if (line != "ok") problems += (problems.empty() ? "" : "; ") + line;
  }
  if (r != SQLITE_DONE) fail_sqlite(r, "checking integrity");
  TINYOPT_CHECK(problems.empty(),
                "leaderboard {}: integrity check failed ({}); the file was left untouched: move it aside to start a "
                "new leaderboard",
                path_, problems.substr(0, 300));
}

Leaderboard::~Leaderboard() { sqlite3_close(db_); }

void Leaderboard::create_or_check_schema() {
  // Is it ours? A database with tables but no tinyopt_meta belongs to someone else.
  Statement tables;
  int rc = sqlite3_prepare_v2(db_, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
                              -1, &tables.stmt, nullptr);
  if (rc != SQLITE_OK) fail_sqlite(rc, "reading the schema");
  bool any = false, ours = false;
  while ((rc = sqlite3_step(tables.stmt)) == SQLITE_ROW) {
    any = true;
    ours = ours || column_text(tables.stmt, 0) == "tinyopt_meta";
  }
  if (rc != SQLITE_DONE) fail_sqlite(rc, "reading the schema");
  TINYOPT_CHECK(!any || ours, "leaderboard {}: a SQLite database, but not a tinyopt leaderboard (no tinyopt_meta "
                "table); refusing to {} it", path_, options_.read_only ? "read" : "write into");
  if (options_.read_only) {
    TINYOPT_CHECK(any, "leaderboard {}: an empty database, not a tinyopt leaderboard", path_);
    check_schema_version();
    read_present_columns();
    return;
  }

  exec("BEGIN IMMEDIATE");
  try {
    exec(kCreateSchema);  // creates what is missing; an existing table keeps its columns
    check_schema_version();
    // Upgrades an older file inside this transaction: each column a later
    // version introduced is added with its default.
    read_present_columns();
    for (const auto& [column, definition] : kAddedColumns)
      if (std::find(present_columns_.begin(), present_columns_.end(), column) == present_columns_.end())
        exec(fmt::format("ALTER TABLE submissions ADD COLUMN {} {}", column, definition).c_str());
    exec(("INSERT OR REPLACE INTO tinyopt_meta (key, value) VALUES ('schema_version', '" +
          std::to_string(kLeaderboardSchemaVersion) + "')")
             .c_str());
    exec("COMMIT");
  } catch (...) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
  read_present_columns();
}

// The schema version stored in the file (0 for a new one); a newer one than
// this build reads is refused.
int Leaderboard::check_schema_version() const {
  Statement version;
  int rc = sqlite3_prepare_v2(db_, "SELECT value FROM tinyopt_meta WHERE key = 'schema_version'", -1, &version.stmt,
                              nullptr);
  if (rc != SQLITE_OK) fail_sqlite(rc, "reading the schema version");
  rc = sqlite3_step(version.stmt);
  if (rc == SQLITE_DONE) return 0;
  if (rc != SQLITE_ROW) fail_sqlite(rc, "reading the schema version");
  const int found = std::atoi(column_text(version.stmt, 0).c_str());
  TINYOPT_CHECK(found <= kLeaderboardSchemaVersion,
                "leaderboard {}: schema version {} was written by a newer tinyopt (this one reads version {}); left "
                "untouched",
                path_, found, kLeaderboardSchemaVersion);
  return found;
}

// Which of kColumns the table has: a read-only viewer of an older file reads
// the columns it lacks as empty instead of failing.
void Leaderboard::read_present_columns() {
  Statement info;
  int rc = sqlite3_prepare_v2(db_, "PRAGMA table_info(submissions)", -1, &info.stmt, nullptr);
  if (rc != SQLITE_OK) fail_sqlite(rc, "reading the schema");
  present_columns_.clear();
  while ((rc = sqlite3_step(info.stmt)) == SQLITE_ROW) present_columns_.push_back(column_text(info.stmt, 1));
  if (rc != SQLITE_DONE) fail_sqlite(rc, "reading the schema");
}

int64_t Leaderboard::submit(const LeaderboardEntry& e) {
  TINYOPT_CHECK(!e.submission_id.empty(), "leaderboard: a submission needs a submission_id");
  TINYOPT_CHECK(e.division == "closed" || e.division == "open", "leaderboard: division '{}' is not closed or open",
                e.division);
  TINYOPT_CHECK(std::isfinite(e.score), "leaderboard: score is not finite");
  std::string sql = "INSERT OR IGNORE INTO submissions (";
  std::string marks;
  for (int i = 0; i < kColumnCount; ++i) {
    sql += std::string(i ? ", " : "") + kColumns[i];
    marks += i ? ", ?" : "?";
  }
  sql += ") VALUES (" + marks + ")";

  exec("BEGIN IMMEDIATE");  // takes the write lock now (waiting up to the busy timeout), not at the first write
  try {
    Statement insert;
    int rc = sqlite3_prepare_v2(db_, sql.c_str(), -1, &insert.stmt, nullptr);
    if (rc != SQLITE_OK) fail_sqlite(rc, "preparing the submission");
    sqlite3_stmt* s = insert.stmt;
    int i = 0;
    bind_text(s, ++i, e.submission_id);
    bind_text(s, ++i, e.event);
    bind_text(s, ++i, e.team);
    bind_text(s, ++i, e.division);
    bind_text(s, ++i, e.recipe);
    bind_text(s, ++i, e.recipe_json.dump());
    bind_text(s, ++i, nlohmann::json(e.techniques).dump());
    bind_text(s, ++i, e.quality_metric);
    bind_real(s, ++i, e.quality);
    bind_real(s, ++i, e.reference_quality);
    bind_real(s, ++i, e.quality_ratio);
    bind_real(s, ++i, e.agreement);
    bind_real(s, ++i, e.latency_p50_s);
    bind_real(s, ++i, e.latency_p90_s);
    bind_real(s, ++i, e.latency_p99_s);
    sqlite3_bind_int64(s, ++i, e.queries);
    bind_real(s, ++i, e.offline_throughput);
    sqlite3_bind_int64(s, ++i, e.offline_batch);
    sqlite3_bind_int64(s, ++i, e.peak_memory_bytes);
    sqlite3_bind_int64(s, ++i, e.model_bytes);
    bind_real(s, ++i, e.train_samples_per_s);
    bind_real(s, ++i, e.decode_tokens_per_s);
    bind_real(s, ++i, e.speedup_latency);
    bind_real(s, ++i, e.speedup_offline);
    bind_real(s, ++i, e.size_reduction);
    sqlite3_bind_double(s, ++i, e.score);
    bind_text(s, ++i, e.score_parts.dump());
    sqlite3_bind_int(s, ++i, e.valid ? 1 : 0);
    bind_text(s, ++i, nlohmann::json(e.flags).dump());
    sqlite3_bind_int(s, ++i, e.threads);
    bind_text(s, ++i, e.machine);
    bind_text(s, ++i, e.tinyopt_version);
    bind_text(s, ++i, e.git_commit);
    bind_text(s, ++i, e.model_sha256);
    bind_text(s, ++i, e.created_at);
    bind_text(s, ++i, e.input_model_sha256);
    bind_text(s, ++i, e.measurement.value("verdict", std::string("unknown")));
    bind_text(s, ++i, e.measurement.dump());
    bind_real(s, ++i, e.speedup_latency_p90);
    TINYOPT_CHECK(i == kColumnCount, "leaderboard: bound {} of {} columns", i, kColumnCount);
    rc = sqlite3_step(s);
    if (rc != SQLITE_DONE) fail_sqlite(rc, "writing the submission");

    Statement find;
    rc = sqlite3_prepare_v2(db_, "SELECT id FROM submissions WHERE submission_id = ?", -1, &find.stmt, nullptr);
    if (rc != SQLITE_OK) fail_sqlite(rc, "reading back the submission");
    bind_text(find.stmt, 1, e.submission_id);
    rc = sqlite3_step(find.stmt);
    if (rc != SQLITE_ROW) fail_sqlite(rc, "reading back the submission");
    const int64_t id = sqlite3_column_int64(find.stmt, 0);

    if (before_commit_) before_commit_();
    exec("COMMIT");
    return id;
  } catch (...) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

std::vector<LeaderboardEntry> Leaderboard::query(const std::string& where, const std::string& event) const {
  std::string sql = "SELECT id";
  for (const char* c : kColumns) {
    const bool present = std::find(present_columns_.begin(), present_columns_.end(), c) != present_columns_.end();
    sql += present ? std::string(", ") + c : std::string(", '' AS ") + c;
  }
  sql += " FROM submissions s " + where;
  Statement q;
  int rc = sqlite3_prepare_v2(db_, sql.c_str(), -1, &q.stmt, nullptr);
  if (rc != SQLITE_OK) fail_sqlite(rc, "reading the leaderboard");
  if (!event.empty()) bind_text(q.stmt, 1, event);
  std::vector<LeaderboardEntry> out;
  while ((rc = sqlite3_step(q.stmt)) == SQLITE_ROW) {
    sqlite3_stmt* s = q.stmt;
    LeaderboardEntry e;
    int i = 0;
    e.id = sqlite3_column_int64(s, i++);
    e.submission_id = column_text(s, i++);
    e.event = column_text(s, i++);
    e.team = column_text(s, i++);
    e.division = column_text(s, i++);
    e.recipe = column_text(s, i++);
    // JSON columns are written by submit(); a hand-edited row that does not parse is reported, not hidden.
    auto parse = [&](const std::string& text, const char* column) {
      try {
        return nlohmann::json::parse(text);
      } catch (const std::exception&) {
        fail("leaderboard {}: row {} column {} is not valid JSON", path_, e.id, column);
      }
    };
    e.recipe_json = parse(column_text(s, i++), "recipe_json");
    e.techniques = parse(column_text(s, i++), "techniques").get<std::vector<std::string>>();
    e.quality_metric = column_text(s, i++);
    e.quality = column_real(s, i++);
    e.reference_quality = column_real(s, i++);
    e.quality_ratio = column_real(s, i++);
    e.agreement = column_real(s, i++);
    e.latency_p50_s = column_real(s, i++);
    e.latency_p90_s = column_real(s, i++);
    e.latency_p99_s = column_real(s, i++);
    e.queries = sqlite3_column_int64(s, i++);
    e.offline_throughput = column_real(s, i++);
    e.offline_batch = sqlite3_column_int64(s, i++);
    e.peak_memory_bytes = sqlite3_column_int64(s, i++);
    e.model_bytes = sqlite3_column_int64(s, i++);
    e.train_samples_per_s = column_real(s, i++);
    e.decode_tokens_per_s = column_real(s, i++);
    e.speedup_latency = column_real(s, i++);
    e.speedup_offline = column_real(s, i++);
    e.size_reduction = column_real(s, i++);
    e.score = sqlite3_column_double(s, i++);
    e.score_parts = parse(column_text(s, i++), "score_parts");
    e.valid = sqlite3_column_int(s, i++) != 0;
    e.flags = parse(column_text(s, i++), "flags").get<std::vector<std::string>>();
    e.threads = sqlite3_column_int(s, i++);
    e.machine = column_text(s, i++);
    e.tinyopt_version = column_text(s, i++);
    e.git_commit = column_text(s, i++);
    e.model_sha256 = column_text(s, i++);
    e.created_at = column_text(s, i++);
    e.input_model_sha256 = column_text(s, i++);
    ++i;  // measurement_verdict: the same as measurement's "verdict"
    const std::string measurement = column_text(s, i++);
    if (!measurement.empty()) e.measurement = parse(measurement, "measurement");
    e.speedup_latency_p90 = column_real(s, i++);
    out.push_back(std::move(e));
  }
  if (rc != SQLITE_DONE) fail_sqlite(rc, "reading the leaderboard");
  return out;
}

std::vector<LeaderboardEntry> Leaderboard::entries(const std::string& event) const {
  return query(event.empty() ? "ORDER BY id" : "WHERE event = ?1 ORDER BY id", event);
}

std::vector<LeaderboardEntry> Leaderboard::rankings(const std::string& event, bool include_contended) const {
  // A number measured beside another busy process is not ranked against quiet ones unless asked for.
  const bool has_verdict = std::find(present_columns_.begin(), present_columns_.end(), "measurement_verdict") !=
                           present_columns_.end();
  const std::string rankable = include_contended || !has_verdict ? "1" : "{0}.measurement_verdict <> 'contended'";
  auto on = [&](const char* table) { return fmt::format(fmt::runtime(rankable), table); };
  return query(fmt::format(
                   "WHERE s.event = ?1 AND s.valid = 1 AND {} AND s.id = ("
                   "  SELECT t.id FROM submissions t WHERE t.event = s.event AND t.team = s.team AND t.recipe = s.recipe"
                   "  AND t.division = s.division AND t.valid = 1 AND {} ORDER BY t.score DESC, t.id DESC LIMIT 1) "
                   "ORDER BY s.division = 'open', s.score DESC, s.id",
                   on("s"), on("t")),
               event);
}

int64_t Leaderboard::count() const {
  Statement q;
  int rc = sqlite3_prepare_v2(db_, "SELECT COUNT(*) FROM submissions", -1, &q.stmt, nullptr);
  if (rc != SQLITE_OK) fail_sqlite(rc, "counting submissions");
  rc = sqlite3_step(q.stmt);
  if (rc != SQLITE_ROW) fail_sqlite(rc, "counting submissions");
  return sqlite3_column_int64(q.stmt, 0);
}

}  // namespace tinyopt::olympics
