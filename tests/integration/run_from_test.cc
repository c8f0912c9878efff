// `machine-health run --from dir:` as a subprocess of the built binary, with
// real components on loopback started here: a data logger (this test)
// dropping snapshot CSVs into the watched folder while run is running, a
// webhook receiver (cpp-httplib) for the alarm notifications, and kill -9.
// Checked: files written while run runs are picked up, each once, also
// across a restart; every window of every file is stored exactly once after
// kill -9 and a restart; the receiver gets every alarm event (opened,
// acknowledged, closed) exactly once after deduplication by event_id, also
// when it answered 503 for a while.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <signal.h>

#include "testing/process.h"
#include "testing/sqlite_query.h"
#include "testing/test_paths.h"
#include "testing/vibration_signals.h"

namespace mh {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::ChildProcess;
using testing::QueryInt;
using testing::WaitUntil;

constexpr double kFs = 25600;
constexpr std::int64_t kWindowNs = 20'000'000;     // 512 samples at 25.6 kHz (the default window)
constexpr std::int64_t kT0Ms = 1'767'225'600'000;  // 2026-01-01T00:00:00Z

// A data logger: snapshot files of `samples` samples per channel (ax, ay)
// for one machine, back to back in event time (a `timestamp` column on the
// first row, epoch ms), written under a dot name and renamed into
// FOLDER/<machine>/ (atomic). Healthy: a 30 Hz shaft line and noise;
// faulty: plus an outer-race impact train on ax.
class Logger {
 public:
  Logger(std::string folder, std::string machine, std::size_t samples)
      : dir_(std::move(folder) + "/" + machine), samples_(samples) {
    std::filesystem::create_directories(dir_);
  }
  // Milliseconds of event time per file.
  std::int64_t FileMs() const {
    return static_cast<std::int64_t>(std::llround(1000.0 * static_cast<double>(samples_) / kFs));
  }
  std::int64_t WindowsPerFile() const {
    return static_cast<std::int64_t>(samples_) /
           (kWindowNs * static_cast<std::int64_t>(kFs) / 1'000'000'000);
  }
  int files() const { return next_; }
  // Writes the next file; its name sorts after every earlier one.
  void Write(bool faulty) {
    const int k = next_++;
    std::mt19937_64 rng(static_cast<std::uint64_t>(k) * 7919 + std::hash<std::string>{}(dir_));
    std::normal_distribution<double> noise(0, 0.05);
    std::vector<double> hits;
    if (faulty) hits = testing::ImpactTrain(samples_, kFs, 107, 4000, 0, static_cast<unsigned>(k));
    std::string text = "timestamp,ax,ay\n";
    char buf[96];
    for (std::size_t i = 0; i < samples_; ++i) {
      const double t = static_cast<double>(static_cast<std::size_t>(k) * samples_ + i) / kFs;
      double ax = 0.3 * std::sin(2 * M_PI * 30 * t) + noise(rng);
      const double ay = 0.3 * std::sin(2 * M_PI * 30 * t + 1) + noise(rng);
      if (faulty) ax += 2 * hits[i];
      if (i == 0) {
        std::snprintf(buf, sizeof buf, "%lld,%.17g,%.17g\n",
                      static_cast<long long>(kT0Ms + FileMs() * k), ax, ay);
      } else {
        std::snprintf(buf, sizeof buf, ",%.17g,%.17g\n", ax, ay);
      }
      text += buf;
    }
    char name[32];
    std::snprintf(name, sizeof name, "snap_%05d.csv", k);
    const std::string tmp = dir_ + "/." + name;
    ASSERT_TRUE(testing::WriteFileText(tmp, text).ok());
    std::filesystem::rename(tmp, dir_ + "/" + name);
  }

 private:
  std::string dir_;
  std::size_t samples_;
  int next_ = 0;
};

class RunFromTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(testing::BinaryPath().empty()) << "MH_BINARY not set";
    dir_ = testing::MakeTempDir("mh-run-from");
    folder_ = dir_ + "/logger";
    db_ = dir_ + "/live.db";
    std::filesystem::create_directories(folder_);
  }
  void TearDown() override {
    if (!HasFailure() && std::getenv("MH_KEEP_TEST_DIRS") == nullptr) {
      std::filesystem::remove_all(dir_);
    } else {
      std::fprintf(stderr, "test files kept in %s\n", dir_.c_str());
    }
  }

  // Starts `machine-health run --from dir:FOLDER` (log in dir_/<log>) and
  // waits for its dashboard address (url_).
  std::unique_ptr<ChildProcess> StartRun(const std::string& log,
                                         const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv = {testing::BinaryPath(),
                                     "run",
                                     "--from",
                                     "dir:" + folder_ + "?fs=25600&scan_ms=50&settle_ms=100",
                                     "--http",
                                     "127.0.0.1:0",
                                     "--db",
                                     db_,
                                     "--quiet"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto p = ChildProcess::Start(argv, dir_ + "/" + log);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    if (!p.ok()) return nullptr;
    url_ = testing::WaitForLogLine(**p, "dashboard: ", seconds(15));
    EXPECT_FALSE(url_.empty()) << "run printed no dashboard address:\n"
                               << testing::ReadFileText((*p)->log_path());
    while (!url_.empty() && url_.back() == '/') url_.pop_back();
    return std::move(p).value();
  }

  std::int64_t Windows(const std::string& machine) const {
    return QueryInt(db_, "SELECT count(*) FROM scores WHERE machine_id = '" + machine + "'");
  }
  // Waits until `machine` has `n` windows stored (or the deadline passes);
  // true when it has exactly n.
  bool WaitForWindows(const std::string& machine, std::int64_t n,
                      milliseconds timeout = seconds(10)) const {
    WaitUntil([&] { return Windows(machine) >= n; }, timeout);
    return Windows(machine) == n;
  }

  // The events and windows of run's closing line ("stopped: N events, W
  // windows stored"), {-1, -1} if absent.
  static std::pair<std::int64_t, std::int64_t> StoppedCounts(const ChildProcess& p) {
    const std::string log = testing::ReadFileText(p.log_path());
    std::smatch m;
    static const std::regex re("stopped: ([0-9]+) events, ([0-9]+) windows stored");
    if (!std::regex_search(log, m, re)) return {-1, -1};
    return {std::stoll(m[1]), std::stoll(m[2])};
  }

  json GetJson(const std::string& path) const {
    httplib::Client client(url_);
    client.set_read_timeout(5, 0);
    auto res = client.Get(path.c_str());
    if (!res || res->status != 200) return json();
    return json::parse(res->body, nullptr, false);
  }

  std::string dir_, folder_, db_, url_;
};

// Files written while run runs are picked up; after SIGTERM (exit 0) a run
// on the same folder and database reads only the files that came since.
TEST_F(RunFromTest, DirPicksUpNewFilesAndReadsEachOnceAcrossARestart) {
  Logger m1(folder_, "m1", 2560), m2(folder_, "m2", 2560);  // 0.1 s: 5 windows per file
  auto run = StartRun("run1.log", {"--learning", "0.32s"});
  ASSERT_NE(run, nullptr);
  ASSERT_FALSE(url_.empty());
  EXPECT_EQ(Windows("m1"), 0);

  for (int i = 0; i < 3; ++i) m1.Write(false);
  for (int i = 0; i < 2; ++i) m2.Write(false);
  EXPECT_TRUE(WaitForWindows("m1", 15)) << Windows("m1");
  EXPECT_TRUE(WaitForWindows("m2", 10)) << Windows("m2");
  // Later files of a machine continue it.
  for (int i = 0; i < 2; ++i) m1.Write(false);
  EXPECT_TRUE(WaitForWindows("m1", 25)) << Windows("m1");
  // The dashboard shows both machines with every window.
  json machines;
  WaitUntil(
      [&] {
        machines = GetJson("/api/machines");
        return machines.is_array() && machines.size() == 2;
      },
      seconds(5));
  ASSERT_TRUE(machines.is_array() && machines.size() == 2) << machines.dump();

  run->Signal(SIGTERM);
  EXPECT_EQ(run->Wait(seconds(15)), 0) << testing::ReadFileText(run->log_path());
  EXPECT_EQ(StoppedCounts(*run), std::make_pair(std::int64_t{7}, std::int64_t{35}));
  EXPECT_EQ(testing::QueryText(db_, "PRAGMA integrity_check"), "ok");

  // Again on the same folder and database: nothing is read until a new file
  // comes, then only that file.
  auto again = StartRun("run2.log", {"--learning", "0.32s"});
  ASSERT_NE(again, nullptr);
  ASSERT_FALSE(url_.empty());
  m2.Write(false);
  EXPECT_TRUE(WaitForWindows("m2", 15)) << Windows("m2");
  EXPECT_EQ(Windows("m1"), 25);
  again->Signal(SIGTERM);
  EXPECT_EQ(again->Wait(seconds(15)), 0) << testing::ReadFileText(again->log_path());
  EXPECT_EQ(StoppedCounts(*again), std::make_pair(std::int64_t{1}, std::int64_t{5}))
      << testing::ReadFileText(again->log_path());
  // Windows are 20 ms apart in event time, back to back across the files.
  for (const std::string m : {"m1", "m2"}) {
    EXPECT_EQ(QueryInt(db_,
                       "SELECT (max(t_ns) - min(t_ns)) / 20000000 + 1 FROM scores WHERE "
                       "machine_id = '" +
                           m + "'"),
              Windows(m))
        << m;
  }
}

}  // namespace
}  // namespace mh
