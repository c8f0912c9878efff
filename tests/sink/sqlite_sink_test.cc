#include "sink/sqlite/sqlite_sink.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sink/sqlite/sqlite_reader.h"
#include "testing/test_paths.h"

namespace mh::sink {
namespace {

namespace fs = std::filesystem;

const auto kNames = std::make_shared<const std::vector<std::string>>(
    std::vector<std::string>{"rms_ax", "kurtosis_ax"});

WindowRecord Learning(const std::string& id, std::int64_t t_ns, double rms) {
  WindowRecord r;
  r.machine_id = id;
  r.window_start_ns = t_ns;
  r.feature_names = kNames;
  r.features = {rms / 2, 3.0 + rms};
  r.rms = rms;
  return r;  // scores NaN, state learning
}

WindowRecord Scored(const std::string& id, std::int64_t t_ns, double score, bool anomalous) {
  WindowRecord r = Learning(id, t_ns, 0.5);
  r.score = score;
  r.score_samples = score - 0.5;
  r.anomaly = score < 0;
  r.state = anomalous ? MachineState::kAnomalous : MachineState::kNormal;
  r.state_score = score + 0.25;
  r.threshold = 0;
  return r;
}

class SqliteSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = mh::testing::MakeTempDir("mh-sink-test");
    ASSERT_FALSE(dir_.empty());
    path_ = dir_ + "/m.db";
  }
  void TearDown() override {
    std::error_code ec;
    fs::permissions(dir_, fs::perms::owner_all, ec);
    fs::remove_all(dir_, ec);
  }

  std::unique_ptr<Sink> OpenOrDie() {
    auto sink = OpenSqliteSink({path_});
    EXPECT_TRUE(sink.ok()) << sink.status().ToString();
    return sink.ok() ? std::move(sink).value() : nullptr;
  }

  // Runs `sql` with the plain sqlite3 C API and returns its rows, each
  // column as text ("NULL" for NULL).
  std::vector<std::vector<std::string>> Query(const std::string& sql) {
    std::vector<std::vector<std::string>> rows;
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db);
    while (stmt != nullptr && sqlite3_step(stmt) == SQLITE_ROW) {
      std::vector<std::string> row;
      for (int c = 0; c < sqlite3_column_count(stmt); ++c) {
        const unsigned char* t = sqlite3_column_text(stmt, c);
        row.push_back(t ? reinterpret_cast<const char*>(t) : "NULL");
      }
      rows.push_back(row);
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return rows;
  }

  void Exec(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
    sqlite3_free(err);
    sqlite3_close(db);
  }

  std::string dir_;
  std::string path_;
};

TEST_F(SqliteSinkTest, CreatesSchemaWithMetaAndWal) {
  auto sink = OpenOrDie();
  ASSERT_NE(sink, nullptr);
  auto meta = Query("SELECT key, value FROM meta ORDER BY key");
  ASSERT_EQ(meta.size(), 2u);
  EXPECT_EQ(meta[0], (std::vector<std::string>{"application", "machine-health"}));
  EXPECT_EQ(meta[1], (std::vector<std::string>{"schema_version", "4"}));
  EXPECT_EQ(Query("PRAGMA journal_mode")[0][0], "wal");
  auto tables = Query(
      "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
      "ORDER BY name");
  std::vector<std::string> names;
  for (const auto& row : tables) names.push_back(row[0]);
  EXPECT_EQ(names, (std::vector<std::string>{"alarm_outbox", "alarm_outbox_cursors", "alarms",
                                             "baseline_changes", "baselines", "feature_set_columns",
                                             "feature_sets", "machine_keys", "machines", "meta",
                                             "models", "rollups", "snapshots", "windows"}));
  auto views = Query("SELECT name FROM sqlite_schema WHERE type = 'view' ORDER BY name");
  ASSERT_EQ(views.size(), 3u);
  EXPECT_EQ(views[0][0], "features");
  EXPECT_EQ(views[1][0], "rollup_features");
  EXPECT_EQ(views[2][0], "scores");
  EXPECT_TRUE(sink->Close().ok());
}

TEST_F(SqliteSinkTest, WritesLearningAndScoredRecords) {
  auto sink = OpenOrDie();
  ASSERT_NE(sink, nullptr);
  std::vector<WindowRecord> batch = {Learning("m1", 1000, 0.25), Learning("m2", 1000, 0.75),
                                     Scored("m1", 2000, -0.125, true),
                                     Scored("m2", 2000, 0.0625, false)};
  ASSERT_TRUE(sink->Write(batch).ok());

  // Through the C API: NaN scores are NULL, nothing is coerced to 0.
  auto scores = Query(
      "SELECT machine_id, t_ns, score, score_samples, anomaly, state, state_score, rms "
      "FROM scores ORDER BY machine_id, t_ns");
  ASSERT_EQ(scores.size(), 4u);
  EXPECT_EQ(scores[0], (std::vector<std::string>{"m1", "1000", "NULL", "NULL", "NULL", "learning",
                                                 "NULL", "0.25"}));
  EXPECT_EQ(scores[1], (std::vector<std::string>{"m1", "2000", "-0.125", "-0.625", "1", "anomalous",
                                                 "0.125", "0.5"}));
  EXPECT_EQ(scores[3][5], "normal");
  EXPECT_EQ(scores[3][4], "0");
  auto features = Query(
      "SELECT name, value FROM features WHERE machine_id = 'm2' AND t_ns = 1000 ORDER BY name");
  ASSERT_EQ(features.size(), 2u);
  EXPECT_EQ(features[0], (std::vector<std::string>{"kurtosis_ax", "3.75"}));
  EXPECT_EQ(features[1], (std::vector<std::string>{"rms_ax", "0.375"}));
  auto machines = Query(
      "SELECT id, state, state_score, threshold, updated_ns, windows FROM machines ORDER BY id");
  ASSERT_EQ(machines.size(), 2u);
  EXPECT_EQ(machines[0],
            (std::vector<std::string>{"m1", "anomalous", "0.125", "0.0", "2000", "2"}));
  EXPECT_EQ(machines[1][1], "normal");
  EXPECT_TRUE(sink->Close().ok());

  // Through the reader.
  auto reader = SqliteReader::Open(path_);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  auto list = (*reader)->Machines();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].id, "m1");
  EXPECT_EQ((*list)[0].state, "anomalous");
  EXPECT_DOUBLE_EQ((*list)[0].score, 0.125);
  EXPECT_EQ((*list)[0].updated_ns, 2000);
  EXPECT_EQ((*list)[0].windows, 2);
  auto series = (*reader)->GetSeries("m1", "score", 0, 3000, 100);
  ASSERT_TRUE(series.ok());
  ASSERT_EQ(series->t_ns, (std::vector<std::int64_t>{1000, 2000}));
  EXPECT_TRUE(std::isnan(series->v[0]));
  EXPECT_DOUBLE_EQ(series->v[1], -0.125);
}

// Records of a model file name it in `models` (once per SHA-256) and
// scores.model_version; records of none have NULL there.
TEST_F(SqliteSinkTest, StoresTheModelVersionOfEachWindow) {
  auto sink = OpenOrDie();
  ASSERT_NE(sink, nullptr);
  auto a = std::make_shared<ModelProvenance>();
  a->sha256 = std::string(64, 'a');
  a->version = a->sha256.substr(0, 12);
  a->source = "az://acct/models/m.joblib";
  a->loaded_ns = 5;
  auto b = std::make_shared<ModelProvenance>(*a);
  b->sha256 = std::string(64, 'b');
  b->version = b->sha256.substr(0, 12);
  std::vector<WindowRecord> batch = {Scored("m1", 1000, -0.125, true),
                                     Scored("m1", 2000, 0.25, false),
                                     Scored("m2", 2000, 0.25, false), Learning("m3", 1000, 0.5)};
  batch[0].model = a;
  batch[1].model = b;
  batch[2].model = std::make_shared<ModelProvenance>(*a);  // another copy of a
  ASSERT_TRUE(sink->Write(batch).ok());
  EXPECT_EQ(Query("SELECT machine_id, t_ns, ifnull(model_version, 'NULL') FROM scores ORDER BY "
                  "machine_id, t_ns"),
            (std::vector<std::vector<std::string>>{{"m1", "1000", "aaaaaaaaaaaa"},
                                                   {"m1", "2000", "bbbbbbbbbbbb"},
                                                   {"m2", "2000", "aaaaaaaaaaaa"},
                                                   {"m3", "1000", "NULL"}}));
  EXPECT_EQ(Query("SELECT count(*), min(source), min(loaded_ns) FROM models"),
            (std::vector<std::vector<std::string>>{{"2", "az://acct/models/m.joblib", "5"}}));
  EXPECT_TRUE(sink->Close().ok());
}

// A version-4 file made before model versions gets the models table, the
// windows.model column and scores.model_version when a writer opens it;
// its windows are kept (model_version NULL).
TEST_F(SqliteSinkTest, OlderVersion4FileGainsModelVersions) {
  {
    auto sink = OpenOrDie();
    ASSERT_NE(sink, nullptr);
    std::vector<WindowRecord> batch = {Scored("m1", 1000, -0.125, true)};
    ASSERT_TRUE(sink->Write(batch).ok());
    ASSERT_TRUE(sink->Close().ok());
  }
  // Back to the shape of a file made before: no models, no windows.model.
  Exec(
      "DROP VIEW scores; DROP TABLE models; ALTER TABLE windows DROP COLUMN model; "
      "CREATE VIEW scores AS SELECT k.id AS machine_id, w.t_ns, w.score, w.baseline_version "
      "FROM windows w JOIN machine_keys k ON k.key = w.machine;");
  ASSERT_EQ(Query("SELECT count(*) FROM sqlite_schema WHERE name = 'models'")[0][0], "0");
  auto sink = OpenOrDie();
  ASSERT_NE(sink, nullptr);
  auto a = std::make_shared<ModelProvenance>();
  a->sha256 = std::string(64, 'c');
  a->version = a->sha256.substr(0, 12);
  a->source = "model.mhm";
  std::vector<WindowRecord> batch = {Scored("m1", 2000, 0.25, false)};
  batch[0].model = a;
  ASSERT_TRUE(sink->Write(batch).ok());
  EXPECT_EQ(Query("SELECT t_ns, ifnull(model_version, 'NULL') FROM scores ORDER BY t_ns"),
            (std::vector<std::vector<std::string>>{{"1000", "NULL"}, {"2000", "cccccccccccc"}}));
  EXPECT_EQ(Query("SELECT value FROM meta WHERE key = 'schema_version'")[0][0], "4");
  EXPECT_TRUE(sink->Close().ok());
}

TEST_F(SqliteSinkTest, ReopenAppendsAndCountsWindows) {
  {
    auto sink = OpenOrDie();
    ASSERT_NE(sink, nullptr);
    std::vector<WindowRecord> batch = {Learning("m1", 1000, 0.25), Learning("m1", 2000, 0.25)};
    ASSERT_TRUE(sink->Write(batch).ok());
    ASSERT_TRUE(sink->Close().ok());
    EXPECT_FALSE(sink->Write(batch).ok());  // nothing after Close
  }
  auto sink = OpenOrDie();
  ASSERT_NE(sink, nullptr);
  // A repeated window replaces its row and is not counted twice.
  std::vector<WindowRecord> batch = {Scored("m1", 2000, 0.5, false),
                                     Scored("m1", 3000, 0.25, false)};
  ASSERT_TRUE(sink->Write(batch).ok());
  EXPECT_EQ(Query("SELECT count(*) FROM scores")[0][0], "3");
  EXPECT_EQ(Query("SELECT score FROM scores WHERE t_ns = 2000")[0][0], "0.5");
  EXPECT_EQ(Query("SELECT windows, updated_ns, state FROM machines")[0],
            (std::vector<std::string>{"3", "3000", "normal"}));
  // An older window arriving late does not move the machine back in time.
  std::vector<WindowRecord> late = {Scored("m1", 500, -1, true)};
  ASSERT_TRUE(sink->Write(late).ok());
  EXPECT_EQ(Query("SELECT windows, updated_ns, state FROM machines")[0],
            (std::vector<std::string>{"4", "3000", "normal"}));
}

TEST_F(SqliteSinkTest, InvalidBatchStoresNothing) {
  auto sink = OpenOrDie();
  ASSERT_NE(sink, nullptr);
  WindowRecord bad = Learning("m1", 2000, 0.25);
  bad.features[1] = NAN;
  std::vector<WindowRecord> batch = {Learning("m1", 1000, 0.25), bad};
  Status s = sink->Write(batch);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.message().find("kurtosis_ax"), std::string::npos) << s.message();
  WindowRecord short_features = Learning("m1", 3000, 0.25);
  short_features.features.pop_back();
  std::vector<WindowRecord> batch2 = {short_features};
  EXPECT_TRUE(sink->Write(batch2).IsInvalidArgument());
  EXPECT_EQ(Query("SELECT count(*) FROM scores")[0][0], "0");
  EXPECT_EQ(Query("SELECT count(*) FROM features")[0][0], "0");
  EXPECT_EQ(Query("SELECT count(*) FROM machines")[0][0], "0");
}

TEST_F(SqliteSinkTest, FailedTransactionRollsBack) {
  auto sink = OpenOrDie();
  ASSERT_NE(sink, nullptr);
  std::vector<WindowRecord> first = {Learning("m1", 1000, 0.25)};
  ASSERT_TRUE(sink->Write(first).ok());
  // A trigger makes the machines upsert fail after scores/features rows of
  // the batch were written: all of the batch must be rolled back.
  Exec(
      "CREATE TRIGGER no_m2 BEFORE INSERT ON machines WHEN NEW.id = 'm2' "
      "BEGIN SELECT RAISE(ABORT, 'refused'); END");
  std::vector<WindowRecord> batch = {Learning("m1", 2000, 0.25), Learning("m2", 2000, 0.5)};
  Status s = sink->Write(batch);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find(path_), std::string::npos) << s.message();
  EXPECT_EQ(Query("SELECT count(*) FROM scores")[0][0], "1");
  EXPECT_EQ(Query("SELECT count(*) FROM features")[0][0], "2");
  EXPECT_EQ(Query("SELECT windows FROM machines WHERE id = 'm1'")[0][0], "1");
  // The sink stays usable.
  std::vector<WindowRecord> next = {Learning("m1", 3000, 0.25)};
  EXPECT_TRUE(sink->Write(next).ok());
}

TEST_F(SqliteSinkTest, OtherSchemaVersionIsCorruption) {
  {
    auto sink = OpenOrDie();
    ASSERT_NE(sink, nullptr);
  }
  Exec("UPDATE meta SET value = '5' WHERE key = 'schema_version'");
  auto sink = OpenSqliteSink({path_});
  ASSERT_FALSE(sink.ok());
  EXPECT_TRUE(sink.status().IsCorruption()) << sink.status().ToString();
  EXPECT_NE(sink.status().message().find("schema version"), std::string::npos);
  auto reader = SqliteReader::Open(path_);
  ASSERT_FALSE(reader.ok());
  EXPECT_TRUE(reader.status().IsCorruption());
  EXPECT_TRUE(fs::exists(path_));  // never deleted: it is not ours to remove
}

TEST_F(SqliteSinkTest, ForeignDatabaseIsCorruptionAndUntouched) {
  Exec("CREATE TABLE customers(id INTEGER PRIMARY KEY, name TEXT)");
  auto sink = OpenSqliteSink({path_});
  ASSERT_FALSE(sink.ok());
  EXPECT_TRUE(sink.status().IsCorruption()) << sink.status().ToString();
  EXPECT_NE(sink.status().message().find("not a machine-health database"), std::string::npos);
  EXPECT_EQ(Query("SELECT count(*) FROM sqlite_schema")[0][0], "1");
  EXPECT_EQ(Query("PRAGMA journal_mode")[0][0], "delete");
}

TEST_F(SqliteSinkTest, NonSqliteFileIsCorruption) {
  {
    std::ofstream out(path_);
    out << "this is a text file, not a database, but long enough to have a header........\n";
  }
  auto sink = OpenSqliteSink({path_});
  ASSERT_FALSE(sink.ok());
  EXPECT_TRUE(sink.status().IsCorruption()) << sink.status().ToString();
  auto reader = SqliteReader::Open(path_);
  ASSERT_FALSE(reader.ok());
  EXPECT_TRUE(reader.status().IsCorruption()) << reader.status().ToString();
  EXPECT_TRUE(fs::exists(path_));
}

TEST_F(SqliteSinkTest, MissingDirectoryIsIOErrorAndLeavesNoFile) {
  const std::string path = dir_ + "/no/such/dir/m.db";
  auto sink = OpenSqliteSink({path});
  ASSERT_FALSE(sink.ok());
  EXPECT_TRUE(sink.status().IsIOError()) << sink.status().ToString();
  EXPECT_NE(sink.status().message().find(path), std::string::npos);
  EXPECT_FALSE(fs::exists(dir_ + "/no"));
}

TEST_F(SqliteSinkTest, UnwritableDirectoryIsIOErrorAndLeavesNoFile) {
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores directory permissions";
  const std::string ro = dir_ + "/ro";
  ASSERT_EQ(::mkdir(ro.c_str(), 0555), 0);
  auto sink = OpenSqliteSink({ro + "/m.db"});
  ASSERT_FALSE(sink.ok());
  EXPECT_TRUE(sink.status().IsIOError()) << sink.status().ToString();
  EXPECT_NE(sink.status().message().find(ro + "/m.db"), std::string::npos);
  EXPECT_TRUE(fs::is_empty(ro));
}

TEST_F(SqliteSinkTest, PathThroughRegularFileIsIOError) {
  { std::ofstream(dir_ + "/file") << "x"; }
  auto sink = OpenSqliteSink({dir_ + "/file/m.db"});
  ASSERT_FALSE(sink.ok());
  EXPECT_TRUE(sink.status().IsIOError()) << sink.status().ToString();
}

}  // namespace
}  // namespace mh::sink
