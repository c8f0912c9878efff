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
  // 1,441 buckets (the first starts before `from`: clamped), fewer than
  // 2,000 groups: one bucket per group, two points each.
  EXPECT_EQ(s->t_ns.size(), 2u * 1441);
  EXPECT_EQ(s->t_ns.front(), from);
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

}  // namespace
}  // namespace mh::sink::internal
