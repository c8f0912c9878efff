// Retention and the size budget on a simulated month (event time
// compressed: one window a minute per machine), and kill -9 during pruning
// and during a rollup flush.
#include "sink/sqlite/internal/retention.h"

#include <csignal>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sink/sqlite/internal/rollup.h"
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

}  // namespace
}  // namespace mh::sink::internal
