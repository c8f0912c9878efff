// Long-range series from the rollups: the tier fits the range, at most
// max_points points, and the extremes of the range survive.
#include "sink/sqlite/internal/rollup_series.h"

#include <algorithm>
#include <filesystem>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "sink/sqlite/internal/rollup.h"
#include "testing/test_paths.h"
#include "v4_test_db.h"

namespace mh::sink::internal {
namespace {

constexpr std::int64_t kMinute = 60 * kNanosPerSecond;
constexpr std::int64_t kDay = 24 * 60 * kMinute;
constexpr std::int64_t kStart = 1'790'000'000LL * kNanosPerSecond / kDay * kDay;

class RollupSeriesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = mh::testing::MakeTempDir("mh-rollup-series-test");
    ASSERT_FALSE(dir_.empty());
    ASSERT_TRUE(store_.Open(dir_ + "/s.db", true).ok());
    ASSERT_TRUE(store_.db()
                    .Exec("INSERT INTO feature_set_columns VALUES(1, 0, 'a'), (1, 1, 'b')", "fs")
                    .ok());
    // 30 days, one window a minute; one deep score dip and one feature peak.
    std::mt19937_64 rng(7);
    std::normal_distribution<double> normal(0, 1);
    std::vector<TestWindow> batch;
    for (std::int64_t m = 0; m < 30 * 24 * 60; ++m) {
      TestWindow w;
      w.t_ns = kStart + m * kMinute;
      w.score = 0.1 + 0.01 * normal(rng);
      w.rms = 1 + 0.1 * normal(rng);
      w.features = {static_cast<float>(normal(rng)), static_cast<float>(normal(rng))};
      if (m == 12'345) w.score = -0.5;
      if (m == 33'333) w.features[1] = 50.0f;
      scores_.push_back(w.score);
      b_.push_back(w.features[1]);
      batch.push_back(w);
      if (batch.size() == 1000) {
        ASSERT_TRUE(store_.WriteBatch(batch).ok());
        batch.clear();
      }
    }
    ASSERT_TRUE(store_.WriteBatch(batch).ok());
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::string dir_;
  V4TestDb store_;
  std::vector<double> scores_;
  std::vector<float> b_;
};

TEST_F(RollupSeriesTest, ThirtyDaysReadHourlyBucketsAndKeepThePeaks) {
  const std::int64_t from = kStart, to = kStart + 30 * kDay;
  auto tier = ChooseTier(store_.db(), "s.db", 1, from, to);
  ASSERT_TRUE(tier.ok());
  EXPECT_EQ(*tier, 3600);
  auto s = ReadRollupSeries(store_.db(), "s.db", 1, "score", *tier, from, to, 600);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_LE(s->t_ns.size(), 600u);
  EXPECT_EQ(s->t_ns.size(), 600u);  // 720 hours in 300 groups
  EXPECT_TRUE(std::is_sorted(s->t_ns.begin(), s->t_ns.end()));
  EXPECT_EQ(std::adjacent_find(s->t_ns.begin(), s->t_ns.end()), s->t_ns.end());
  EXPECT_GE(s->t_ns.front(), from);
  EXPECT_LT(s->t_ns.back(), to);
  EXPECT_EQ(*std::min_element(s->v.begin(), s->v.end()), -0.5);
  EXPECT_EQ(*std::max_element(s->v.begin(), s->v.end()),
            *std::max_element(scores_.begin(), scores_.end()));
  auto f = ReadRollupSeries(store_.db(), "s.db", 1, "b", *tier, from, to, 600);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(*std::max_element(f->v.begin(), f->v.end()), 50.0);
  EXPECT_EQ(*std::min_element(f->v.begin(), f->v.end()),
            static_cast<double>(*std::min_element(b_.begin(), b_.end())));
}

TEST_F(RollupSeriesTest, ADayReadsMinuteBuckets) {
  const std::int64_t from = kStart + 8 * kDay + 7 * kMinute + 5, to = from + kDay;
  auto tier = ChooseTier(store_.db(), "s.db", 1, from, to);
  ASSERT_TRUE(tier.ok());
  EXPECT_EQ(*tier, 60);
  auto s = ReadRollupSeries(store_.db(), "s.db", 1, "rms", 60, from, to, 4000);
  ASSERT_TRUE(s.ok());
  // The 1,440 buckets that start in the range, fewer than 2,000 groups: one
  // bucket per group, two points each.
  EXPECT_EQ(s->t_ns.size(), 2u * 1440);
  EXPECT_EQ(s->t_ns.front(), from - 5 + kMinute);
  auto one = ReadRollupSeries(store_.db(), "s.db", 1, "rms", 60, from, to, 1);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->t_ns.size(), 1u);
  auto fewer = ReadRollupSeries(store_.db(), "s.db", 1, "rms", 60, from, to, 1000);
  ASSERT_TRUE(fewer.ok());
  EXPECT_EQ(fewer->t_ns.size(), 1000u);
}

TEST_F(RollupSeriesTest, PrunedMinuteRollupsFallBackToHours) {
  ASSERT_TRUE(store_.db()
                  .Exec(("DELETE FROM rollups WHERE tier = 60 AND bucket_ns < " +
                         std::to_string(kStart + 2 * kDay))
                            .c_str(),
                        "prune")
                  .ok());
  auto tier = ChooseTier(store_.db(), "s.db", 1, kStart + kDay, kStart + 2 * kDay + kDay / 2);
  ASSERT_TRUE(tier.ok());
  EXPECT_EQ(*tier, 3600);
  auto has = HasRollupsIn(store_.db(), "s.db", 1, kStart, kStart + kDay);
  ASSERT_TRUE(has.ok());
  EXPECT_TRUE(*has);
}

TEST_F(RollupSeriesTest, GetSeriesPicksWindowsOrRollupsByRange) {
  // 30 days: rollups, at most max_points, the dip kept.
  auto month = ReadSeriesV4(store_.db(), "s.db", 1, "score", kStart, kStart + 30 * kDay, 600);
  ASSERT_TRUE(month.ok()) << month.status().ToString();
  EXPECT_EQ(month->t_ns.size(), 600u);
  EXPECT_EQ(*std::min_element(month->v.begin(), month->v.end()), -0.5);
  // Two hours (120 windows, fewer than max_points): every window as stored.
  const std::int64_t from = kStart + 3 * kDay;
  auto hours = ReadSeriesV4(store_.db(), "s.db", 1, "b", from, from + 120 * kMinute, 600);
  ASSERT_TRUE(hours.ok()) << hours.status().ToString();
  ASSERT_EQ(hours->t_ns.size(), 120u);
  for (std::size_t i = 0; i < 120; ++i) {
    EXPECT_EQ(hours->t_ns[i], from + static_cast<std::int64_t>(i) * kMinute);
    EXPECT_EQ(hours->v[i], static_cast<double>(b_[3 * 1440 + i]));
  }
  auto state = ReadSeriesV4(store_.db(), "s.db", 1, "state_score", from, from + 60 * kMinute, 10);
  ASSERT_TRUE(state.ok());
  // 60 windows on 10 points: each group's minimum and maximum (one point
  // where they are one window), and the latest window.
  EXPECT_LE(state->t_ns.size(), 10u);
  EXPECT_GE(state->t_ns.size(), 5u);
  EXPECT_EQ(state->t_ns.front(), from);
  EXPECT_EQ(state->t_ns.back(), from + 59 * kMinute);  // the latest kept
}

// Writes `n` windows of `machine` `step_ns` apart from `from`: score and
// feature b noise with rare deep dips and high spikes; returns them.
std::vector<TestWindow> WriteDense(V4TestDb& store, std::int64_t machine, std::int64_t from,
                                   std::int64_t step_ns, int n) {
  std::mt19937_64 rng(static_cast<std::uint64_t>(machine));
  std::normal_distribution<double> normal(0, 1);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<TestWindow> all, batch;
  for (int i = 0; i < n; ++i) {
    TestWindow w;
    w.machine = machine;
    w.t_ns = from + i * step_ns;
    w.score = 0.1 + 0.01 * normal(rng) + (u(rng) < 0.001 ? -1 - u(rng) : 0);
    w.rms = 1;
    w.features = {0, static_cast<float>(normal(rng) + (u(rng) < 0.001 ? 40 * u(rng) : 0))};
    all.push_back(w);
    batch.push_back(w);
    if (batch.size() == 10'000) {
      EXPECT_TRUE(store.WriteBatch(batch).ok());
      batch.clear();
    }
  }
  EXPECT_TRUE(store.WriteBatch(batch).ok());
  return all;
}

// Every stretch of time the series is drawn in ((max - 1) / 2 equal ones
// from the first window to the latest, which is in the last) keeps its true
// minimum and maximum, at their times, and the latest window ends the series.
void ExpectExtremesOfEveryStretch(const Series& s, const std::vector<TestWindow>& w,
                                  std::size_t max_points, bool feature) {
  ASSERT_LE(s.t_ns.size(), max_points);
  ASSERT_TRUE(std::is_sorted(s.t_ns.begin(), s.t_ns.end()));
  const std::size_t groups = (max_points - 1) / 2;
  const std::int64_t first = w.front().t_ns;
  const std::int64_t width = (w.back().t_ns - first) / static_cast<std::int64_t>(groups);
  auto value = [&](const TestWindow& x) {
    return feature ? static_cast<double>(x.features[1]) : x.score;
  };
  std::size_t checked = 0;
  for (std::size_t g = 0; g < groups; ++g) {
    const std::int64_t lo_t = first + static_cast<std::int64_t>(g) * width;
    const TestWindow* lo = nullptr;
    const TestWindow* hi = nullptr;
    for (const TestWindow& x : w) {
      const bool last_stretch = g + 1 == groups;
      if (x.t_ns < lo_t || (!last_stretch && x.t_ns >= lo_t + width)) continue;
      if (lo == nullptr || value(x) < value(*lo)) lo = &x;
      if (hi == nullptr || value(x) > value(*hi)) hi = &x;
    }
    if (lo == nullptr) continue;
    for (const TestWindow* x : {lo, hi}) {
      const auto it = std::lower_bound(s.t_ns.begin(), s.t_ns.end(), x->t_ns);
      ASSERT_TRUE(it != s.t_ns.end() && *it == x->t_ns) << "stretch " << g << " t " << x->t_ns;
      EXPECT_EQ(s.v[static_cast<std::size_t>(it - s.t_ns.begin())], value(*x)) << "stretch " << g;
      ++checked;
    }
  }
  EXPECT_GE(checked, 2 * groups - 2);
  EXPECT_EQ(s.t_ns.back(), w.back().t_ns);
}

TEST_F(RollupSeriesTest, DenseShortRangesKeepTheExtremesOfEveryStretch) {
  // Machine 2: 50 windows a second for an hour (180,000 windows), drawn on
  // 1,000 and on 201 points (under 2 minutes per pair of points, too fine
  // for the 1-minute rollups): every window is read.
  const std::int64_t from = kStart + 40 * kDay;
  const std::int64_t to = from + 60 * kMinute;
  const std::vector<TestWindow> w = WriteDense(store_, 2, from, 20'000'000, 180'000);
  for (std::size_t max_points : {1000u, 201u}) {
    for (const char* metric : {"score", "b"}) {
      auto s = ReadSeriesV4(store_.db(), "s.db", 2, metric, from, to, max_points);
      ASSERT_TRUE(s.ok()) << s.status().ToString();
      SCOPED_TRACE(std::string(metric) + " on " + std::to_string(max_points));
      ExpectExtremesOfEveryStretch(*s, w, max_points, metric[0] == 'b');
      EXPECT_GT(s->t_ns.size(), max_points - 10);
    }
  }
}

TEST_F(RollupSeriesTest, RangesTooDenseToReadKeepEveryMinutesExtremesFromTheRollups) {
  // Machine 3: 50 windows a second for 100 minutes (300,000 windows, more
  // than kMaxScanRows) on 1,000 points: the 1-minute rollups, whose
  // minimum and maximum of every minute are the windows' own.
  static_assert(kMaxScanRows < 300'000);
  const std::int64_t from = kStart + 41 * kDay;
  const std::int64_t to = from + 100 * kMinute;
  const std::vector<TestWindow> w = WriteDense(store_, 3, from, 20'000'000, 300'000);
  auto s = ReadSeriesV4(store_.db(), "s.db", 3, "score", from, to, 1000);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_EQ(s->t_ns.size(), 200u);  // 100 minutes, min and max each
  for (int m = 0; m < 100; ++m) {
    double lo = 1e9, hi = -1e9;
    for (int i = m * 3000; i < (m + 1) * 3000; ++i) {
      lo = std::min(lo, w[static_cast<std::size_t>(i)].score);
      hi = std::max(hi, w[static_cast<std::size_t>(i)].score);
    }
    EXPECT_EQ(s->v[2 * static_cast<std::size_t>(m)], lo) << "minute " << m;
    EXPECT_EQ(s->v[2 * static_cast<std::size_t>(m) + 1], hi) << "minute " << m;
  }
  // state_score has no rollups: sampled by time, the latest window last.
  auto state = ReadSeriesV4(store_.db(), "s.db", 3, "state_score", from, to, 1000);
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->t_ns.size(), 1000u);
  EXPECT_EQ(state->t_ns.back(), w.back().t_ns);
}

TEST_F(RollupSeriesTest, PrunedWindowsAreDrawnFromTheRollups) {
  ASSERT_TRUE(
      store_.db()
          .Exec(("DELETE FROM windows WHERE t_ns < " + std::to_string(kStart + 10 * kDay)).c_str(),
                "prune")
          .ok());
  const std::int64_t from = kStart + 2 * kDay;
  auto s = ReadSeriesV4(store_.db(), "s.db", 1, "score", from, from + 60 * kMinute, 600);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->t_ns.size(), 120u);  // 60 one-minute buckets, min and max each
  EXPECT_EQ(s->t_ns.front(), from);
}

}  // namespace
}  // namespace mh::sink::internal
