// Rollups against a brute-force reference: random windows of several machines
// and feature sets, out of order, late, and replaced (duplicates), written in
// batches through RollupWriter in the write transaction; every rollup row
// must equal the aggregate recomputed from the final windows.
#include "sink/sqlite/internal/rollup.h"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
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

// The SQL decode against the C++ values: random bit patterns (all exponents),
// subnormals, signed zeros, extremes; NaN and infinity decode to NULL.
TEST_F(RollupTest, SqlDecodeOfFloat32AndFloat64IsExact) {
  std::mt19937_64 rng(32);
  std::vector<double> doubles = {0.0,
                                 -0.0,
                                 1.0,
                                 -2.5,
                                 std::numeric_limits<double>::denorm_min(),
                                 -std::numeric_limits<double>::denorm_min(),
                                 std::numeric_limits<double>::min(),
                                 std::numeric_limits<double>::max(),
                                 -std::numeric_limits<double>::max(),
                                 2.2250738585072009e-308,  // largest subnormal
                                 std::numeric_limits<double>::infinity(),
                                 NAN};
  std::vector<float> floats = {0.0f,
                               -0.0f,
                               1.0f,
                               -2.5f,
                               std::numeric_limits<float>::denorm_min(),
                               std::numeric_limits<float>::min(),
                               std::numeric_limits<float>::max(),
                               -std::numeric_limits<float>::max(),
                               1.1754942e-38f,  // subnormal
                               std::numeric_limits<float>::infinity(),
                               NAN};
  for (int i = 0; i < 3000; ++i) {
    std::uint64_t bits = rng();
    double d;
    std::memcpy(&d, &bits, 8);
    doubles.push_back(d);
    std::uint32_t b32 = static_cast<std::uint32_t>(rng());
    float f;
    std::memcpy(&f, &b32, 4);
    floats.push_back(f);
  }
  Db& db = store_.db();
  ASSERT_TRUE(db.Exec("CREATE TABLE blobs(f BLOB, d BLOB)", "create").ok());
  {
    auto put = Stmt::Prepare(db, "INSERT INTO blobs VALUES(?1, ?2)");
    ASSERT_TRUE(put.ok());
    std::string fb = EncodeFloat32(floats);
    std::string db64(doubles.size() * 8, '\0');
    std::memcpy(db64.data(), doubles.data(), db64.size());
    sqlite3_bind_blob(put->get(), 1, fb.data(), static_cast<int>(fb.size()), SQLITE_STATIC);
    sqlite3_bind_blob(put->get(), 2, db64.data(), static_cast<int>(db64.size()), SQLITE_STATIC);
    ASSERT_EQ(sqlite3_step(put->get()), SQLITE_DONE);
  }
  auto check = [&](int width, std::size_t n, auto value_at) {
    const std::string sql =
        "SELECT " +
        DecodeIeeeSql(width == 4 ? "f" : "d", std::to_string(width) + " * ?1 + 1", width) +
        " FROM blobs";
    auto q = Stmt::Prepare(db, sql.c_str());
    ASSERT_TRUE(q.ok()) << q.status().ToString();
    for (std::size_t i = 0; i <= n; ++i) {  // i == n: past the end
      sqlite3_bind_int64(q->get(), 1, static_cast<std::int64_t>(i));
      ASSERT_EQ(sqlite3_step(q->get()), SQLITE_ROW);
      const double want = i < n ? value_at(i) : NAN;
      if (!std::isfinite(want)) {
        EXPECT_EQ(sqlite3_column_type(q->get(), 0), SQLITE_NULL) << "width " << width << " #" << i;
      } else {
        const double got = sqlite3_column_double(q->get(), 0);
        EXPECT_EQ(got, want) << "width " << width << " #" << i;
        EXPECT_EQ(std::signbit(got), std::signbit(want)) << "width " << width << " #" << i;
      }
      sqlite3_reset(q->get());
    }
  };
  check(4, floats.size(), [&](std::size_t i) { return static_cast<double>(floats[i]); });
  check(8, doubles.size(), [&](std::size_t i) { return doubles[i]; });
}

TEST_F(RollupTest, TheRollupFeaturesViewDecodesMinMeanMax) {
  Db& db = store_.db();
  ASSERT_TRUE(db.Exec("INSERT INTO feature_set_columns VALUES(1, 0, 'a'), (1, 1, 'b')", "fs").ok());
  std::vector<Window> windows;
  for (int i = 0; i < 3; ++i) {
    windows.push_back(Window{1,
                             1,
                             (100 + i) * kNanosPerSecond,
                             0.1,
                             1.0,
                             false,
                             {static_cast<float>(i) * 0.1f, -1e-40f * static_cast<float>(i + 1)}});
  }
  WriteBatch(windows);
  auto q = Stmt::Prepare(db,
                         "SELECT name, min, mean, max, count, machine_id FROM rollup_features "
                         "WHERE tier = 60 ORDER BY name");
  ASSERT_TRUE(q.ok());
  ASSERT_EQ(sqlite3_step(q->get()), SQLITE_ROW);
  EXPECT_EQ(ColumnText(q->get(), 0), "a");
  EXPECT_EQ(sqlite3_column_double(q->get(), 1), 0.0);
  EXPECT_EQ(sqlite3_column_double(q->get(), 2),
            (0.0 + static_cast<double>(0.1f) + static_cast<double>(0.2f)) / 3);
  EXPECT_EQ(sqlite3_column_double(q->get(), 3), static_cast<double>(0.2f));
  EXPECT_EQ(sqlite3_column_int64(q->get(), 4), 3);
  EXPECT_EQ(ColumnText(q->get(), 5), "m1");
  ASSERT_EQ(sqlite3_step(q->get()), SQLITE_ROW);
  EXPECT_EQ(ColumnText(q->get(), 0), "b");
  // Subnormal float32 values, decoded exactly.
  EXPECT_EQ(sqlite3_column_double(q->get(), 1), static_cast<double>(windows[2].features[1]));
  EXPECT_EQ(sqlite3_column_double(q->get(), 3), static_cast<double>(windows[0].features[1]));
}

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
