#include "sink/sqlite/sqlite_reader.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "sink/sqlite/sqlite_sink.h"
#include "testing/test_paths.h"

namespace mh::sink {
namespace {

namespace fs = std::filesystem;

const auto kNames = std::make_shared<const std::vector<std::string>>(
    std::vector<std::string>{"crest_ax", "rms_ax"});

// Window i of machine `id`: starts at i * 100 ms; score = i / 8 (exact in
// binary), learning (NaN score) for the first 4 windows.
WindowRecord Window(const std::string& id, int i) {
  WindowRecord r;
  r.machine_id = id;
  r.window_start_ns = std::int64_t{i} * 100'000'000;
  r.feature_names = kNames;
  r.features = {i * 2.0, i * 0.5};
  r.rms = i * 0.25;
  if (i >= 4) {
    r.score = i / 8.0;
    r.score_samples = -0.5 - i / 8.0;
    r.state = MachineState::kNormal;
    r.state_score = i / 8.0;
  }
  return r;
}

class SqliteReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = mh::testing::MakeTempDir("mh-reader-test");
    ASSERT_FALSE(dir_.empty());
    path_ = dir_ + "/m.db";
    auto sink = OpenSqliteSink({path_});
    ASSERT_TRUE(sink.ok()) << sink.status().ToString();
    sink_ = std::move(sink).value();
  }
  void TearDown() override {
    sink_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  void WriteWindows(const std::string& id, int from, int to) {
    std::vector<WindowRecord> batch;
    for (int i = from; i < to; ++i) batch.push_back(Window(id, i));
    ASSERT_TRUE(sink_->Write(batch).ok());
  }
  std::unique_ptr<SqliteReader> OpenReader() {
    auto reader = SqliteReader::Open(path_);
    EXPECT_TRUE(reader.ok()) << reader.status().ToString();
    return reader.ok() ? std::move(reader).value() : nullptr;
  }

  std::string dir_;
  std::string path_;
  std::unique_ptr<Sink> sink_;
};

TEST_F(SqliteReaderTest, MissingFileIsNotFound) {
  auto reader = SqliteReader::Open(dir_ + "/nope.db");
  ASSERT_FALSE(reader.ok());
  EXPECT_TRUE(reader.status().IsNotFound());
  EXPECT_EQ(reader.status().message(), dir_ + "/nope.db: no such database");
  EXPECT_FALSE(fs::exists(dir_ + "/nope.db"));
}

TEST_F(SqliteReaderTest, MachinesSortedById) {
  WriteWindows("m2", 0, 3);
  WriteWindows("m10", 0, 5);
  WriteWindows("m1", 0, 2);
  auto reader = OpenReader();
  ASSERT_NE(reader, nullptr);
  auto machines = reader->Machines();
  ASSERT_TRUE(machines.ok());
  ASSERT_EQ(machines->size(), 3u);
  EXPECT_EQ((*machines)[0].id, "m1");
  EXPECT_EQ((*machines)[1].id, "m10");
  EXPECT_EQ((*machines)[2].id, "m2");
  EXPECT_EQ((*machines)[0].state, "learning");
  EXPECT_TRUE(std::isnan((*machines)[0].score));
  EXPECT_EQ((*machines)[1].state, "normal");
  EXPECT_DOUBLE_EQ((*machines)[1].score, 0.5);
  EXPECT_EQ((*machines)[1].windows, 5);
  EXPECT_EQ((*machines)[1].updated_ns, 400'000'000);
  auto one = reader->Machine("m2");
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->windows, 3);
  EXPECT_TRUE(reader->Machine("m3").status().IsNotFound());
}

TEST_F(SqliteReaderTest, SeriesRangeIsHalfOpenAndOrdered) {
  WriteWindows("m1", 0, 20);
  auto reader = OpenReader();
  ASSERT_NE(reader, nullptr);
  // [300 ms, 800 ms): windows 3..7.
  auto s = reader->GetSeries("m1", "score", 300'000'000, 800'000'000, 1000);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_EQ(s->t_ns.size(), 5u);
  EXPECT_EQ(s->t_ns.front(), 300'000'000);
  EXPECT_EQ(s->t_ns.back(), 700'000'000);
  EXPECT_TRUE(std::isnan(s->v[0]));  // window 3 was learning
  EXPECT_DOUBLE_EQ(s->v[1], 0.5);
  EXPECT_DOUBLE_EQ(s->v[4], 7 / 8.0);

  auto rms = reader->GetSeries("m1", "rms", 0, 2'000'000'000, 1000);
  ASSERT_TRUE(rms.ok());
  ASSERT_EQ(rms->v.size(), 20u);
  for (int i = 0; i < 20; ++i) EXPECT_DOUBLE_EQ(rms->v[i], i * 0.25);

  auto state_score = reader->GetSeries("m1", "state_score", 0, 2'000'000'000, 1000);
  ASSERT_TRUE(state_score.ok());
  EXPECT_DOUBLE_EQ(state_score->v[19], 19 / 8.0);

  auto feature = reader->GetSeries("m1", "crest_ax", 1'000'000'000, 1'200'000'001, 1000);
  ASSERT_TRUE(feature.ok());
  EXPECT_EQ(feature->t_ns,
            (std::vector<std::int64_t>{1'000'000'000, 1'100'000'000, 1'200'000'000}));
  EXPECT_EQ(feature->v, (std::vector<double>{20, 22, 24}));

  // A known feature with no points in range is an empty series, not an error.
  auto empty = reader->GetSeries("m1", "crest_ax", 5'000'000'000, 6'000'000'000, 10);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->t_ns.empty());
}

TEST_F(SqliteReaderTest, SeriesErrors) {
  WriteWindows("m1", 0, 3);
  auto reader = OpenReader();
  ASSERT_NE(reader, nullptr);
  auto unknown_machine = reader->GetSeries("m9", "score", 0, 1'000'000'000, 10);
  EXPECT_TRUE(unknown_machine.status().IsNotFound());
  EXPECT_NE(unknown_machine.status().message().find("m9"), std::string::npos);
  auto unknown_metric = reader->GetSeries("m1", "bogus", 0, 1'000'000'000, 10);
  EXPECT_TRUE(unknown_metric.status().IsInvalidArgument());
  EXPECT_NE(unknown_metric.status().message().find("bogus"), std::string::npos);
  EXPECT_TRUE(reader->GetSeries("m1", "score", 0, 1, 0).status().IsInvalidArgument());
  EXPECT_TRUE(reader->GetSeries("m1", "score", 10, 1, 5).status().IsInvalidArgument());
  auto names = reader->FeatureNames("m1");
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, (std::vector<std::string>{"crest_ax", "rms_ax"}));
  EXPECT_TRUE(reader->FeatureNames("m9").status().IsNotFound());
}

TEST_F(SqliteReaderTest, DecimationKeepsEachGroupsExtremesAndTheLatest) {
  WriteWindows("m1", 0, 101);  // windows 0..100, rms rising: 0.25 per window
  auto reader = OpenReader();
  ASSERT_NE(reader, nullptr);
  auto s = reader->GetSeries("m1", "rms", 0, 20'000'000'000, 11);
  ASSERT_TRUE(s.ok());
  // 101 windows on 11 points: (11 - 1) / 2 = 5 groups of consecutive
  // windows (starting at g * 101 / 5), each drawn by its minimum (its first
  // window, rms rising) and its maximum (its last), and the latest window,
  // which is the last group's maximum already.
  const std::vector<int> expected = {0, 19, 20, 39, 40, 59, 60, 79, 80, 100};
  ASSERT_EQ(s->t_ns.size(), expected.size());
  for (std::size_t k = 0; k < expected.size(); ++k) {
    EXPECT_EQ(s->t_ns[k], std::int64_t{expected[k]} * 100'000'000) << k;
    EXPECT_DOUBLE_EQ(s->v[k], expected[k] * 0.25);
  }
  auto last = reader->GetSeries("m1", "rms", 0, 20'000'000'000, 1);
  ASSERT_TRUE(last.ok());
  ASSERT_EQ(last->t_ns.size(), 1u);
  EXPECT_EQ(last->t_ns[0], 100 * 100'000'000LL);
}

// The live stream's query: windows after a time, oldest first, bounded.
TEST_F(SqliteReaderTest, WindowsAfterATime) {
  WriteWindows("m1", 0, 10);
  WriteWindows("m2", 0, 3);
  auto reader = OpenReader();
  ASSERT_NE(reader, nullptr);
  auto w = reader->WindowsAfter("m1", 300'000'000, 4);  // after window 3
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  ASSERT_EQ(w->size(), 4u);
  for (int k = 0; k < 4; ++k) {
    const int i = 4 + k;
    EXPECT_EQ((*w)[k].t_ns, std::int64_t{i} * 100'000'000);
    EXPECT_EQ((*w)[k].score, i / 8.0);
    EXPECT_EQ((*w)[k].state_score, i / 8.0);
    EXPECT_EQ((*w)[k].rms, i * 0.25);
    EXPECT_EQ((*w)[k].state, "normal");
    EXPECT_EQ((*w)[k].baseline_version, 0);
  }
  // Learning windows: NaN scores; nothing after the latest; unknown machine.
  auto all = reader->WindowsAfter("m2", INT64_MIN, 100);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_TRUE(std::isnan((*all)[0].score));
  EXPECT_EQ((*all)[0].state, "learning");
  auto none = reader->WindowsAfter("m1", 900'000'000, 100);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  EXPECT_TRUE(reader->WindowsAfter("m9", 0, 10).status().IsNotFound());
}

TEST_F(SqliteReaderTest, ReadsAfterWriterClosed) {
  WriteWindows("m1", 0, 5);
  ASSERT_TRUE(sink_->Close().ok());
  sink_.reset();
  auto reader = OpenReader();
  ASSERT_NE(reader, nullptr);
  auto machines = reader->Machines();
  ASSERT_TRUE(machines.ok()) << machines.status().ToString();
  EXPECT_EQ(machines->size(), 1u);
}

TEST_F(SqliteReaderTest, ConcurrentReadersWhileWriting) {
  WriteWindows("m1", 0, 1);
  auto reader = OpenReader();
  ASSERT_NE(reader, nullptr);
  constexpr int kWindows = 300;
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  std::atomic<int> regressions{0};
  std::atomic<int> reads{0};
  auto read_loop = [&] {
    std::int64_t last_windows = 0;
    while (!done.load()) {
      auto machines = reader->Machines();
      if (!machines.ok() || machines->size() != 1) {
        ++failures;
        continue;
      }
      std::int64_t windows = (*machines)[0].windows;
      if (windows < last_windows) ++regressions;
      last_windows = windows;
      auto s = reader->GetSeries("m1", "rms", 0, INT64_MAX, 50);
      if (!s.ok() || s->t_ns.empty()) ++failures;
      ++reads;
    }
  };
  std::thread r1(read_loop);
  std::thread r2(read_loop);
  for (int i = 1; i < kWindows; i += 3) WriteWindows("m1", i, std::min(i + 3, kWindows));
  // Let the readers see the final state at least once after the last write.
  const int reads_at_end = reads.load();
  while (reads.load() < reads_at_end + 4) std::this_thread::yield();
  done = true;
  r1.join();
  r2.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(regressions.load(), 0);
  auto machines = reader->Machines();
  ASSERT_TRUE(machines.ok());
  EXPECT_EQ((*machines)[0].windows, kWindows);
}

}  // namespace
}  // namespace mh::sink
