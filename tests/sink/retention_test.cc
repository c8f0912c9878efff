// Retention and the size budget on a simulated month (event time
// compressed: one window a minute per machine), and kill -9 during pruning
// and during a rollup flush: of the test store (V4TestDb, signalled around
// the step), and of the SQLite sink `run` writes through, stopped inside the
// transaction by an SQLite trace hook and killed there.
#include "sink/sqlite/internal/retention.h"

#include <csignal>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sink/sqlite/internal/rollup.h"
#include "sink/sqlite/sqlite_sink.h"
#include "testing/sqlite_query.h"
#include "testing/test_paths.h"
#include "v4_test_db.h"

namespace mh::sink::internal {
namespace {

constexpr std::int64_t kMinute = 60 * kNanosPerSecond;
constexpr std::int64_t kHour = 60 * kMinute;
constexpr std::int64_t kDay = 24 * kHour;
constexpr std::int64_t kStart = 1'790'000'000LL * kNanosPerSecond / kDay * kDay;  // a midnight

std::uint64_t FileBytes(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
}

// One window a minute for each of `machines` machines at minute `minute`.
std::vector<TestWindow> MinuteOfWindows(int machines, std::int64_t minute, std::size_t features,
                                        std::mt19937_64& rng) {
  std::normal_distribution<double> normal(0, 1);
  std::vector<TestWindow> out;
  for (int m = 1; m <= machines; ++m) {
    TestWindow w;
    w.machine = m;
    w.t_ns = kStart + minute * kMinute;
    w.score = 0.1 + 0.05 * normal(rng);
    w.anomaly = w.score < 0;
    w.rms = std::fabs(normal(rng));
    for (std::size_t f = 0; f < features; ++f)
      w.features.push_back(static_cast<float>(normal(rng)));
    out.push_back(std::move(w));
  }
  return out;
}

class RetentionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = mh::testing::MakeTempDir("mh-retention-test");
    ASSERT_FALSE(dir_.empty());
    path_ = dir_ + "/r.db";
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::int64_t Query(const std::string& sql) { return mh::testing::QueryInt(path_, sql); }

  std::string dir_;
  std::string path_;
};

TEST_F(RetentionTest, WindowsAndRollupsOlderThanTheirRetentionGo) {
  V4TestDb store;
  ASSERT_TRUE(store.Open(path_, true).ok());
  RetentionPolicy policy;
  policy.window_retention_ns = 2 * kHour;
  policy.rollup_1m_retention_ns = 6 * kHour;
  policy.rollup_1h_retention_ns = 10 * kHour;
  policy.rows_per_transaction = 100;
  auto pruner = Pruner::Create(store.db(), path_, policy);
  ASSERT_TRUE(pruner.ok()) << pruner.status().ToString();
  std::mt19937_64 rng(1);
  for (std::int64_t minute = 0; minute < 24 * 60; ++minute) {
    ASSERT_TRUE(store.WriteBatch(MinuteOfWindows(2, minute, 4, rng)).ok());
    auto stats = pruner->Run(1000);
    ASSERT_TRUE(stats.ok()) << stats.status().ToString();
    EXPECT_LE(stats->windows + stats->rollups, 1000 + policy.rows_per_transaction);
  }
  const std::int64_t newest = kStart + (24 * 60 - 1) * kMinute;
  EXPECT_EQ(Query("SELECT min(t_ns) FROM windows"), newest - 2 * kHour);
  EXPECT_EQ(Query("SELECT count(*) FROM windows"), 2 * (2 * 60 + 1));
  EXPECT_EQ(Query("SELECT min(bucket_ns) FROM rollups WHERE tier = 60"), newest - 6 * kHour);
  EXPECT_EQ(Query("SELECT min(bucket_ns) FROM rollups WHERE tier = 3600"),
            BucketStart(newest - 10 * kHour, 3600) + kHour);
  // Every kept 1-hour bucket before the last counts its 60 windows, also the
  // ones whose windows were pruned.
  EXPECT_EQ(Query("SELECT count(*) FROM rollups WHERE tier = 3600 AND count != 60"), 0);
  EXPECT_GE(Query("SELECT value FROM meta WHERE key = 'windows_pruned_before'"),
            newest - 2 * kHour);
}

TEST_F(RetentionTest, ASimulatedMonthStaysWithinTheSizeBudget) {
  V4TestDb store;
  ASSERT_TRUE(store.Open(path_, true).ok());
  // Alarms (with long explanations) are never pruned.
  std::string alarms = "BEGIN;";
  for (int i = 0; i < 200; ++i) {
    alarms += "INSERT INTO alarms(id, machine_id, start_ns, explanation_text) VALUES('a" +
              std::to_string(i) + "', 'm1', " + std::to_string(kStart + i * kHour) +
              ", hex(zeroblob(1000)));";
  }
  alarms += "COMMIT;";
  ASSERT_TRUE(store.db().Exec(alarms.c_str(), "alarms").ok());

  RetentionPolicy policy;
  policy.window_retention_ns = 7 * kDay;
  policy.rollup_1m_retention_ns = 90 * kDay;
  policy.rollup_1h_retention_ns = 5 * 365 * kDay;
  policy.max_db_size = 6u << 20;
  policy.rows_per_transaction = 1000;
  auto pruner = Pruner::Create(store.db(), path_, policy);
  ASSERT_TRUE(pruner.ok()) << pruner.status().ToString();
  const int kMachines = 3;
  const std::int64_t kMinutes = 30 * 24 * 60;
  std::mt19937_64 rng(2);
  std::uint64_t worst = 0;
  std::int64_t pruned_windows = 0;
  for (std::int64_t minute = 0; minute < kMinutes; minute += 60) {
    std::vector<TestWindow> batch;
    for (std::int64_t k = minute; k < minute + 60; ++k) {
      auto one = MinuteOfWindows(kMachines, k, 16, rng);
      batch.insert(batch.end(), one.begin(), one.end());
    }
    ASSERT_TRUE(store.WriteBatch(batch).ok());
    auto stats = pruner->Run(4 * static_cast<std::int64_t>(batch.size()) + 1000);
    ASSERT_TRUE(stats.ok()) << stats.status().ToString();
    pruned_windows += stats->windows;
    const std::uint64_t bytes = FileBytes(path_) + FileBytes(path_ + "-wal");
    worst = std::max(worst, bytes);
    ASSERT_LE(bytes, policy.max_db_size * 105 / 100) << "at minute " << minute;
  }
  std::printf("worst file + wal: %llu bytes of a %llu budget; %lld windows pruned\n",
              static_cast<unsigned long long>(worst),
              static_cast<unsigned long long>(policy.max_db_size),
              static_cast<long long>(pruned_windows));
  EXPECT_GT(pruned_windows, 0);
  const std::int64_t newest = kStart + (kMinutes - 1) * kMinute;
  EXPECT_EQ(Query("SELECT max(t_ns) FROM windows"), newest);
  // The newest 10 minutes of every machine survive.
  EXPECT_EQ(
      Query("SELECT count(*) FROM windows WHERE t_ns > " + std::to_string(newest - 10 * kMinute)),
      kMachines * 10);
  EXPECT_EQ(Query("SELECT count(*) FROM alarms"), 200);
  // The 1-hour rollups of the whole month remain, each counting its windows
  // exactly once, also where the windows and 1-minute rollups are gone.
  EXPECT_EQ(Query("SELECT count(*) FROM rollups WHERE tier = 3600"), kMachines * 30 * 24);
  EXPECT_EQ(Query("SELECT sum(count) FROM rollups WHERE tier = 3600"), kMachines * kMinutes);
  EXPECT_LT(Query("SELECT min(bucket_ns) FROM rollups WHERE tier = 60"), newest - kDay);
  EXPECT_EQ(mh::testing::QueryText(path_, "PRAGMA integrity_check"), "ok");
}

// The child writes minutes of windows with pruning on and tells the parent,
// through a pipe, when it is about to flush rollups or to prune; the parent
// kills it right then.
int g_signal_fd = -1;
void SignalFlush() {
  char c = 'f';
  (void)!::write(g_signal_fd, &c, 1);
}

[[noreturn]] void WriteForever(const std::string& path, int fd) {
  g_signal_fd = fd;
  V4TestDb store;
  if (!store.Open(path, false).ok()) ::_exit(3);
  RetentionPolicy policy;
  policy.window_retention_ns = 3 * kHour;
  policy.max_db_size = 3u << 20;
  policy.rows_per_transaction = 500;
  auto pruner = Pruner::Create(store.db(), path, policy);
  if (!pruner.ok()) ::_exit(4);
  std::mt19937_64 rng(3);
  // A restarted writer goes on after the newest stored window.
  const std::int64_t newest = mh::testing::QueryInt(
      path, "SELECT coalesce(max(t_ns), " + std::to_string(kStart - kMinute) + ") FROM windows");
  for (std::int64_t minute = (newest - kStart) / kMinute + 1;; minute += 5) {
    std::vector<TestWindow> batch;
    for (std::int64_t k = minute; k < minute + 5; ++k) {
      auto one = MinuteOfWindows(4, k, 16, rng);
      batch.insert(batch.end(), one.begin(), one.end());
    }
    if (!store.WriteBatch(batch, &SignalFlush).ok()) ::_exit(5);
    char c = 'p';
    (void)!::write(fd, &c, 1);
    if (!pruner->Run(2000).ok()) ::_exit(6);
  }
}

void KillDuring(const std::string& path, char when, int after) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(fds[0]);
    WriteForever(path, fds[1]);
  }
  ::close(fds[1]);
  int seen = 0;
  char c;
  while (::read(fds[0], &c, 1) == 1) {
    if (c == when && ++seen == after) {
      ::kill(pid, SIGKILL);
      break;
    }
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ::close(fds[0]);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);
}

void ExpectRollupsCountStoredWindows(const std::string& path) {
  ASSERT_EQ(mh::testing::QueryText(path, "PRAGMA integrity_check"), "ok");
  const std::int64_t cut = mh::testing::QueryInt(
      path, "SELECT coalesce((SELECT value FROM meta WHERE key = 'windows_pruned_before'), 0)");
  // Buckets entirely kept: the rollup counts every stored window once.
  for (std::int64_t tier : kRollupTiers) {
    const std::string t = std::to_string(tier);
    const std::string w = std::to_string(tier * kNanosPerSecond);
    EXPECT_EQ(mh::testing::QueryInt(
                  path, "SELECT count(*) FROM (SELECT machine, t_ns - (t_ns % " + w +
                            ") AS b, count(*) AS n FROM windows GROUP BY machine, b) s LEFT JOIN "
                            "rollups r ON r.tier = " +
                            t + " AND r.machine = s.machine AND r.bucket_ns = s.b WHERE s.b >= " +
                            std::to_string(cut) + " AND (r.count IS NULL OR r.count != s.n)"),
              0)
        << "tier " << t;
    // Pruned buckets, wholly before the cut, kept every window: 4 machines
    // write one window a minute each.
    EXPECT_EQ(
        mh::testing::QueryInt(path, "SELECT count(*) FROM rollups WHERE tier = " + t +
                                        " AND bucket_ns + " + w + " <= " + std::to_string(cut) +
                                        " AND count != " + std::to_string(tier / 60)),
        0)
        << "tier " << t;
  }
}

TEST_F(RetentionTest, KillDuringPruningLeavesConsistentRollups) {
  {
    V4TestDb store;
    ASSERT_TRUE(store.Open(path_, true).ok());
  }
  // Pruning by age starts after 3 simulated hours (36 batches of 5 minutes).
  for (int round = 0; round < 3; ++round) {
    KillDuring(path_, 'p', 60 + 25 * round);
    ExpectRollupsCountStoredWindows(path_);
    if (HasFatalFailure()) return;
  }
  EXPECT_GT(Query("SELECT value FROM meta WHERE key = 'windows_pruned_before'"), 0);
}

TEST_F(RetentionTest, KillDuringARollupFlushLosesTheWholeBatch) {
  {
    V4TestDb store;
    ASSERT_TRUE(store.Open(path_, true).ok());
  }
  for (int round = 0; round < 3; ++round) {
    KillDuring(path_, 'f', 50 + 20 * round);
    ExpectRollupsCountStoredWindows(path_);
    if (HasFatalFailure()) return;
  }
}

// The SQLite sink (OpenSqliteSink, as `run` uses it) in a child process:
// every connection the child opens gets a trace hook (sqlite3_auto_extension)
// that, when the `g_stop_countdown`-th statement starting with
// `g_stop_prefix` has finished having changed rows, tells the parent and
// waits; the parent kills it there, inside the transaction of that
// statement (its COMMIT comes later).
int g_stop_fd = -1;
const char* g_stop_prefix = "";
int g_stop_countdown = 0;

int StopAfterStatement(unsigned type, void*, void* stmt_pointer, void*) {
  if (type != SQLITE_TRACE_PROFILE) return 0;
  auto* stmt = static_cast<sqlite3_stmt*>(stmt_pointer);
  const char* text = sqlite3_sql(stmt);
  if (text != nullptr && std::strncmp(text, g_stop_prefix, std::strlen(g_stop_prefix)) == 0 &&
      sqlite3_changes(sqlite3_db_handle(stmt)) > 0 && --g_stop_countdown == 0) {
    char c = 'k';
    (void)!::write(g_stop_fd, &c, 1);
    for (;;) ::pause();  // until SIGKILL
  }
  return 0;
}

int InstallStopHook(sqlite3* db, char**, const sqlite3_api_routines*) {
  sqlite3_trace_v2(db, SQLITE_TRACE_PROFILE, &StopAfterStatement, nullptr);
  return SQLITE_OK;
}

[[noreturn]] void SinkWriteUntilStopped(const std::string& path, int fd, const char* prefix,
                                        int countdown) {
  g_stop_fd = fd;
  g_stop_prefix = prefix;
  g_stop_countdown = countdown;
  // A restarted writer goes on after the newest stored window (read before
  // the hook: this query is not the sink's).
  const std::int64_t newest =
      std::filesystem::exists(path)
          ? mh::testing::QueryInt(path, "SELECT coalesce(max(t_ns), " +
                                            std::to_string(kStart - kMinute) + ") FROM windows")
          : kStart - kMinute;
  sqlite3_auto_extension(reinterpret_cast<void (*)()>(&InstallStopHook));
  SqliteOptions options;
  options.path = path;
  options.window_retention = std::chrono::hours(3);
  options.max_db_size = 0;
  options.prune_rows_per_transaction = 500;
  auto sink = OpenSqliteSink(options);
  if (!sink.ok()) ::_exit(3);
  std::vector<std::string> names;
  for (int f = 0; f < 16; ++f) names.push_back("f" + std::to_string(f));
  auto shared = std::make_shared<const std::vector<std::string>>(names);
  std::mt19937_64 rng(5);
  std::normal_distribution<double> normal(0, 1);
  std::int64_t minute = (newest - kStart) / kMinute + 1;
  // 2,000 batches without reaching the statement: the hook is broken.
  for (int batch = 0; batch < 2000; ++batch, minute += 5) {
    std::vector<WindowRecord> records;
    for (std::int64_t k = minute; k < minute + 5; ++k) {
      for (int m = 1; m <= 4; ++m) {
        WindowRecord r;
        r.machine_id = "m" + std::to_string(m);
        r.window_start_ns = kStart + k * kMinute;
        r.feature_names = shared;
        for (int f = 0; f < 16; ++f) r.features.push_back(normal(rng));
        r.rms = std::fabs(normal(rng));
        r.score = 0.1 + 0.05 * normal(rng);
        r.anomaly = r.score < 0;
        r.state = MachineState::kNormal;
        records.push_back(std::move(r));
      }
    }
    if (!(*sink)->Write(records).ok()) ::_exit(5);
  }
  ::_exit(7);
}

// Runs the child until it stops at the statement, then kills it there.
void KillSinkAt(const std::string& path, const char* prefix, int countdown) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(fds[0]);
    SinkWriteUntilStopped(path, fds[1], prefix, countdown);
  }
  ::close(fds[1]);
  char c = 0;
  const bool stopped = ::read(fds[0], &c, 1) == 1;  // EOF: the child exited
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ::close(fds[0]);
  ASSERT_TRUE(stopped && WIFSIGNALED(status))
      << "child exited with " << (WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

// Every stored minute holds the windows of all 4 machines (no batch stored
// in part), and every machine the same number of windows (no pruning
// transaction applied in part).
void ExpectWholeBatchesAndPrunes(const std::string& path) {
  EXPECT_EQ(mh::testing::QueryInt(path,
                                  "SELECT count(*) FROM (SELECT t_ns, count(*) AS n FROM windows "
                                  "GROUP BY t_ns) WHERE n != 4"),
            0);
  EXPECT_EQ(
      mh::testing::QueryInt(path,
                            "SELECT (max(t_ns) - min(t_ns)) / 60000000000 + 1 - count(DISTINCT "
                            "t_ns) FROM windows"),
      0);
  EXPECT_EQ(mh::testing::QueryInt(path,
                                  "SELECT count(DISTINCT n) FROM (SELECT machine, count(*) AS n "
                                  "FROM windows GROUP BY machine)"),
            1);
}

TEST_F(RetentionTest, SinkKilledInsideAPruningTransactionKeepsConsistentRollups) {
  // Pruning by age starts after 3 simulated hours (37 batches of 5
  // minutes); each batch's pruning transaction then deletes the oldest
  // windows machine by machine. Stop after a DELETE that deleted (the
  // first, second, third machine's): the other machines' windows are not
  // deleted yet, the transaction is open.
  for (int round = 0; round < 3; ++round) {
    KillSinkAt(path_, "DELETE FROM windows", 4 * (3 + 5 * round) + 1 + round);
    if (HasFatalFailure()) return;
    ExpectRollupsCountStoredWindows(path_);
    ExpectWholeBatchesAndPrunes(path_);
    if (HasFatalFailure()) return;
    // The killed transaction's deletions were rolled back: the 5 minutes it
    // was deleting are still there beside the 3 hours kept.
    EXPECT_EQ(Query("SELECT (max(t_ns) - min(t_ns)) / 60000000000 FROM windows"), 3 * 60 + 5);
  }
  EXPECT_GT(Query("SELECT value FROM meta WHERE key = 'windows_pruned_before'"), 0);
}

TEST_F(RetentionTest, SinkKilledInsideARollupFlushLosesTheWholeBatch) {
  // A batch of 5 minutes x 4 machines upserts about 24 rollup rows before
  // COMMIT; stop at one in the middle of a flush, after its windows are
  // inserted in the same transaction.
  std::int64_t windows_before = 0;
  for (int round = 0; round < 3; ++round) {
    KillSinkAt(path_, "INSERT INTO rollups", 24 * (4 + 3 * round) + 11);
    if (HasFatalFailure()) return;
    ExpectRollupsCountStoredWindows(path_);
    ExpectWholeBatchesAndPrunes(path_);
    if (HasFatalFailure()) return;
    const std::int64_t windows = Query("SELECT count(*) FROM windows");
    EXPECT_GT(windows, windows_before);  // the committed batches stayed
    EXPECT_EQ(windows % 20, 0);          // whole batches of 20 windows only
    windows_before = windows;
  }
}

}  // namespace
}  // namespace mh::sink::internal
