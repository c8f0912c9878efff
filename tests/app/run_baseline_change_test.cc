// `machine-health baseline reset|assign` against the database of a `run`
// that is running (in-process, on another thread): the running pipeline
// hears of the change within about a second and applies it without a
// restart. Both wirings: simulated machines (PlantPipeline) and `run --from
// dir:` (StreamScorer). The run is stopped as Ctrl-C would (SIGINT, handled
// by run's stop flag); every wait is on a database condition.
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "app/command.h"
#include "sink/sqlite/sqlite_reader.h"
#include "testing/cli_run.h"
#include "testing/test_paths.h"

namespace mh::app {
namespace {

using mh::testing::CliRun;
using ::testing::HasSubstr;

// A command run next to the running `run` (no stderr capture: that is the
// run's).
CliRun Side(const std::vector<std::string>& args) {
  std::ostringstream out, err;
  CommandIo io{out, err};
  CliRun r;
  r.code = RunMain(args, io);
  r.out = out.str();
  r.err = err.str();
  return r;
}

// Polls `done` every 20 ms for up to 60 s.
bool WaitUntil(const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

class RunBaselineChangeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = mh::testing::MakeTempDir("mh-run-baseline");
    db_ = dir_ + "/run.db";
  }
  void TearDown() override {
    Stop();
    std::filesystem::remove_all(dir_);
  }
  void Start(std::vector<std::string> args) {
    thread_ = std::thread([this, args] { run_ = mh::testing::RunCli(args); });
  }
  // Stops the run as Ctrl-C does and waits for it.
  void Stop() {
    if (!thread_.joinable()) return;
    std::raise(SIGINT);
    thread_.join();
  }
  nlohmann::json Baselines() {
    auto r = Side({"baseline", "list", "--db", db_, "--json"});
    if (r.code != 0) return nlohmann::json::array();
    return nlohmann::json::parse(r.out);
  }
  bool HasActiveVersion(std::int64_t v) {
    for (const auto& b : Baselines()) {
      if (b["version"] == v && b["active"] == true) return true;
    }
    return false;
  }
  nlohmann::json Alarms() {
    auto r = Side({"alarms", "list", "--db", db_, "--json"});
    if (r.code != 0) return nlohmann::json::array();
    return nlohmann::json::parse(r.out);
  }
  // baseline_version of every stored window of `machine`, in time order.
  std::vector<double> Versions(const std::string& machine) {
    auto reader = sink::SqliteReader::Open(db_);
    if (!reader.ok()) return {};
    auto s = (*reader)->GetSeries(machine, "baseline_version", 0,
                                  std::numeric_limits<std::int64_t>::max(), 10000000);
    if (!s.ok()) return {};
    return s->v;
  }
  std::string MachineState(const std::string& machine) {
    auto reader = sink::SqliteReader::Open(db_);
    if (!reader.ok()) return "";
    auto m = (*reader)->Machine(machine);
    return m.ok() ? m->state : "";
  }
  std::int64_t Windows(const std::string& machine) {
    auto reader = sink::SqliteReader::Open(db_);
    if (!reader.ok()) return 0;
    auto m = (*reader)->Machine(machine);
    return m.ok() ? m->windows : 0;
  }
  // Whether the machine learned twice (2 x `learning` windows of version
  // 0: first start, then after the reset) and its latest window was scored
  // with `version`.
  static bool RelearnedThenScoredWith(const std::vector<double>& v, std::size_t learning,
                                      double version) {
    return !v.empty() && v.back() == version &&
           static_cast<std::size_t>(std::count(v.begin(), v.end(), 0.0)) == 2 * learning;
  }

  std::string dir_, db_;
  std::thread thread_;
  CliRun run_;
};

// Simulated machine m1 with a fault: it learns v1, goes into alarm; a reset
// closes the alarm and it learns v2 (stored); assigning v1 again makes the
// next windows carry baseline_version 1 (the windows learned in between carry
// 0).
TEST_F(RunBaselineChangeTest, SimulatedRunRelearnsAfterResetAndTakesAnAssignedVersion) {
  Start({"run", "--machines", "1", "--fault", "1:outer-race@2s/1s", "--speed", "10", "--http",
         "off", "--db", db_, "--learning", "1s", "--quiet"});
  ASSERT_TRUE(WaitUntil([&] { return HasActiveVersion(1); })) << Baselines().dump();
  ASSERT_TRUE(WaitUntil([&] {
    const auto a = Alarms();
    return a.size() == 1 && a[0]["open"] == true;
  })) << Alarms().dump();
  const std::string alarm_id = Alarms()[0]["id"].get<std::string>();

  auto reset = Side({"baseline", "reset", "m1", "--db", db_});
  ASSERT_EQ(reset.code, 0) << reset.err;
  ASSERT_TRUE(WaitUntil([&] { return HasActiveVersion(2); })) << Baselines().dump();
  // The alarm was closed when the reset was applied, before v2's training
  // windows (the fault goes on, so the alarm rule alone would not close it).
  const nlohmann::json alarms = Alarms();
  ASSERT_GE(alarms.size(), 1u);
  nlohmann::json closed;
  for (const auto& a : alarms) {
    if (a["id"] == alarm_id) closed = a;
  }
  ASSERT_FALSE(closed.is_null()) << alarms.dump();
  EXPECT_EQ(closed["open"], false) << closed.dump();
  ASSERT_TRUE(closed["end_ns"].is_number()) << closed.dump();
  auto reader = sink::SqliteReader::Open(db_);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  auto v2 = (*reader)->Baseline("m1", 2);
  ASSERT_TRUE(v2.ok()) << v2.status().ToString();
  const std::int64_t v2_from = v2->info.trained_from_ns;
  ASSERT_GT(v2_from, 0);
  EXPECT_LE(closed["end_ns"].get<std::int64_t>(), v2_from);
  EXPECT_EQ(closed["baseline_version"], 1);

  auto assign = Side({"baseline", "assign", "m1", "--version", "1", "--db", db_});
  ASSERT_EQ(assign.code, 0) << assign.err;
  EXPECT_THAT(assign.out, HasSubstr("baseline v1 is active again"));
  // 50 windows (1 s) learned at the start and again after the reset, then
  // scored with v1 again.
  ASSERT_TRUE(WaitUntil([&] { return RelearnedThenScoredWith(Versions("m1"), 50, 1); }));
  Stop();
  ASSERT_EQ(run_.code, 0) << run_.err;
  EXPECT_THAT(run_.err, HasSubstr("machine 'm1': baseline reset by a change in the database; "
                                  "learning again; alarm " +
                                  alarm_id + " closed"));
  EXPECT_THAT(run_.err, HasSubstr("baseline v2 stored"));
  EXPECT_THAT(run_.err, HasSubstr("machine 'm1': now scoring with baseline v1 (learned)"));
}

// `run --from dir:` with real FEMTO snapshots dropped one by one: the same
// reset and assign, applied by the StreamScorer between batches.
TEST_F(RunBaselineChangeTest, RunFromDirRelearnsAfterResetAndTakesAnAssignedVersion) {
  MH_REQUIRE_SHARED_DATA();
  const std::string from = mh::testing::SharedDir() + "/data/femto/Bearing2_1";
  if (!std::filesystem::exists(from)) GTEST_SKIP() << from << " is not present";
  std::vector<std::filesystem::path> files;
  for (const auto& f : std::filesystem::directory_iterator(from)) files.push_back(f.path());
  std::sort(files.begin(), files.end());
  ASSERT_EQ(files.size(), 44u);
  const std::string logger = dir_ + "/logger/Bearing2_1";
  std::filesystem::create_directories(logger);
  std::size_t copied = 0;
  // Copies the next snapshot and waits until its 5 windows are stored.
  auto next = [&] {
    if (copied == files.size()) return false;
    std::filesystem::copy_file(files[copied], logger + "/" + files[copied].filename().string());
    ++copied;
    const auto want = static_cast<std::int64_t>(5 * copied);
    return WaitUntil([&] { return Windows("Bearing2_1") >= want; });
  };
  // 8 snapshots (40 windows of 20 ms) learn, as in the restart test.
  for (int i = 0; i < 8; ++i)
    std::filesystem::copy_file(files[i], logger + "/" + files[i].filename().string());
  copied = 8;
  Start({"run", "--from", "dir:" + dir_ + "/logger?fs=25600&scan_ms=50&settle_ms=300", "--http",
         "off", "--db", db_, "--learning", "0.8s", "--quiet"});
  ASSERT_TRUE(WaitUntil([&] { return HasActiveVersion(1) && Windows("Bearing2_1") >= 40; }))
      << Baselines().dump();

  ASSERT_EQ(Side({"baseline", "reset", "Bearing2_1", "--db", db_}).code, 0);
  while (!HasActiveVersion(2)) {
    if (!next()) {
      Stop();
      FAIL() << "snapshots used up before v2: " << run_.err;
    }
  }
  ASSERT_EQ(Side({"baseline", "assign", "Bearing2_1", "--version", "1", "--db", db_}).code, 0);
  while (!RelearnedThenScoredWith(Versions("Bearing2_1"), 40, 1)) {
    if (!next()) {
      Stop();
      FAIL() << "snapshots used up before v1 scored again: " << run_.err;
    }
  }
  Stop();
  ASSERT_EQ(run_.code, 0) << run_.err;
  EXPECT_THAT(run_.err, HasSubstr("machine 'Bearing2_1': baseline reset by a change in the "
                                  "database; learning again"));
  EXPECT_THAT(run_.err, HasSubstr("machine 'Bearing2_1': now scoring with baseline v1"));
}

}  // namespace
}  // namespace mh::app
