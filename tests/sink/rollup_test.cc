// Rollups against a brute-force reference: random windows of several machines
// and feature sets, out of order, late, and replaced (duplicates), written in
// batches through RollupWriter in the write transaction; every rollup row
// must equal the aggregate recomputed from the final windows.
#include "sink/sqlite/internal/rollup.h"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "sink/sqlite/internal/sqlite_util.h"
#include "testing/test_paths.h"
#include "v4_test_db.h"

namespace mh::sink::internal {
namespace {

using Window = TestWindow;

class RollupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = mh::testing::MakeTempDir("mh-rollup-test");
    ASSERT_FALSE(dir_.empty());
    path_ = dir_ + "/r.db";
    Status s = store_.Open(path_, true);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  void WriteBatch(const std::vector<Window>& batch) {
    Status s = store_.WriteBatch(batch);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  // Every rollup row equals the brute-force aggregate of `stored`, and
  // there is no other row.
  void ExpectRollupsMatch(const std::map<std::pair<std::int64_t, std::int64_t>, Window>& stored) {
    using Key = std::tuple<std::int64_t, std::int64_t, std::int64_t, std::int64_t>;
    std::map<Key, RollupAggregate> want;
    for (const auto& [k, w] : stored) {
      for (std::int64_t tier : kRollupTiers) {
        RollupWindow r{w.machine, w.set, w.t_ns, w.score, w.anomaly, w.rms, w.features};
        want[Key{tier, w.machine, BucketStart(w.t_ns, tier), w.set}].Add(r);
      }
    }
    auto rows = Stmt::Prepare(store_.db(),
                              "SELECT tier, machine, bucket_ns, feature_set, count, score_count, "
                              "score_min, score_max, score_sum, anomalies, rms_min, rms_max, "
                              "rms_sum, feat_min, feat_max, feat_sum FROM rollups");
    ASSERT_TRUE(rows.ok());
    sqlite3_stmt* s = rows->get();
    std::size_t seen = 0;
    while (sqlite3_step(s) == SQLITE_ROW) {
      ++seen;
      Key key{sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1), sqlite3_column_int64(s, 2),
              sqlite3_column_int64(s, 3)};
      auto it = want.find(key);
      ASSERT_NE(it, want.end()) << "unexpected rollup row tier " << std::get<0>(key) << " bucket "
                                << std::get<2>(key);
      const RollupAggregate& a = it->second;
      SCOPED_TRACE("tier " + std::to_string(std::get<0>(key)) + " machine " +
                   std::to_string(std::get<1>(key)) + " bucket " +
                   std::to_string(std::get<2>(key)));
      EXPECT_EQ(sqlite3_column_int64(s, 4), a.count);
      EXPECT_EQ(sqlite3_column_int64(s, 5), a.score_count);
      EXPECT_EQ(sqlite3_column_int64(s, 9), a.anomalies);
      if (a.score_count > 0) {
        EXPECT_EQ(sqlite3_column_double(s, 6), a.score_min);
        EXPECT_EQ(sqlite3_column_double(s, 7), a.score_max);
        EXPECT_NEAR(sqlite3_column_double(s, 8), a.score_sum, 1e-9 * (1 + std::fabs(a.score_sum)));
      } else {
        EXPECT_EQ(sqlite3_column_type(s, 6), SQLITE_NULL);
      }
      if (a.rms_count > 0) {
        EXPECT_EQ(sqlite3_column_double(s, 10), a.rms_min);
        EXPECT_EQ(sqlite3_column_double(s, 11), a.rms_max);
        EXPECT_NEAR(sqlite3_column_double(s, 12), a.rms_sum, 1e-9 * (1 + std::fabs(a.rms_sum)));
      } else {
        EXPECT_EQ(sqlite3_column_type(s, 10), SQLITE_NULL);
      }
      std::vector<float> mn, mx;
      ASSERT_TRUE(DecodeFloat32(sqlite3_column_blob(s, 13), sqlite3_column_bytes(s, 13), &mn));
      ASSERT_TRUE(DecodeFloat32(sqlite3_column_blob(s, 14), sqlite3_column_bytes(s, 14), &mx));
      ASSERT_EQ(static_cast<std::size_t>(sqlite3_column_bytes(s, 15)), 8 * a.feat_sum.size());
      std::vector<double> sum(a.feat_sum.size());
      if (!sum.empty()) std::memcpy(sum.data(), sqlite3_column_blob(s, 15), 8 * sum.size());
      ASSERT_EQ(mn, a.feat_min);
      ASSERT_EQ(mx, a.feat_max);
      for (std::size_t i = 0; i < sum.size(); ++i) {
        // Mean compared at float32: sums of float32 values in any order.
        EXPECT_EQ(static_cast<float>(sum[i] / a.count), static_cast<float>(a.feat_sum[i] / a.count))
            << "feature " << i;
      }
    }
    EXPECT_EQ(seen, want.size());
  }

  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::string dir_;
  std::string path_;
  V4TestDb store_;
};

TEST_F(RollupTest, BucketStartFloorsBeforeTheEpoch) {
  EXPECT_EQ(BucketStart(0, 60), 0);
  EXPECT_EQ(BucketStart(59'999'999'999, 60), 0);
  EXPECT_EQ(BucketStart(60'000'000'000, 60), 60'000'000'000);
  EXPECT_EQ(BucketStart(-1, 60), -60'000'000'000);
  EXPECT_EQ(BucketStart(-60'000'000'000, 3600), -3600'000'000'000);
}

TEST_F(RollupTest, RandomOutOfOrderLateAndReplacedWindowsMatchBruteForce) {
  std::mt19937_64 rng(16);
  std::uniform_real_distribution<double> unit(0, 1);
  std::normal_distribution<double> normal(0, 1);
  const std::int64_t kStart = 1'790'000'000LL * kNanosPerSecond;  // 2026
  const std::int64_t kSpan = 3 * 3600 * kNanosPerSecond;          // three hours
  std::map<std::pair<std::int64_t, std::int64_t>, Window> stored;
  std::vector<std::int64_t> times;
  for (int batch = 0; batch < 60; ++batch) {
    std::vector<Window> windows;
    const int n = 1 + static_cast<int>(unit(rng) * 200);
    for (int i = 0; i < n; ++i) {
      Window w;
      w.machine = 1 + static_cast<std::int64_t>(unit(rng) * 3);
      // Mostly advancing time, with out-of-order windows, late ones hours
      // back, and duplicates of stored windows (replacements).
      const double kind = unit(rng);
      if (kind < 0.15 && !times.empty()) {
        w.t_ns = times[static_cast<std::size_t>(unit(rng) * times.size())];
      } else if (kind < 0.25) {
        w.t_ns = kStart + static_cast<std::int64_t>(unit(rng) * kSpan);
      } else {
        w.t_ns = kStart + batch * kSpan / 60 + static_cast<std::int64_t>(unit(rng) * kSpan / 60);
      }
      w.t_ns -= w.t_ns % 20'000'000;  // 20 ms hop
      times.push_back(w.t_ns);
      // Machine 3 changes its feature set halfway (a new pipeline).
      w.set = (w.machine == 3 && batch >= 30) ? 2 : 1;
      const std::size_t features = w.set == 1 ? 5 : 3;
      w.score = unit(rng) < 0.2 ? NAN : normal(rng) * 0.1;
      w.anomaly = !std::isnan(w.score) && w.score < 0;
      w.rms = unit(rng) < 0.05 ? NAN : std::fabs(normal(rng));
      for (std::size_t f = 0; f < features; ++f) {
        w.features.push_back(static_cast<float>(normal(rng) * std::pow(10.0, f)));
      }
      windows.push_back(w);
    }
    WriteBatch(windows);
    for (const Window& w : windows) stored[{w.machine, w.t_ns}] = w;
  }
  ExpectRollupsMatch(stored);
}

TEST_F(RollupTest, AReplacementWithinOneBatchIsCountedOnce) {
  Window a{1, 1, 1'000 * kNanosPerSecond, 0.5, 2.0, false, {1.0f, 2.0f}};
  Window b = a;
  b.score = -0.25;
  b.anomaly = true;
  b.features = {-3.0f, 7.0f};
  WriteBatch({a, b});
  std::map<std::pair<std::int64_t, std::int64_t>, Window> stored{{{1, a.t_ns}, b}};
  ExpectRollupsMatch(stored);
  WriteBatch({a});  // back to a's values in a later batch: min/max shrink again
  stored[{1, a.t_ns}] = a;
  ExpectRollupsMatch(stored);
}

}  // namespace
}  // namespace mh::sink::internal
