// Property test of the server-side downsampling behind GET /api/series
// (SqliteReader::GetSeries): over a day of windows written by the real SQLite
// sink, random ranges and widths are read and every returned bucket is
// compared with a brute-force reference computed from the written values.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "sink/sqlite/sqlite_reader.h"
#include "sink/sqlite/sqlite_sink.h"
#include "testing/test_paths.h"

namespace mh::http {
namespace {

constexpr std::int64_t kSecond = 1'000'000'000;
constexpr std::int64_t kMinute = 60 * kSecond;
constexpr std::int64_t kDay = 24 * 60 * kMinute;
constexpr std::int64_t kStart = 1'790'000'000LL * kSecond / kDay * kDay;  // midnight UTC
constexpr std::int64_t kStep = 2 * kSecond;                               // one window per 2 s

class SeriesDownsamplingTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(mh::testing::MakeTempDir("mh-downsampling-test"));
    ASSERT_FALSE(dir_->empty());
    auto sink = sink::OpenSqliteSink({*dir_ + "/d.db"});
    ASSERT_TRUE(sink.ok()) << sink.status().ToString();
    auto names = std::make_shared<const std::vector<std::string>>(std::vector<std::string>{"k"});
    // Noise with rare deep dips and high spikes, so that a bucket's extremes
    // differ from its neighbours' and from a sample of it.
    std::mt19937_64 rng(20261207);
    std::normal_distribution<double> noise(0, 0.01);
    std::uniform_real_distribution<double> u(0, 1);
    t_ = new std::vector<std::int64_t>;
    score_ = new std::vector<double>;
    rms_ = new std::vector<double>;
    std::vector<sink::WindowRecord> batch;
    for (std::int64_t t = kStart; t < kStart + kDay; t += kStep) {
      sink::WindowRecord r;
      r.machine_id = "m1";
      r.window_start_ns = t;
      r.feature_names = names;
      r.features = {u(rng)};
      r.score = r.state_score = 0.1 + noise(rng) + (u(rng) < 0.002 ? -0.5 * u(rng) : 0.0);
      r.score_samples = -0.5;
      r.rms = 1 + noise(rng) + (u(rng) < 0.002 ? 3 * u(rng) : 0.0);
      r.threshold = 0;
      r.state = sink::MachineState::kNormal;
      t_->push_back(t);
      score_->push_back(r.score);
      rms_->push_back(r.rms);
      batch.push_back(std::move(r));
      if (batch.size() == 5000) {
        ASSERT_TRUE((*sink)->Write(batch).ok());
        batch.clear();
      }
    }
    ASSERT_TRUE((*sink)->Write(batch).ok());
    ASSERT_TRUE((*sink)->Close().ok());
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(*dir_);
    delete dir_;
    delete t_;
    delete score_;
    delete rms_;
  }
  void SetUp() override {
    auto reader = sink::SqliteReader::Open(*dir_ + "/d.db");
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();
    reader_ = std::move(reader).value();
  }

  // Brute force: min and max of the written values with from <= t < to.
  static std::pair<double, double> Extremes(const std::vector<double>& v, std::int64_t from,
                                            std::int64_t to) {
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    auto first = std::lower_bound(t_->begin(), t_->end(), from);
    auto last = std::lower_bound(t_->begin(), t_->end(), to);
    for (auto it = first; it != last; ++it) {
      const double x = v[it - t_->begin()];
      lo = std::min(lo, x);
      hi = std::max(hi, x);
    }
    return {lo, hi};
  }

  static std::string* dir_;
  static std::vector<std::int64_t>* t_;
  static std::vector<double>* score_;
  static std::vector<double>* rms_;
  std::unique_ptr<sink::SqliteReader> reader_;
};

std::string* SeriesDownsamplingTest::dir_ = nullptr;
std::vector<std::int64_t>* SeriesDownsamplingTest::t_ = nullptr;
std::vector<double>* SeriesDownsamplingTest::score_ = nullptr;
std::vector<double>* SeriesDownsamplingTest::rms_ = nullptr;

// Long ranges (more windows than points, at least max / 2 minutes) come as
// pairs (minimum at its bucket's start, maximum after it): each pair's
// values are the true minimum and maximum of the windows from its start to
// the next pair's start (the last to the range's end), and the pairs cover
// the range. Ranges start on a minute, as the stored buckets do.
TEST_F(SeriesDownsamplingTest, EveryBucketKeepsItsTrueMinimumAndMaximum) {
  std::mt19937_64 rng(17);
  const std::size_t widths[] = {2, 10, 200, 600, 1206, 2000};
  int checked_buckets = 0;
  for (int trial = 0; trial < 40; ++trial) {
    const std::size_t max = widths[trial % 6];
    const std::int64_t min_minutes = std::max<std::int64_t>(static_cast<std::int64_t>(max) / 2, 2);
    if (min_minutes > 24 * 60) continue;
    std::uniform_int_distribution<std::int64_t> span_minutes(min_minutes, 24 * 60);
    const std::int64_t span = span_minutes(rng) * kMinute;
    std::uniform_int_distribution<std::int64_t> start_minute(0, (kDay - span) / kMinute);
    const std::int64_t from = kStart + start_minute(rng) * kMinute, to = from + span;
    for (const auto& [metric, values] :
         {std::pair<std::string, const std::vector<double>*>{"score", score_}, {"rms", rms_}}) {
      SCOPED_TRACE(metric + " [" + std::to_string((from - kStart) / kMinute) + " min, +" +
                   std::to_string(span / kMinute) + " min) max " + std::to_string(max));
      auto s = reader_->GetSeries("m1", metric, from, to, max);
      ASSERT_TRUE(s.ok()) << s.status().ToString();
      ASSERT_LE(s->t_ns.size(), max);
      ASSERT_TRUE(std::is_sorted(s->t_ns.begin(), s->t_ns.end()));
      if (max == 1) continue;
      ASSERT_EQ(s->t_ns.size() % 2, 0u);
      ASSERT_GE(s->t_ns.size(), 2u);
      EXPECT_EQ(s->t_ns.front(), from);
      for (std::size_t k = 0; k < s->t_ns.size(); k += 2) {
        const std::int64_t b0 = s->t_ns[k];
        const std::int64_t b1 = k + 2 < s->t_ns.size() ? s->t_ns[k + 2] : to;
        const auto [lo, hi] = Extremes(*values, b0, b1);
        ASSERT_EQ(s->v[k], lo) << "bucket at +" << (b0 - from) / kMinute << " min";
        ASSERT_EQ(s->v[k + 1], hi) << "bucket at +" << (b0 - from) / kMinute << " min";
        ASSERT_GT(s->t_ns[k + 1], b0);
        ASSERT_LT(s->t_ns[k + 1], b1);
        ++checked_buckets;
      }
      const auto [lo, hi] = Extremes(*values, from, to);
      EXPECT_EQ(*std::min_element(s->v.begin(), s->v.end()), lo);
      EXPECT_EQ(*std::max_element(s->v.begin(), s->v.end()), hi);
    }
  }
  EXPECT_GT(checked_buckets, 10000);
}

// Up to `max` windows in range: every window as written.
TEST_F(SeriesDownsamplingTest, FewWindowsComeAsWritten) {
  std::mt19937_64 rng(5);
  for (int trial = 0; trial < 20; ++trial) {
    std::uniform_int_distribution<std::int64_t> start(0, kDay / kStep - 3000);
    std::uniform_int_distribution<std::int64_t> count(1, 2000);
    const std::int64_t i0 = start(rng), n = count(rng);
    const std::int64_t from = kStart + i0 * kStep, to = from + n * kStep;
    auto s = reader_->GetSeries("m1", "score", from, to, static_cast<std::size_t>(n));
    ASSERT_TRUE(s.ok());
    ASSERT_EQ(s->t_ns.size(), static_cast<std::size_t>(n));
    for (std::int64_t k = 0; k < n; ++k) {
      ASSERT_EQ(s->t_ns[k], (*t_)[i0 + k]);
      ASSERT_EQ(s->v[k], (*score_)[i0 + k]);
    }
  }
}

// Short dense ranges (more windows than `max` over less than max / 2
// minutes, e.g. 15 minutes of 10 windows/s on a 1,200-pixel chart) are
// reduced to each group's minimum and maximum window
// (sink/sqlite/internal/rollup_series.h): the range's extremes are drawn,
// every point is a stored window, in time order, at most `max` of them.
TEST_F(SeriesDownsamplingTest, ShortDenseRangesKeepTheirExtremes) {
  for (std::int64_t minutes : {5, 15, 40}) {
    for (std::size_t max : {90, 100, 101}) {  // over max / 2 minutes: rollups
      const std::int64_t from = kStart + 600 * kMinute, to = from + minutes * kMinute;
      auto s = reader_->GetSeries("m1", "score", from, to, max);
      ASSERT_TRUE(s.ok());
      SCOPED_TRACE(std::to_string(minutes) + " min, " + std::to_string(max) + " points");
      ASSERT_LE(s->v.size(), max);
      ASSERT_FALSE(s->v.empty());
      const auto [lo, hi] = Extremes(*score_, from, to);
      EXPECT_EQ(*std::min_element(s->v.begin(), s->v.end()), lo);
      EXPECT_EQ(*std::max_element(s->v.begin(), s->v.end()), hi);
      for (std::size_t k = 0; k < s->t_ns.size(); ++k) {
        if (k > 0) {
          ASSERT_LT(s->t_ns[k - 1], s->t_ns[k]);
        }
        auto it = std::lower_bound(t_->begin(), t_->end(), s->t_ns[k]);
        ASSERT_TRUE(it != t_->end() && *it == s->t_ns[k]);
        ASSERT_EQ(s->v[k], (*score_)[static_cast<std::size_t>(it - t_->begin())]);
      }
    }
  }
}

}  // namespace
}  // namespace mh::http
