// The replayer against the prototype's rules, re-implemented in Python with
// pandas at test time (feature selection, unit guess, round-robin ids,
// batches), plus pacing with a fake clock and bad-value handling.
#include "replay/replayer.h"

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "csv/csv_reader.h"
#include "replay/table_file.h"
#include "replay_test_util.h"
#include "testing/test_paths.h"

namespace mh::replay {
namespace {

using testing::CapturePublisher;
using testing::FakeClock;

constexpr const char* kTable =
    "sensor,ts,a,b,label,c\n"
    "m1,1761523205,0.5,1,x,-2.25\n"
    "m2,1761523205123,1.5,2,y,3.0\n"
    "m1,1761523205123456,2.5,3,z,4.5e-3\n"
    "m3,1761523205123456789,3.5,4,w,5\n"
    "m2,1500000,4.5,5,v,6\n"
    "m1,999999,5.5,6,u,7\n"
    "m1,12,6.5,7,t,8\n";

// The prototype's documented replay rules, written for this test.
constexpr const char* kReference = R"PY(
import json, sys
import pandas as pd
path, keys, count, ids, sensor_col, ts_col, batch = sys.argv[1:8]
keys = [k for k in keys.split(",") if k]
count = int(count)
ids = [s for s in ids.split(",") if s]
batch = int(batch)
df = pd.read_csv(path)
if keys:
    cols = keys
else:
    cols = [c for c in df.columns if pd.api.types.is_numeric_dtype(df[c])]
    if count > 0:
        cols = cols[:count]
sizes = []
for start in range(0, len(df), batch):
    part = df.iloc[start:start + batch]
    sizes.append(len(part))
    for i, (_, row) in enumerate(part.iterrows()):
        idx = start + i
        sensor = str(row[sensor_col]) if sensor_col else ids[idx % len(ids)]
        ts = None
        if ts_col:
            ts = float(row[ts_col])
            if ts > 1e12: ts = ts / 1e9
            elif ts > 1e9: ts = ts / 1e3
            elif ts > 1e6: ts = ts / 1e6
        ev = {"sensor_id": sensor, "timestamp": ts}
        for n, c in enumerate(cols, start=1):
            ev["feature_%d" % n] = float(row[c])
        print(json.dumps(ev))
print("BATCHES " + " ".join(str(s) for s in sizes))
)PY";

class ReplayerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = mh::testing::MakeTempDir("mh-replay");
    ASSERT_FALSE(dir_.empty());
    std::ofstream(dir_ + "/table.csv") << kTable;
    std::ofstream(dir_ + "/ref.py") << kReference;
  }

  TableOpener Opener(const std::string& text, csv::CsvOptions csv = {}) {
    return [text, csv]() { return csv::OpenCsvTableFromBuffer(text, csv); };
  }

  // Events and batch sizes from the Python reference.
  void Reference(const std::string& keys, int count, const std::string& ids,
                 const std::string& sensor_col, const std::string& ts_col, int batch,
                 std::vector<nlohmann::json>* events, std::vector<std::size_t>* sizes) {
    std::string out;
    auto q = [](const std::string& s) { return "'" + s + "'"; };
    const std::string cmd = mh::testing::ReferencePython() + " " + dir_ + "/ref.py " + dir_ +
                            "/table.csv " + q(keys) + " " + std::to_string(count) + " " + q(ids) +
                            " " + q(sensor_col) + " " + q(ts_col) + " " + std::to_string(batch);
    ASSERT_EQ(mh::testing::RunCommand(cmd, &out), 0) << cmd;
    std::istringstream in(out);
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("BATCHES ", 0) == 0) {
        std::istringstream b(line.substr(8));
        std::size_t n;
        while (b >> n) sizes->push_back(n);
      } else {
        events->push_back(nlohmann::json::parse(line));
      }
    }
  }

  // Runs the replayer and compares with the reference.
  void Compare(ReplayOptions o, const std::string& keys, int count, const std::string& ids,
               const std::string& sensor_col, const std::string& ts_col) {
    std::vector<nlohmann::json> want;
    std::vector<std::size_t> want_sizes;
    Reference(keys, count, ids, sensor_col, ts_col, static_cast<int>(o.batch), &want, &want_sizes);
    FakeClock clock;
    CapturePublisher pub;
    o.delay_s = 0;
    auto stats = Replay(Opener(kTable), o, pub, clock);
    ASSERT_TRUE(stats.ok()) << stats.status().ToString();
    const auto got = pub.Events();
    ASSERT_EQ(got.size(), want.size());
    std::vector<std::size_t> sizes;
    for (const auto& b : pub.batches) sizes.push_back(b.size());
    EXPECT_EQ(sizes, want_sizes);
    for (std::size_t i = 0; i < got.size(); ++i) {
      ASSERT_EQ(got[i].size(), want[i].size()) << got[i].dump() << " vs " << want[i].dump();
      for (auto it = want[i].begin(); it != want[i].end(); ++it) {
        if (it.key() == "timestamp" && it.value().is_null()) {
          EXPECT_EQ(got[i]["timestamp"].get<double>(), static_cast<double>(clock.wall_ns) / 1e9);
        } else if (it.value().is_string()) {
          EXPECT_EQ(got[i][it.key()], it.value()) << "event " << i << " key " << it.key();
        } else {
          EXPECT_EQ(got[i][it.key()].get<double>(), it.value().get<double>())
              << "event " << i << " key " << it.key();
        }
      }
    }
    EXPECT_EQ(stats->events, static_cast<std::int64_t>(want.size()));
  }

  std::string dir_;
};

TEST_F(ReplayerTest, AllNumericColumnsRoundRobinIds) {
  ReplayOptions o;
  o.sensor_ids = {"s1", "s2", "s3"};
  o.batch = 3;
  Compare(o, "", 0, "s1,s2,s3", "", "");
}

TEST_F(ReplayerTest, FeatureKeysSensorColumnAndPrototypeUnitGuessByName) {
  // The table's ts column mixes units: only the prototype's rule, asked for
  // by name, reads it (value by value, as the Python reference does).
  ReplayOptions o;
  o.feature_keys = {"a", "c"};
  o.sensor_id_column = "sensor";
  o.timestamp_column = "ts";
  o.timestamp_unit = TimestampUnit::kPrototype;
  o.batch = 2;
  Compare(o, "a,c", 0, "sim-1", "sensor", "ts");
}

TEST_F(ReplayerTest, FeatureCountTakesFirstNumericColumns) {
  ReplayOptions o;
  o.feature_count = 2;
  o.sensor_ids = {"only"};
  o.batch = 100;
  Compare(o, "", 2, "only", "", "");
}

TEST_F(ReplayerTest, KeepNamesUsesColumnNames) {
  FakeClock clock;
  CapturePublisher pub;
  ReplayOptions o;
  o.feature_keys = {"c", "a"};
  o.keep_names = true;
  o.delay_s = 0;
  ASSERT_TRUE(Replay(Opener(kTable), o, pub, clock).ok());
  const auto ev = pub.Events();
  ASSERT_EQ(ev.size(), 7u);
  EXPECT_EQ(ev[0]["c"].get<double>(), -2.25);
  EXPECT_EQ(ev[0]["a"].get<double>(), 0.5);
  EXPECT_FALSE(ev[0].contains("feature_1"));
}

TEST_F(ReplayerTest, AutoSelectionSkipsSensorAndTimestampColumns) {
  FakeClock clock;
  CapturePublisher pub;
  ReplayOptions o;
  o.timestamp_column = "ts";
  o.timestamp_unit = TimestampUnit::kPrototype;  // the column mixes units
  o.sensor_id_column = "b";                      // a numeric column used as the id
  o.delay_s = 0;
  ASSERT_TRUE(Replay(Opener(kTable), o, pub, clock).ok());
  const auto ev = pub.Events();
  ASSERT_EQ(ev.size(), 7u);
  EXPECT_EQ(ev[0].size(), 4u);  // sensor_id, timestamp, a, c
  EXPECT_EQ(ev[0]["feature_1"].get<double>(), 0.5);
  EXPECT_EQ(ev[0]["feature_2"].get<double>(), -2.25);
  EXPECT_EQ(ev[1]["sensor_id"], "2");
}

TEST_F(ReplayerTest, DelayBetweenBatchesNotAfterTheLast) {
  FakeClock clock;
  CapturePublisher pub;
  pub.clock = &clock;
  ReplayOptions o;
  o.batch = 3;
  o.delay_s = 0.5;
  const std::int64_t t0 = clock.mono_ns;
  ASSERT_TRUE(Replay(Opener(kTable), o, pub, clock).ok());
  ASSERT_EQ(pub.batches.size(), 3u);  // 3 + 3 + 1
  EXPECT_EQ(clock.sleeps, (std::vector<std::int64_t>{t0 + 500'000'000, t0 + 1'000'000'000}));
}

TEST_F(ReplayerTest, RatePacesEvents) {
  FakeClock clock;
  CapturePublisher pub;
  pub.clock = &clock;
  ReplayOptions o;
  o.batch = 2;
  o.rate = 4;  // events per second: batch k of 2 due at k * 0.5 s
  const std::int64_t t0 = clock.mono_ns;
  ASSERT_TRUE(Replay(Opener(kTable), o, pub, clock).ok());
  EXPECT_EQ(pub.publish_times, (std::vector<std::int64_t>{t0, t0 + 500'000'000, t0 + 1'000'000'000,
                                                          t0 + 1'500'000'000}));
}

TEST_F(ReplayerTest, SpeedFollowsTimestamps) {
  const std::string table = "t,v\n100,1\n100,2\n101,3\n104,4\n102,5\n";
  FakeClock clock;
  CapturePublisher pub;
  pub.clock = &clock;
  ReplayOptions o;
  o.timestamp_column = "t";
  o.timestamp_unit = TimestampUnit::kSeconds;
  o.speed = 2;
  o.batch = 10;
  const std::int64_t t0 = clock.mono_ns;
  ASSERT_TRUE(Replay(Opener(table), o, pub, clock).ok());
  // Events at the same instant share a batch; a row earlier than the one
  // before it (out of order) goes with the batch in progress.
  std::vector<std::size_t> sizes;
  for (const auto& b : pub.batches) sizes.push_back(b.size());
  EXPECT_EQ(sizes, (std::vector<std::size_t>{2, 1, 2}));
  EXPECT_EQ(pub.publish_times,
            (std::vector<std::int64_t>{t0, t0 + 500'000'000, t0 + 2'000'000'000}));
}

TEST_F(ReplayerTest, LoopRestartsRoundRobinAndStopsAtLimit) {
  FakeClock clock;
  CapturePublisher pub;
  ReplayOptions o;
  o.loop = true;
  o.max_events = 10;
  o.delay_s = 0;
  o.feature_keys = {"a"};
  o.sensor_ids = {"x", "y"};
  auto stats = Replay(Opener(kTable), o, pub, clock);
  ASSERT_TRUE(stats.ok());
  const auto ev = pub.Events();
  ASSERT_EQ(ev.size(), 10u);
  EXPECT_EQ(stats->passes, 1);
  EXPECT_EQ(ev[6]["sensor_id"], "x");  // row 7 of pass 1
  EXPECT_EQ(ev[7]["sensor_id"], "x");  // row 1 of pass 2
  EXPECT_EQ(ev[7]["feature_1"].get<double>(), 0.5);
}

TEST_F(ReplayerTest, NonNumberIsAnErrorNamingRowAndColumn) {
  FakeClock clock;
  CapturePublisher pub;
  ReplayOptions o;
  o.feature_keys = {"a", "label"};
  o.source_name = "table.csv";
  auto stats = Replay(Opener(kTable), o, pub, clock);
  ASSERT_FALSE(stats.ok());
  EXPECT_TRUE(stats.status().IsInvalidArgument());
  const std::string& m = stats.status().message();
  EXPECT_NE(m.find("table.csv: row 1, column 'label'"), std::string::npos) << m;
  EXPECT_NE(m.find("'x' is not a number"), std::string::npos) << m;
}

TEST_F(ReplayerTest, MissingAndNanValuesAreBadNeverZero) {
  const std::string table = "v,w\n1,2\n,3\nnan,4\n5,6\n";
  FakeClock clock;
  ReplayOptions o;
  o.delay_s = 0;
  {
    CapturePublisher pub;
    auto stats = Replay(Opener(table), o, pub, clock);
    ASSERT_FALSE(stats.ok());
    EXPECT_NE(stats.status().message().find("row 2, column 'v': value is missing"),
              std::string::npos)
        << stats.status().message();
  }
  o.on_bad = OnBad::kSkip;
  CapturePublisher pub;
  auto stats = Replay(Opener(table), o, pub, clock);
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->skipped_rows, 2);
  EXPECT_EQ(stats->rows, 4);
  const auto ev = pub.Events();
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0]["feature_1"].get<double>(), 1.0);
  EXPECT_EQ(ev[1]["feature_1"].get<double>(), 5.0);
}

TEST_F(ReplayerTest, BadCellsFromCsvAreSkippedWhenAsked) {
  csv::CsvOptions c;
  c.infer_rows = 1;
  c.bad_cells_as_null = true;
  FakeClock clock;
  CapturePublisher pub;
  ReplayOptions o;
  o.on_bad = OnBad::kSkip;
  o.delay_s = 0;
  auto stats = Replay(Opener("v\n1\nabc\n3\n", c), o, pub, clock);
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->events, 2);
  EXPECT_EQ(stats->skipped_rows, 1);
}

TEST_F(ReplayerTest, WaveformWindowsPerSensor) {
  const std::string table =
      "id,t,ax,ay\n"
      "m1,10,1,10\nm2,20,5,50\nm1,11,2,20\nm1,12,3,30\nm2,21,6,60\nm1,13,4,40\nm2,22,7,70\n";
  FakeClock clock;
  CapturePublisher pub;
  ReplayOptions o;
  o.waveform_channels = {"ax", "ay"};
  o.fs_hz = 100;
  o.window_samples = 2;
  o.sensor_id_column = "id";
  o.timestamp_column = "t";
  o.timestamp_unit = TimestampUnit::kSeconds;
  o.delay_s = 0;
  auto stats = Replay(Opener(table), o, pub, clock);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  const auto ev = pub.Events();
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_EQ(ev[0]["sensor_id"], "m1");
  EXPECT_EQ(ev[0]["timestamp"].get<double>(), 10.0);
  EXPECT_EQ(ev[0]["fs"].get<double>(), 100.0);
  EXPECT_EQ(ev[0]["ax"].get<std::vector<double>>(), (std::vector<double>{1, 2}));
  EXPECT_EQ(ev[0]["ay"].get<std::vector<double>>(), (std::vector<double>{10, 20}));
  EXPECT_EQ(ev[1]["sensor_id"], "m2");
  EXPECT_EQ(ev[1]["ax"].get<std::vector<double>>(), (std::vector<double>{5, 6}));
  EXPECT_EQ(ev[2]["timestamp"].get<double>(), 12.0);
  EXPECT_EQ(stats->dropped_samples, 1);  // m2's third sample
}

TEST_F(ReplayerTest, OptionErrorsNameTheOption) {
  FakeClock clock;
  CapturePublisher pub;
  ReplayOptions o;
  o.feature_keys = {"nope"};
  auto s = Replay(Opener(kTable), o, pub, clock);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message().rfind("--feature-keys: no column 'nope'", 0), 0u)
      << s.status().message();
  o = ReplayOptions();
  o.feature_count = 9;
  s = Replay(Opener(kTable), o, pub, clock);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message().rfind("--feature-count", 0), 0u);
  o = ReplayOptions();
  o.rate = 1;
  o.speed = 1;
  EXPECT_FALSE(ValidateReplayOptions(o).ok());
  o = ReplayOptions();
  o.speed = 1;
  EXPECT_FALSE(ValidateReplayOptions(o).ok());  // needs a timestamp column
  o = ReplayOptions();
  o.batch = 0;
  EXPECT_FALSE(ValidateReplayOptions(o).ok());
}

// A feature table written by DuckDB (../shared/testdata/parquet) replays with
// the values its expected.json (DuckDB's reading, checked by hyparquet) holds.
TEST(ReplayParquet, FeatureTableMatchesDuckdb) {
  MH_REQUIRE_SHARED_DATA();
  const std::string path =
      mh::testing::SharedDir() + "/testdata/parquet/generated/features_duckdb_gzip_rg3.parquet";
  std::ifstream in(path + ".expected.json");
  ASSERT_TRUE(in) << path;
  const auto expected = nlohmann::json::parse(in);
  if (auto probe = OpenTableFile(path, {}); !probe.ok() && probe.status().IsNotSupported()) {
    GTEST_SKIP() << probe.status().ToString();
  }
  FakeClock clock;
  CapturePublisher pub;
  ReplayOptions o;
  o.sensor_id_column = "sensor_id";
  o.timestamp_column = "timestamp";
  o.keep_names = true;
  o.delay_s = 0;
  o.batch = 1000;
  o.on_bad = OnBad::kSkip;  // the table has nulls: those rows are skipped
  auto stats = Replay([&] { return OpenTableFile(path, {}); }, o, pub, clock);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->events + stats->skipped_rows, expected["num_rows"].get<std::int64_t>());
  const auto events = pub.Events();
  const auto& cols = expected["columns"];
  std::size_t compared = 0, skipped = 0, next = 0;
  for (std::size_t r = 0; r < expected["rows"].size(); ++r) {
    const auto& row = expected["rows"][r];
    bool has_null = false;
    for (std::size_t c = 0; c < cols.size(); ++c) {
      if (row[c].is_null() && cols[c]["duckdb_type"] != "VARCHAR") has_null = true;
    }
    if (row[0].is_null()) has_null = true;  // sensor_id
    if (has_null) {
      ++skipped;
      continue;
    }
    ASSERT_LT(next, events.size());
    const auto& ev = events[next++];
    std::size_t features = 0;
    for (std::size_t c = 0; c < cols.size(); ++c) {
      const std::string name = cols[c]["name"];
      const std::string type = cols[c]["duckdb_type"];
      if (name == "sensor_id") {
        EXPECT_EQ(ev["sensor_id"], row[c]);
      } else if (name == "timestamp") {
        const std::int64_t us = row[c].get<std::int64_t>();
        EXPECT_EQ(ev["timestamp"].get<double>(),
                  static_cast<double>(us / 1'000'000) +
                      static_cast<double>((us % 1'000'000) * 1000) / 1e9);
      } else if (type == "BOOLEAN") {
        EXPECT_EQ(ev[name].get<double>(), row[c].get<bool>() ? 1.0 : 0.0) << name;
        ++features;
      } else if (type == "VARCHAR") {
        EXPECT_FALSE(ev.contains(name)) << name;  // text is not a feature
      } else {
        EXPECT_EQ(ev[name].get<double>(), row[c].get<double>()) << name << " row " << r;
        ++features;
      }
    }
    EXPECT_EQ(ev.size(), features + 2);
    ++compared;
  }
  EXPECT_GT(skipped, 0u);
  EXPECT_GE(compared, 50u);
}

}  // namespace
}  // namespace mh::replay

namespace mh::replay {
namespace {

// Fails with `fail_with` for the first `failures` Publish calls.
class FlakyPublisher final : public transport::Publisher {
 public:
  Status Publish(std::span<const transport::OutgoingMessage> events) override {
    ++calls;
    if (failures > 0) {
      --failures;
      return fail_with;
    }
    delivered += events.size();
    for (const auto& e : events) keys.push_back(e.key);
    return Status::OK();
  }
  Status Close() override { return Status::OK(); }
  int failures = 0;
  Status fail_with = Status::Unavailable("broker down");
  int calls = 0;
  std::size_t delivered = 0;
  std::vector<std::string> keys;
};

class ReplayRetryTest : public ReplayerTest {};

TEST_F(ReplayRetryTest, UnavailableTargetIsRetriedWithBackoffThenDeliveredWhole) {
  ReplayOptions o;
  o.batch = 100;
  o.delay_s = 0;
  o.sensor_ids = {"a", "b"};
  FakeClock clock;
  FlakyPublisher pub;
  pub.failures = 3;
  auto stats = Replay(Opener(kTable), o, pub, clock);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->publish_retries, 3);
  EXPECT_EQ(static_cast<std::int64_t>(pub.delivered), stats->events);
  // Backoff 0.1 s, 0.2 s, 0.4 s.
  ASSERT_GE(clock.sleeps.size(), 3u);
  EXPECT_EQ(clock.sleeps[1] - clock.sleeps[0], 200'000'000);
  EXPECT_EQ(clock.sleeps[2] - clock.sleeps[1], 400'000'000);
  // Keys are the sensor ids (round robin).
  ASSERT_GE(pub.keys.size(), 2u);
  EXPECT_EQ(pub.keys[0], "a");
  EXPECT_EQ(pub.keys[1], "b");
}

TEST_F(ReplayRetryTest, GivesUpAfterTheRetryTimeoutAndOnPermanentErrors) {
  ReplayOptions o;
  o.delay_s = 0;
  o.retry_timeout_s = 2;
  FakeClock clock;
  FlakyPublisher pub;
  pub.failures = 1000;
  auto stats = Replay(Opener(kTable), o, pub, clock);
  ASSERT_FALSE(stats.ok());
  EXPECT_TRUE(stats.status().IsUnavailable());
  EXPECT_LE(clock.mono_ns - 1'000'000'000, 2'000'000'000);
  EXPECT_GE(pub.calls, 4);  // 0.1 + 0.2 + 0.4 + 0.8 s fit in 2 s

  FlakyPublisher bad;
  bad.failures = 1;
  bad.fail_with = Status::InvalidArgument("message too large");
  FakeClock clock2;
  auto stats2 = Replay(Opener(kTable), o, bad, clock2);
  ASSERT_FALSE(stats2.ok());
  EXPECT_TRUE(stats2.status().IsInvalidArgument());
  EXPECT_EQ(bad.calls, 1);
}

}  // namespace
}  // namespace mh::replay
