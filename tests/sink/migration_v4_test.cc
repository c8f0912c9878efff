// Migration of schema version 1 and 3 files to version 4 in place,
// interrupted by SIGKILL (twice) and resumed: every window present once,
// features equal to the float32-rounded originals, scores exact, integrity
// ok; a reader on a half-migrated file gets Unavailable.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sink/sqlite/baseline_store.h"
#include "sink/sqlite/internal/sqlite_util.h"
#include "sink/sqlite/internal/windows_v4.h"
#include "sink/sqlite/sqlite_reader.h"
#include "sink/sqlite/sqlite_sink.h"
#include "testing/test_paths.h"

namespace mh::sink {
namespace {

namespace fs = std::filesystem;

// Test data: the schema of version 1 exactly as the version-1 sink created
// it (commit 7656275, src/sink/sqlite/internal/sqlite_util.cc).
const char* const kSchemaV1 = R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE machines(
  id TEXT PRIMARY KEY,
  state TEXT NOT NULL,
  state_score REAL,
  threshold REAL,
  updated_ns INTEGER,
  windows INTEGER);
CREATE TABLE scores(
  machine_id TEXT NOT NULL,
  t_ns INTEGER NOT NULL,
  score REAL,
  score_samples REAL,
  anomaly INTEGER,
  state TEXT,
  state_score REAL,
  rms REAL,
  PRIMARY KEY(machine_id, t_ns)) WITHOUT ROWID;
CREATE TABLE features(
  machine_id TEXT NOT NULL,
  t_ns INTEGER NOT NULL,
  name TEXT NOT NULL,
  value REAL NOT NULL,
  PRIMARY KEY(machine_id, t_ns, name)) WITHOUT ROWID;
INSERT INTO meta(key, value) VALUES('application', 'machine-health');
INSERT INTO meta(key, value) VALUES('schema_version', '1');
)sql";

// Test data: version 3's CreateSchema (main before schema version 4); the
// alarm and baseline tables are internal::kAlarmTables / kBaselineTables.
const char* const kSchemaV3 = R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE machines(
  id TEXT PRIMARY KEY,
  state TEXT NOT NULL,
  state_score REAL,
  threshold REAL,
  updated_ns INTEGER,
  windows INTEGER);
CREATE TABLE scores(
  machine_id TEXT NOT NULL,
  t_ns INTEGER NOT NULL,
  score REAL,
  score_samples REAL,
  anomaly INTEGER,
  state TEXT,
  state_score REAL,
  rms REAL,
  baseline_version INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY(machine_id, t_ns)) WITHOUT ROWID;
CREATE TABLE features(
  machine_id TEXT NOT NULL,
  t_ns INTEGER NOT NULL,
  name TEXT NOT NULL,
  value REAL NOT NULL,
  PRIMARY KEY(machine_id, t_ns, name)) WITHOUT ROWID;
INSERT INTO meta(key, value) VALUES('application', 'machine-health');
INSERT INTO meta(key, value) VALUES('schema_version', '3');
)sql";

struct Original {
  double score, score_samples, state_score, rms;  // NaN: NULL
  int anomaly;                                    // -1: NULL
  std::string state;
  std::int64_t baseline_version;
  std::vector<double> features;  // in kNames order
};

const std::vector<std::string> kNames = {"rms_ax",    "kurtosis_ax", "crest_ax", "peak_hz_ay",
                                         "band_1_az", "band_2_az",   "skew_ay",  "a_first",
                                         "zz_last",   "envelope_ax", "rms_ay",   "rms_az"};

// A value as the store keeps it: float32, saturated to +-FLT_MAX.
double AsFloat32(double v) {
  return static_cast<float>(
      std::clamp(v, -static_cast<double>(FLT_MAX), static_cast<double>(FLT_MAX)));
}

using Key = std::pair<std::string, std::int64_t>;

class MigrationV4Test : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    dir_ = mh::testing::MakeTempDir("mh-migration-v4-test");
    ASSERT_FALSE(dir_.empty());
    path_ = dir_ + "/old.db";
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  static void Exec(sqlite3* db, const std::string& sql) {
    char* err = nullptr;
    ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
  }

  // Writes an old file of `version` (1 or 3) with `windows` windows over 7
  // machines, as the old sink did (scores + one features row per feature).
  void MakeOldFile(int version, int windows) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    Exec(db, "BEGIN");
    Exec(db, version == 1 ? kSchemaV1 : kSchemaV3);
    if (version == 3) {
      Exec(db, internal::kAlarmTables);
      Exec(db, internal::kBaselineTables);
    }
    sqlite3_stmt* sc = nullptr;
    const std::string cols = version == 1 ? "" : ", baseline_version";
    const std::string vals = version == 1 ? "" : ", ?9";
    ASSERT_EQ(sqlite3_prepare_v2(db,
                                 ("INSERT INTO scores(machine_id, t_ns, score, score_samples, "
                                  "anomaly, state, state_score, rms" +
                                  cols + ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8" + vals + ")")
                                     .c_str(),
                                 -1, &sc, nullptr),
              SQLITE_OK);
    sqlite3_stmt* fe = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db,
                                 "INSERT INTO features(machine_id, t_ns, name, value) VALUES(?1, "
                                 "?2, ?3, ?4)",
                                 -1, &fe, nullptr),
              SQLITE_OK);
    std::mt19937_64 rng(1234 + version);
    std::normal_distribution<double> normal(0, 3);
    std::uniform_int_distribution<int> coin(0, 3);
    auto real = [](sqlite3_stmt* s, int i, double v) {
      if (std::isnan(v)) {
        sqlite3_bind_null(s, i);
      } else {
        sqlite3_bind_double(s, i, v);
      }
    };
    for (int w = 0; w < windows; ++w) {
      const std::string m = "machine-" + std::to_string(w % 7);
      const std::int64_t t =
          1'700'000'000'000'000'000 + static_cast<std::int64_t>(w / 7) * 20'000'000;
      Original o;
      const bool learning = w < 700;
      o.score = learning ? NAN : normal(rng);
      o.score_samples = learning ? NAN : o.score - 0.5;
      o.anomaly = learning ? -1 : (o.score < 0 ? 1 : 0);
      o.state = learning ? "learning" : (coin(rng) == 0 ? "anomalous" : "normal");
      o.state_score = learning ? NAN : normal(rng);
      o.rms = std::exp(normal(rng));
      o.baseline_version = version == 1 || learning ? 0 : 1 + w % 3;
      for (std::size_t j = 0; j < kNames.size(); ++j) {
        o.features.push_back(j % 4 == 0 ? std::exp(normal(rng) * 10) : normal(rng) * 1e3);
      }
      internal::BindText(sc, 1, m);
      sqlite3_bind_int64(sc, 2, t);
      real(sc, 3, o.score);
      real(sc, 4, o.score_samples);
      if (o.anomaly < 0) {
        sqlite3_bind_null(sc, 5);
      } else {
        sqlite3_bind_int(sc, 5, o.anomaly);
      }
      internal::BindText(sc, 6, o.state);
      real(sc, 7, o.state_score);
      real(sc, 8, o.rms);
      if (version == 3) sqlite3_bind_int64(sc, 9, o.baseline_version);
      ASSERT_EQ(sqlite3_step(sc), SQLITE_DONE) << sqlite3_errmsg(db);
      sqlite3_reset(sc);
      for (std::size_t j = 0; j < kNames.size(); ++j) {
        internal::BindText(fe, 1, m);
        sqlite3_bind_int64(fe, 2, t);
        internal::BindText(fe, 3, kNames[j]);
        sqlite3_bind_double(fe, 4, o.features[j]);
        ASSERT_EQ(sqlite3_step(fe), SQLITE_DONE) << sqlite3_errmsg(db);
        sqlite3_reset(fe);
      }
      originals_.emplace(Key{m, t}, o);
    }
    sqlite3_finalize(sc);
    sqlite3_finalize(fe);
    Exec(db,
         "INSERT INTO machines SELECT machine_id, 'normal', NULL, 0, max(t_ns), count(*) FROM "
         "scores GROUP BY machine_id");
    Exec(db, "COMMIT");
    sqlite3_close(db);
  }

  // Runs the migration in a child process and SIGKILLs it once it has moved
  // at least `after` windows (the child is stopped at the next chunk's end
  // at the latest, so the kill always lands mid-way: inside a chunk's
  // transaction or between two). Returns false if the child ended first.
  bool MigrateAndKill(std::int64_t after) {
    int to_parent[2];
    int to_child[2];
    if (pipe(to_parent) != 0 || pipe(to_child) != 0) return false;
    const pid_t pid = fork();
    if (pid == 0) {
      close(to_parent[0]);
      close(to_child[1]);
      sqlite3* raw = nullptr;
      if (sqlite3_open(path_.c_str(), &raw) != SQLITE_OK) _exit(3);
      internal::Db db(raw);
      sqlite3_busy_timeout(raw, 5000);
      if (!db.Exec("PRAGMA journal_mode=WAL", "wal").ok()) _exit(4);
      bool told = false;
      internal::MigrationOptions options;
      options.chunk_windows = 250;
      options.progress = [&](std::int64_t moved) {
        if (told) {
          char c;
          (void)!read(to_child[0], &c, 1);  // blocks: the parent kills us
        }
        if (moved >= after) {
          told = true;
          (void)!write(to_parent[1], "x", 1);
        }
      };
      Status s = internal::MigrateToV4(db, path_, options);
      _exit(s.ok() ? 0 : 5);
    }
    close(to_parent[1]);
    close(to_child[0]);
    char c;
    const bool signalled = read(to_parent[0], &c, 1) == 1;
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    close(to_parent[0]);
    close(to_child[1]);
    return signalled && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
  }

  std::int64_t Count(sqlite3* db, const std::string& sql) {
    sqlite3_stmt* s = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr), SQLITE_OK) << sql;
    std::int64_t n = -1;
    if (s != nullptr && sqlite3_step(s) == SQLITE_ROW) n = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return n;
  }

  std::string dir_;
  std::string path_;
  std::map<Key, Original> originals_;
};

TEST_P(MigrationV4Test, KilledTwiceThenResumedKeepsEveryWindowOnce) {
  const int version = GetParam();
  constexpr int kWindows = 20000;
  MakeOldFile(version, kWindows);
  ASSERT_EQ(originals_.size(), static_cast<std::size_t>(kWindows));

  ASSERT_TRUE(MigrateAndKill(3000));
  {
    // Half-migrated: both tables hold windows, the reader refuses it.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    const std::int64_t moved = Count(db, "SELECT count(*) FROM windows");
    const std::int64_t left = Count(db, "SELECT count(*) FROM scores_v3");
    EXPECT_GE(moved, 3000);
    EXPECT_LT(moved, kWindows);
    EXPECT_EQ(moved + left, kWindows);
    EXPECT_EQ(Count(db, "SELECT count(*) FROM features_v3"),
              left * static_cast<std::int64_t>(kNames.size()));
    sqlite3_close(db);
  }
  auto reader = SqliteReader::Open(path_);
  ASSERT_FALSE(reader.ok());
  EXPECT_TRUE(reader.status().IsUnavailable()) << reader.status().ToString();
  EXPECT_NE(reader.status().message().find("migration to version 4 in progress"), std::string::npos)
      << reader.status().ToString();
  EXPECT_TRUE(
      ReadStoredWindows(path_, "machine-1", {"rms_ax"}, 0, INT64_MAX).status().IsUnavailable());

  ASSERT_TRUE(MigrateAndKill(9000));  // resumed, killed again

  {
    // The next read-write open finishes it.
    auto sink = OpenSqliteSink({path_});
    ASSERT_TRUE(sink.ok()) << sink.status().ToString();
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  {
    sqlite3_stmt* s = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s, nullptr), SQLITE_OK);
    ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
    EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)), "ok");
    sqlite3_finalize(s);
  }
  EXPECT_EQ(Count(db, "SELECT count(*) FROM meta WHERE key = 'migration'"), 0);
  EXPECT_EQ(Count(db, "SELECT value FROM meta WHERE key = 'schema_version'"), 4);
  EXPECT_EQ(Count(db, "SELECT count(*) FROM sqlite_schema WHERE name LIKE '%_v3'"), 0);
  EXPECT_EQ(Count(db, "SELECT count(*) FROM windows"), kWindows);
  EXPECT_EQ(Count(db, "SELECT count(*) FROM feature_sets"), 1);  // names sorted, as v3 read them
  EXPECT_EQ(Count(db, "SELECT count(*) FROM features"),
            kWindows * static_cast<std::int64_t>(kNames.size()));
  if (version == 1) {
    EXPECT_EQ(Count(db, "SELECT count(*) FROM alarms"), 0);  // created by the migration
  }

  // Every window once, with its values.
  sqlite3_stmt* s = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db,
                               "SELECT machine_id, t_ns, score, score_samples, anomaly, state, "
                               "state_score, rms, baseline_version FROM scores",
                               -1, &s, nullptr),
            SQLITE_OK);
  std::map<Key, int> seen;
  auto real = [&](int c) {
    return sqlite3_column_type(s, c) == SQLITE_NULL ? NAN : sqlite3_column_double(s, c);
  };
  auto same = [](double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; };
  while (sqlite3_step(s) == SQLITE_ROW) {
    Key k{reinterpret_cast<const char*>(sqlite3_column_text(s, 0)), sqlite3_column_int64(s, 1)};
    ++seen[k];
    auto it = originals_.find(k);
    ASSERT_NE(it, originals_.end()) << k.first << " " << k.second;
    const Original& o = it->second;
    EXPECT_TRUE(same(real(2), o.score)) << k.second;
    EXPECT_TRUE(same(real(3), o.score_samples));
    EXPECT_EQ(sqlite3_column_type(s, 4) == SQLITE_NULL ? -1 : sqlite3_column_int(s, 4), o.anomaly);
    EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(s, 5)), o.state.c_str());
    EXPECT_TRUE(same(real(6), o.state_score));
    EXPECT_TRUE(same(real(7), o.rms));
    EXPECT_EQ(sqlite3_column_int64(s, 8), o.baseline_version);
  }
  sqlite3_finalize(s);
  sqlite3_close(db);
  EXPECT_EQ(seen.size(), originals_.size());
  for (const auto& [k, n] : seen) EXPECT_EQ(n, 1) << k.first << " " << k.second;

  // Features, through the C++ decode: float32-rounded originals.
  for (int m = 0; m < 7; ++m) {
    const std::string id = "machine-" + std::to_string(m);
    auto stored = ReadStoredWindows(path_, id, kNames, 0, INT64_MAX);
    ASSERT_TRUE(stored.ok()) << stored.status().ToString();
    ASSERT_EQ(stored->t_ns.size(), static_cast<std::size_t>(kWindows / 7 + (m < kWindows % 7)));
    EXPECT_EQ(stored->skipped, 0);
    for (std::size_t i = 0; i < stored->t_ns.size(); ++i) {
      const Original& o = originals_.at(Key{id, stored->t_ns[i]});
      for (std::size_t j = 0; j < kNames.size(); ++j) {
        ASSERT_EQ(stored->values[i * kNames.size() + j], AsFloat32(o.features[j]))
            << id << " " << stored->t_ns[i] << " " << kNames[j];
      }
    }
  }
  auto opened = SqliteReader::Open(path_);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  auto score = (*opened)->GetSeries("machine-3", "score", 0, INT64_MAX, 100000);
  ASSERT_TRUE(score.ok());
  EXPECT_EQ(score->t_ns.size(), static_cast<std::size_t>(kWindows / 7 + (3 < kWindows % 7)));
}

INSTANTIATE_TEST_SUITE_P(FromVersions, MigrationV4Test, ::testing::Values(1, 3),
                         [](const ::testing::TestParamInfo<int>& p) {
                           return "V" + std::to_string(p.param);
                         });

}  // namespace
}  // namespace mh::sink
