// Rollups, retention and long-range reads through the public API: records
// written with OpenSqliteSink (out of order, late, duplicated), rollups
// compared with a brute-force aggregate of the records, the size budget and
// retention of the sink, and SqliteReader::GetSeries over 30 days.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include "sink/sqlite/sqlite_reader.h"
#include "sink/sqlite/sqlite_sink.h"
#include "testing/sqlite_query.h"
#include "testing/test_paths.h"

namespace mh::sink {
namespace {

constexpr std::int64_t kSecond = 1'000'000'000;
constexpr std::int64_t kMinute = 60 * kSecond;
constexpr std::int64_t kHour = 60 * kMinute;
constexpr std::int64_t kDay = 24 * kHour;
constexpr std::int64_t kStart = 1'790'000'000LL * kSecond / kDay * kDay;

const auto kNames = std::make_shared<const std::vector<std::string>>(
    std::vector<std::string>{"rms_ax", "kurtosis_ax", "crest_ax"});

std::int64_t Floor(std::int64_t t, std::int64_t width) { return t / width * width; }

std::uint64_t FileBytes(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
}

class SinkRollupsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = mh::testing::MakeTempDir("mh-sink-rollups");
    ASSERT_FALSE(dir_.empty());
    path_ = dir_ + "/r.db";
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::int64_t Query(const std::string& sql) { return mh::testing::QueryInt(path_, sql); }

  std::string dir_, path_;
};

struct Expected {
  std::int64_t count = 0, score_count = 0, anomalies = 0;
  double score_min = INFINITY, score_max = -INFINITY;
  std::map<std::string, std::pair<float, float>> minmax;
  std::map<std::string, double> sum;
};

TEST_F(SinkRollupsTest, RollupsOfOutOfOrderLateAndDuplicateRecordsMatchBruteForce) {
  SqliteOptions o;
  o.path = path_;
  o.window_retention = std::chrono::nanoseconds(0);
  auto sink = OpenSqliteSink(o);
  ASSERT_TRUE(sink.ok()) << sink.status().ToString();
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> unit(0, 1);
  std::normal_distribution<double> normal(0, 1);
  std::map<std::pair<std::string, std::int64_t>, WindowRecord> stored;
  std::vector<std::int64_t> times;
  for (int batch = 0; batch < 40; ++batch) {
    std::vector<WindowRecord> records;
    for (int i = 0; i < 100; ++i) {
      WindowRecord r;
      r.machine_id = "m" + std::to_string(1 + static_cast<int>(unit(rng) * 3));
      const double kind = unit(rng);
      if (kind < 0.15 && !times.empty()) {
        r.window_start_ns = times[static_cast<std::size_t>(unit(rng) * times.size())];
      } else if (kind < 0.25) {
        r.window_start_ns = kStart + static_cast<std::int64_t>(unit(rng) * 2 * kHour);
      } else {
        r.window_start_ns =
            kStart + batch * 3 * kMinute + static_cast<std::int64_t>(unit(rng) * 3 * kMinute);
      }
      r.window_start_ns = Floor(r.window_start_ns, 20'000'000);
      times.push_back(r.window_start_ns);
      r.feature_names = kNames;
      for (int f = 0; f < 3; ++f) r.features.push_back(normal(rng) * (f + 1));
      r.rms = std::fabs(normal(rng));
      if (unit(rng) < 0.8) {
        r.score = 0.1 * normal(rng);
        r.anomaly = r.score < 0;
        r.state = MachineState::kNormal;
      }
      records.push_back(r);
    }
    ASSERT_TRUE((*sink)->Write(records).ok());
    for (const WindowRecord& r : records) stored[{r.machine_id, r.window_start_ns}] = r;
  }
  ASSERT_TRUE((*sink)->Close().ok());

  std::map<std::tuple<std::int64_t, std::string, std::int64_t>, Expected> want;
  for (const auto& [key, r] : stored) {
    for (std::int64_t tier : {60, 3600}) {
      Expected& e = want[{tier, r.machine_id, Floor(r.window_start_ns, tier * kSecond)}];
      ++e.count;
      if (!std::isnan(r.score)) {
        ++e.score_count;
        e.anomalies += r.anomaly;
        e.score_min = std::min(e.score_min, r.score);
        e.score_max = std::max(e.score_max, r.score);
      }
      for (std::size_t f = 0; f < kNames->size(); ++f) {
        const float v = static_cast<float>(r.features[f]);
        auto [it, fresh] = e.minmax.try_emplace((*kNames)[f], v, v);
        it->second.first = std::min(it->second.first, v);
        it->second.second = std::max(it->second.second, v);
        e.sum[(*kNames)[f]] += v;
      }
    }
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db,
                               "SELECT r.tier, k.id, r.bucket_ns, r.count, r.score_count, "
                               "r.anomalies, r.score_min, r.score_max FROM rollups r JOIN "
                               "machine_keys k ON k.key = r.machine",
                               -1, &s, nullptr),
            SQLITE_OK);
  std::size_t rows = 0;
  while (sqlite3_step(s) == SQLITE_ROW) {
    ++rows;
    auto key =
        std::make_tuple(sqlite3_column_int64(s, 0),
                        std::string(reinterpret_cast<const char*>(sqlite3_column_text(s, 1))),
                        sqlite3_column_int64(s, 2));
    auto it = want.find(key);
    ASSERT_NE(it, want.end());
    EXPECT_EQ(sqlite3_column_int64(s, 3), it->second.count);
    EXPECT_EQ(sqlite3_column_int64(s, 4), it->second.score_count);
    EXPECT_EQ(sqlite3_column_int64(s, 5), it->second.anomalies);
    if (it->second.score_count > 0) {
      EXPECT_EQ(sqlite3_column_double(s, 6), it->second.score_min);
      EXPECT_EQ(sqlite3_column_double(s, 7), it->second.score_max);
    }
  }
  sqlite3_finalize(s);
  EXPECT_EQ(rows, want.size());
  // The features through the rollup_features view (plain SQL decode).
  ASSERT_EQ(sqlite3_prepare_v2(db,
                               "SELECT tier, machine_id, bucket_ns, name, min, mean, max, count "
                               "FROM rollup_features",
                               -1, &s, nullptr),
            SQLITE_OK);
  std::size_t values = 0;
  while (sqlite3_step(s) == SQLITE_ROW) {
    ++values;
    auto key =
        std::make_tuple(sqlite3_column_int64(s, 0),
                        std::string(reinterpret_cast<const char*>(sqlite3_column_text(s, 1))),
                        sqlite3_column_int64(s, 2));
    const Expected& e = want.at(key);
    const std::string name(reinterpret_cast<const char*>(sqlite3_column_text(s, 3)));
    EXPECT_EQ(sqlite3_column_double(s, 4), e.minmax.at(name).first);
    EXPECT_EQ(static_cast<float>(sqlite3_column_double(s, 5)),
              static_cast<float>(e.sum.at(name) / e.count));
    EXPECT_EQ(sqlite3_column_double(s, 6), e.minmax.at(name).second);
    EXPECT_EQ(sqlite3_column_int64(s, 7), e.count);
  }
  sqlite3_finalize(s);
  sqlite3_close(db);
  EXPECT_EQ(values, want.size() * kNames->size());
}

WindowRecord Window(const std::string& id, std::int64_t t_ns, double score) {
  WindowRecord r;
  r.machine_id = id;
  r.window_start_ns = t_ns;
  r.feature_names = kNames;
  r.features = {0.5 + score, 3.0, 1.5 - score};
  r.rms = 0.5;
  r.score = score;
  r.anomaly = score < 0;
  r.state = MachineState::kNormal;
  return r;
}

TEST_F(SinkRollupsTest, TheSinkPrunesByAgeAndSizeAndLongChartsReadRollups) {
  SqliteOptions o;
  o.path = path_;
  o.window_retention = std::chrono::hours(12);
  o.max_db_size = 2u << 20;
  auto sink = OpenSqliteSink(o);
  ASSERT_TRUE(sink.ok()) << sink.status().ToString();
  // 10 days of 4 machines, a window every minute (the 1-minute rollups
  // alone outgrow the budget); one dip on day 3.
  constexpr std::int64_t kDays = 5;
  for (std::int64_t minute = 0; minute < kDays * 1440; minute += 180) {
    std::vector<WindowRecord> batch;
    for (std::int64_t k = minute; k < minute + 180; ++k) {
      for (int m = 1; m <= 4; ++m) {
        batch.push_back(Window("m" + std::to_string(m), kStart + k * kMinute,
                               k == 3 * 1440 + 7 ? -0.75 : 0.1 + 0.001 * (k % 50)));
      }
    }
    ASSERT_TRUE((*sink)->Write(batch).ok());
    ASSERT_LE(FileBytes(path_) + FileBytes(path_ + "-wal"), o.max_db_size * 105 / 100)
        << "minute " << minute;
  }
  ASSERT_TRUE((*sink)->Close().ok());
  const std::int64_t newest = kStart + (kDays * 1440 - 1) * kMinute;
  EXPECT_EQ(Query("SELECT max(t_ns) FROM windows"), newest);
  EXPECT_GE(Query("SELECT min(t_ns) FROM windows"), newest - 12 * kHour);
  EXPECT_EQ(Query("SELECT sum(count) FROM rollups WHERE tier = 3600"), 4 * kDays * 1440);
  EXPECT_GT(Query("SELECT min(bucket_ns) FROM rollups WHERE tier = 60"), kStart);  // by size

  auto reader = SqliteReader::Open(path_);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  auto month = (*reader)->GetSeries("m2", "score", kStart, newest + 1, 1000);
  ASSERT_TRUE(month.ok()) << month.status().ToString();
  EXPECT_LE(month->t_ns.size(), 1000u);
  EXPECT_EQ(month->t_ns.size(), 2u * kDays * 24);  // min and max per hour
  EXPECT_EQ(*std::min_element(month->v.begin(), month->v.end()), -0.75);
  auto feature = (*reader)->GetSeries("m2", "crest_ax", kStart, newest + 1, 1000);
  ASSERT_TRUE(feature.ok()) << feature.status().ToString();
  EXPECT_EQ(*std::max_element(feature->v.begin(), feature->v.end()),
            static_cast<double>(static_cast<float>(1.5 + 0.75)));
  // The last 10 minutes (never pruned by size): the windows themselves.
  auto recent = (*reader)->GetSeries("m2", "score", newest - 10 * kMinute + 1, newest + 1, 1000);
  ASSERT_TRUE(recent.ok());
  EXPECT_EQ(recent->t_ns.size(), 10u);
  EXPECT_EQ(recent->t_ns.back(), newest);
}

}  // namespace
}  // namespace mh::sink
