// machine-health export --what windows|rollups in-process (app::RunMain) on a
// database written by the SQLite sink: every value read back equal to what
// was written (features at float32 precision), rollups against a brute-force
// aggregate of the written windows, [--from, --to) bounds, empty ranges,
// standard output and the exit codes (1 data, 2 usage).
#include "export_cli_test.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/time_util.h"

namespace mh::app::test {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

std::int64_t Time(const json& cell) {
  auto t = ParseInstant(cell.get<std::string>());
  EXPECT_TRUE(t.ok()) << cell;
  return t.ok() ? *t : 0;
}

// NaN for null.
double Number(const json& cell) { return cell.is_null() ? NAN : cell.get<double>(); }

void ExpectSame(double want, const json& cell, const std::string& what) {
  if (std::isnan(want)) {
    EXPECT_TRUE(cell.is_null()) << what << ": " << cell;
  } else {
    ASSERT_TRUE(cell.is_number()) << what << ": " << cell;
    EXPECT_EQ(cell.get<double>(), want) << what;  // bit for bit
  }
}

TEST_F(ExportCliTest, WindowsReadBackAsWritten) {
  const std::string out = dir_ + "/w.jsonl";
  auto run = Export("m1", {"--what", "windows", "--out", out});
  ASSERT_EQ(run.code, kExitOk) << run.err;
  EXPECT_THAT(run.err, HasSubstr("exported 400 windows of 'm1'"));
  std::vector<json> rows = ReadJsonLines(out);
  ASSERT_EQ(rows.size(), static_cast<std::size_t>(kWindows));
  // Columns: the fixed ones, then set A's names, then what set B adds.
  std::vector<std::string> keys;
  for (auto it = rows[0].begin(); it != rows[0].end(); ++it) keys.push_back(it.key());
  // nlohmann::json sorts object keys; the file's order is checked on the CSV.
  EXPECT_EQ(keys.size(), 14u);
  for (int i = 0; i < kWindows; ++i) {
    SCOPED_TRACE("window " + std::to_string(i));
    const json& row = rows[static_cast<std::size_t>(i)];
    const sink::WindowRecord& r = M1(i);
    EXPECT_EQ(Time(row["timestamp"]), r.window_start_ns);
    EXPECT_EQ(row["machine_id"], "m1");
    ExpectSame(r.score, row["score"], "score");
    ExpectSame(r.score_samples, row["score_samples"], "score_samples");
    ExpectSame(r.state_score, row["state_score"], "state_score");
    ExpectSame(r.rms, row["rms"], "rms");
    EXPECT_EQ(row["state"], sink::MachineStateName(r.state));
    EXPECT_EQ(row["baseline_version"], r.baseline_version);
    if (i < kLearning) {
      EXPECT_TRUE(row["anomaly"].is_null());
      EXPECT_TRUE(row["threshold"].is_null());  // version 0: no baseline
    } else {
      EXPECT_EQ(row["anomaly"], r.anomaly ? 1 : 0);
      EXPECT_EQ(row["threshold"].get<double>(), threshold_);
    }
    const std::vector<std::string>& names = *r.feature_names;
    for (std::size_t f = 0; f < names.size(); ++f) {
      ExpectSame(F32(r.features[f]), row[names[f]], names[f]);
      EXPECT_NE(row[names[f]].get<double>(), r.features[f]) << "not rounded to float32?";
    }
    // The feature of the other set is null.
    EXPECT_TRUE(row[i < kSetChange ? "crest_factor_ax" : "skewness_ax"].is_null());
  }
}

TEST_F(ExportCliTest, CsvOnStandardOutputKeepsTheColumnOrder) {
  auto run = Export("m1", {"--out", "-"});
  ASSERT_EQ(run.code, kExitOk) << run.err;
  const std::string fixed =
      "timestamp,machine_id,score,score_samples,anomaly,state,state_score,threshold,"
      "baseline_version,rms,";
  // Set A's names in blob order, then what set B adds.
  EXPECT_EQ(run.out.substr(0, run.out.find('\n')),
            fixed + "rms_ax,kurtosis_ax,skewness_ax,crest_factor_ax");
  EXPECT_EQ(std::count(run.out.begin(), run.out.end(), '\n'), kWindows + 1);
  // The feature columns are those of the range's feature sets.
  run = Export("m1", {"--out", "-", "--to", std::to_string((kT0 + 2 * kStep) / 1000000)});
  ASSERT_EQ(run.code, kExitOk) << run.err;
  std::istringstream in(run.out);
  std::string header, line;
  ASSERT_TRUE(std::getline(in, header));
  EXPECT_EQ(header, fixed + "rms_ax,kurtosis_ax,skewness_ax");
  int rows = 0;
  while (std::getline(in, line)) ++rows;
  EXPECT_EQ(rows, 2);  // --to is exclusive
  EXPECT_THAT(run.out, HasSubstr("\n2026-09-21T14:13:20.000000000Z,m1,,,,learning,,,0,"));
}

// [--from, --to): the window at --from is in, the one at --to is out; RFC
// 3339 and epoch milliseconds alike.
TEST_F(ExportCliTest, TimeBoundsAreInclusiveExclusive) {
  const std::string out = dir_ + "/w.jsonl";
  const std::string from = FormatRfc3339(kT0 + 10 * kStep, 0);
  const std::string to = std::to_string((kT0 + 20 * kStep) / 1000000);
  auto run = Export("m1", {"--from", from, "--to", to, "--out", out});
  ASSERT_EQ(run.code, kExitOk) << run.err;
  std::vector<json> rows = ReadJsonLines(out);
  ASSERT_EQ(rows.size(), 10u);
  EXPECT_EQ(Time(rows.front()["timestamp"]), kT0 + 10 * kStep);
  EXPECT_EQ(Time(rows.back()["timestamp"]), kT0 + 19 * kStep);
  // The window a millisecond before --from is out.
  run = Export("m1",
               {"--from", FormatRfc3339(kT0 + 10 * kStep + 1000000, 3), "--to", to, "--out", out});
  ASSERT_EQ(run.code, kExitOk) << run.err;
  EXPECT_EQ(ReadJsonLines(out).size(), 9u);
}

TEST_F(ExportCliTest, AnEmptyRangeWritesOnlyTheHeader) {
  for (const std::string what : {"windows", "rollups"}) {
    SCOPED_TRACE(what);
    // After the data, and from == to inside it.
    for (const auto& [from, to] :
         {std::pair{FormatRfc3339(kT0 + 1000 * kStep), FormatRfc3339(kT0 + 2000 * kStep)},
          std::pair{FormatRfc3339(kT0 + 10 * kStep), FormatRfc3339(kT0 + 10 * kStep)}}) {
      auto run = Export("m1", {"--what", what, "--from", from, "--to", to, "--out", "-"});
      ASSERT_EQ(run.code, kExitOk) << run.err;
      EXPECT_EQ(std::count(run.out.begin(), run.out.end(), '\n'), 1) << run.out;
      EXPECT_THAT(run.out, HasSubstr(what == "windows" ? "timestamp,machine_id" : "bucket_start"));
    }
  }
}

// The brute-force aggregate of one (bucket, series).
struct Agg {
  std::int64_t count = 0, anomalies = 0;
  double min = INFINITY, max = -INFINITY, sum = 0;
  void Add(double v) {
    ++count;
    min = std::min(min, v);
    max = std::max(max, v);
    sum += v;
  }
};

TEST_F(ExportCliTest, RollupsEqualABruteForceAggregateOfTheWindows) {
  for (const auto& [resolution, width] : {std::pair{"1m", 60 * kSecond}, {"1h", 3600 * kSecond}}) {
    SCOPED_TRACE(resolution);
    std::map<std::pair<std::int64_t, std::string>, Agg> want;
    for (int i = 0; i < kWindows; ++i) {
      const sink::WindowRecord& r = M1(i);
      const std::int64_t b = r.window_start_ns / width * width;
      Agg& s = want[{b, "score"}];
      if (!std::isnan(r.score)) {
        s.Add(r.score);
        s.anomalies += r.anomaly ? 1 : 0;
      }
      want[{b, "rms"}].Add(r.rms);
      for (std::size_t f = 0; f < r.features.size(); ++f) {
        want[{b, (*r.feature_names)[f]}].Add(F32(r.features[f]));
      }
    }
    const std::string out = dir_ + "/r.jsonl";
    auto run = Export("m1", {"--what", "rollups", "--resolution", resolution, "--out", out});
    ASSERT_EQ(run.code, kExitOk) << run.err;
    std::vector<json> rows = ReadJsonLines(out);
    ASSERT_EQ(rows.size(), want.size());
    std::int64_t last = std::numeric_limits<std::int64_t>::min();
    for (const json& row : rows) {
      const std::int64_t b = Time(row["bucket_start"]);
      const std::string series = row["series"];
      SCOPED_TRACE(series + " @ " + FormatRfc3339(b));
      EXPECT_GE(b, last);
      last = b;
      EXPECT_EQ(row["machine_id"], "m1");
      EXPECT_EQ(row["resolution"], resolution);
      auto it = want.find({b, series});
      ASSERT_NE(it, want.end());
      const Agg& a = it->second;
      EXPECT_EQ(row["count"], a.count);
      if (a.count == 0) {
        EXPECT_TRUE(row["min"].is_null() && row["mean"].is_null() && row["max"].is_null());
      } else {
        EXPECT_EQ(Number(row["min"]), a.min);
        EXPECT_EQ(Number(row["max"]), a.max);
        EXPECT_NEAR(Number(row["mean"]), a.sum / a.count, 1e-12 * std::abs(a.sum / a.count));
      }
      if (series == "score") {
        EXPECT_EQ(row["anomalies"], a.anomalies);
      } else {
        EXPECT_TRUE(row["anomalies"].is_null());
      }
    }
  }
}

// --from/--to bound the bucket start: the bucket at --from is in (whole),
// the one starting at --to is out.
TEST_F(ExportCliTest, RollupBoundsAreBucketStarts) {
  const std::int64_t minute = 60 * kSecond;
  const std::int64_t first = (kT0 + 60 * kStep) / minute * minute;  // windows 59-61
  auto run = Export("m1", {"--what", "rollups", "--from", FormatRfc3339(first), "--to",
                           FormatRfc3339(first + 3 * minute), "--out", dir_ + "/r.jsonl"});
  ASSERT_EQ(run.code, kExitOk) << run.err;
  std::vector<json> rows = ReadJsonLines(dir_ + "/r.jsonl");
  ASSERT_FALSE(rows.empty());
  std::vector<std::int64_t> buckets;
  for (const json& row : rows) {
    if (row["series"] == "score") buckets.push_back(Time(row["bucket_start"]));
  }
  EXPECT_EQ(buckets, (std::vector<std::int64_t>{first, first + minute, first + 2 * minute}));
  for (const json& row : rows) {
    if (row["series"] == "score") {
      EXPECT_EQ(row["count"], 3);  // 20 s windows
    }
  }
}

TEST_F(ExportCliTest, BadArgumentsAreUsageErrors) {
  const std::string out = dir_ + "/x.csv";
  for (const std::vector<std::string>& extra : std::vector<std::vector<std::string>>{
           {"--what", "frames", "--out", out},
           {"--what", "rollups", "--resolution", "5m", "--out", out},
           {"--resolution", "1h", "--out", out},
           {"--out", dir_ + "/x.xlsx"},
           {"--out", out, "--format", "xml"},
           {"--out", "-", "--format", "parquet"},
           {"--from", "yesterday", "--out", out},
           {"--from", "2026-09-22T00:00:00Z", "--to", "2026-09-21T00:00:00Z", "--out", out},
           {"--snapshot", "3", "--out", out}}) {
    SCOPED_TRACE(extra[0] + " " + extra[1]);
    auto run = Export("m1", extra);
    EXPECT_EQ(run.code, kExitUsage) << run.err;
    EXPECT_THAT(run.err, HasSubstr("export: "));
    EXPECT_FALSE(std::filesystem::exists(out));
  }
  auto run = Export("m1", {"--out", out, "--from", "yesterday"});
  EXPECT_THAT(run.err, HasSubstr("--from: "));
}

TEST_F(ExportCliTest, AnUnknownMachineOrDatabaseIsADataError) {
  auto run = Export("m9", {"--out", dir_ + "/x.csv"});
  EXPECT_EQ(run.code, kExitFailure);
  EXPECT_THAT(run.err, HasSubstr("unknown machine 'm9'; machines: m1, m2"));
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/x.csv"));
  run = mh::testing::RunCli(
      {"export", "--db", dir_ + "/none.db", "--machine", "m1", "--out", dir_ + "/x.csv"});
  EXPECT_EQ(run.code, kExitFailure);
  EXPECT_THAT(run.err, HasSubstr("no such database"));
}

// Pages of 4,096 windows are written in order, none twice or lost.
TEST_F(ExportCliTest, ManyWindowsArePagedInOrder) {
  auto names = std::make_shared<const std::vector<std::string>>(SetA());
  std::vector<sink::WindowRecord> more;
  for (int i = 0; i < 10000; ++i) {
    sink::WindowRecord r;
    r.machine_id = "m3";
    r.window_start_ns = kT0 + std::int64_t{i} * 1000000;  // 1 ms apart
    r.feature_names = names;
    r.features = {static_cast<double>(i), 0, 1};
    more.push_back(r);
  }
  {
    auto sink = sink::OpenSqliteSink({db_});
    ASSERT_TRUE(sink.ok());
    ASSERT_TRUE((*sink)->Write(more).ok());
    ASSERT_TRUE((*sink)->Close().ok());
  }
  const std::string out = dir_ + "/m3.jsonl";
  auto run = Export("m3", {"--out", out});
  ASSERT_EQ(run.code, kExitOk) << run.err;
  std::vector<json> rows = ReadJsonLines(out);
  ASSERT_EQ(rows.size(), 10000u);
  for (int i = 0; i < 10000; ++i) {
    ASSERT_EQ(rows[static_cast<std::size_t>(i)]["rms_ax"].get<double>(), i) << i;
  }
}

}  // namespace
}  // namespace mh::app::test
