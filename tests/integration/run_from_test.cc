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
#include <sstream>
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
// faulty: plus an outer-race impact train on both axes. The same machine
// name gives the same files.
class Logger {
 public:
  Logger(std::string folder, std::string machine, std::size_t samples)
      : dir_(std::move(folder) + "/" + machine), machine_(machine), samples_(samples) {
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
    std::mt19937_64 rng(static_cast<std::uint64_t>(k) * 7919 + std::hash<std::string>{}(machine_));
    std::normal_distribution<double> noise(0, 0.05);
    std::vector<double> hits;
    if (faulty) hits = testing::ImpactTrain(samples_, kFs, 107, 4000, 0, static_cast<unsigned>(k));
    std::string text = "timestamp,ax,ay\n";
    char buf[96];
    for (std::size_t i = 0; i < samples_; ++i) {
      const double t = static_cast<double>(static_cast<std::size_t>(k) * samples_ + i) / kFs;
      double ax = 0.3 * std::sin(2 * M_PI * 30 * t) + noise(rng);
      double ay = 0.3 * std::sin(2 * M_PI * 30 * t + 1) + noise(rng);
      if (faulty) {
        ax += 2 * hits[i];
        ay += 1.5 * hits[i];
      }
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
  std::string machine_;
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

  void UndeliveredAlarmEventSurvives(int signal);

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

// The dir source's committed progress: machine -> index of the last
// committed file (snap_NNNNN.csv), -1 when none.
std::map<std::string, int> CommittedFiles(const std::string& folder) {
  std::map<std::string, int> marks;
  std::ifstream in(folder + "/.machine-health-progress");
  std::string machine, file;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ls(line);
    ls >> machine >> file;
    if (file.rfind("snap_", 0) == 0) marks[machine] = std::stoi(file.substr(5, 5));
  }
  return marks;
}

// kill -9 while files are being stored, then a restart on the same folder
// and database: every window of every file is in `scores` exactly once (no
// loss, no extra), the progress committed before the kill covered only
// windows already in the database, the restarted run reads exactly the
// files after that mark, and it goes on with new files.
TEST_F(RunFromTest, KillNineAndRestartLoseAndDuplicateNoWindow) {
  const std::vector<std::string> names = {"m1", "m2"};
  std::vector<Logger> loggers;
  for (const auto& m : names) loggers.emplace_back(folder_, m, 5120);  // 0.2 s, 10 windows
  const std::int64_t per_file = loggers[0].WindowsPerFile();
  ASSERT_EQ(per_file, 10);
  auto run = StartRun("run1.log", {"--learning", "1s"});
  ASSERT_NE(run, nullptr);
  ASSERT_FALSE(url_.empty());
  // Batches of 8 files per machine, each waited for; the third is killed
  // while it is being stored.
  for (int batch = 0; batch < 3; ++batch) {
    for (Logger& l : loggers) {
      for (int i = 0; i < 8; ++i) l.Write(false);
    }
    if (batch == 2) break;
    for (std::size_t m = 0; m < names.size(); ++m) {
      ASSERT_TRUE(WaitForWindows(names[m], loggers[m].files() * per_file)) << names[m];
    }
  }
  const std::int64_t before = 16 * per_file;
  ASSERT_TRUE(
      WaitUntil([&] { return Windows("m1") > before || Windows("m2") > before; }, seconds(10)));
  run->Signal(SIGKILL);
  ASSERT_EQ(run->Wait(seconds(10)), 128 + SIGKILL);

  // What the killed run committed was in the database before the commit.
  const std::map<std::string, int> marks = CommittedFiles(folder_);
  int unread = 0;
  for (std::size_t m = 0; m < names.size(); ++m) {
    const auto it = marks.find(names[m]);
    const int last = it == marks.end() ? -1 : it->second;
    EXPECT_GE(last, 15) << names[m] << ": the first two batches were stored";
    const std::int64_t committed_end_ns = (kT0Ms + loggers[m].FileMs() * (last + 1)) * 1'000'000;
    EXPECT_EQ(QueryInt(db_, "SELECT count(*) FROM scores WHERE machine_id = '" + names[m] +
                                "' AND t_ns < " + std::to_string(committed_end_ns)),
              (last + 1) * per_file)
        << names[m];
    unread += loggers[m].files() - (last + 1);
  }

  // Restart on the same folder and database, then two more files each.
  auto again = StartRun("run2.log", {"--learning", "1s"});
  ASSERT_NE(again, nullptr);
  ASSERT_FALSE(url_.empty());
  for (Logger& l : loggers) {
    for (int i = 0; i < 2; ++i) l.Write(false);
  }
  for (std::size_t m = 0; m < names.size(); ++m) {
    EXPECT_TRUE(WaitForWindows(names[m], loggers[m].files() * per_file))
        << names[m] << ": " << Windows(names[m]);
  }
  again->Signal(SIGTERM);
  ASSERT_EQ(again->Wait(seconds(15)), 0) << testing::ReadFileText(again->log_path());
  // The restarted run read the uncommitted files and the new ones, no more.
  EXPECT_EQ(StoppedCounts(*again).first, unread + 4) << testing::ReadFileText(again->log_path());
  for (std::size_t m = 0; m < names.size(); ++m) {
    const std::string where = " FROM scores WHERE machine_id = '" + names[m] + "'";
    const std::int64_t n = loggers[m].files() * per_file;  // 28 files of 10 windows
    EXPECT_EQ(Windows(names[m]), n) << names[m];
    // Exactly the windows the files make: 20 ms apart from the first file's
    // start to the last file's end, none missing, none outside.
    EXPECT_EQ(QueryInt(db_, "SELECT min(t_ns)" + where), kT0Ms * 1'000'000) << names[m];
    EXPECT_EQ(QueryInt(db_, "SELECT max(t_ns)" + where), kT0Ms * 1'000'000 + (n - 1) * kWindowNs)
        << names[m];
    EXPECT_EQ(QueryInt(db_, "SELECT count(*)" + where + " AND (t_ns - " +
                                std::to_string(kT0Ms * 1'000'000) + ") % " +
                                std::to_string(kWindowNs) + " != 0"),
              0)
        << names[m];
    // Every stored window has its features.
    EXPECT_EQ(QueryInt(db_, "SELECT count(*) FROM scores s WHERE machine_id = '" + names[m] +
                                "' AND NOT EXISTS (SELECT 1 FROM features f WHERE f.machine_id = "
                                "s.machine_id AND f.t_ns = s.t_ns)"),
              0);
  }
  EXPECT_EQ(testing::QueryText(db_, "PRAGMA integrity_check"), "ok");
}

// A webhook receiver on 127.0.0.1:0 that records what it accepts and
// answers 503 while down.
class HookReceiver {
 public:
  HookReceiver() {
    server_.Post("/hook", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu_);
      if (down_) {
        ++refused_;
        res.status = 503;
        return;
      }
      json event = json::parse(req.body, nullptr, false);
      event["idempotency_key"] = req.get_header_value("Idempotency-Key");
      events_.push_back(std::move(event));
      res.status = 200;
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    WaitUntil([this] { return server_.is_running(); }, seconds(5));
  }
  ~HookReceiver() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hook"; }
  void SetDown(bool down) {
    std::lock_guard lock(mu_);
    down_ = down;
  }
  int refused() const {
    std::lock_guard lock(mu_);
    return refused_;
  }
  std::vector<json> events() const {
    std::lock_guard lock(mu_);
    return events_;
  }
  // The events accepted, deduplicated by event_id, in order of arrival.
  std::vector<json> Unique() const {
    std::vector<json> out;
    std::set<std::string> seen;
    for (const json& e : events()) {
      if (e.is_object() && seen.insert(e.value("event_id", "")).second) out.push_back(e);
    }
    return out;
  }
  bool Has(const std::string& kind) const {
    for (const json& e : events()) {
      if (e.is_object() && e.value("kind", "") == kind) return true;
    }
    return false;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  mutable std::mutex mu_;
  bool down_ = false;
  int refused_ = 0;
  std::vector<json> events_;
};

// A machine learns, develops a fault (the receiver answers 503 meanwhile),
// is acknowledged on run's dashboard and recovers: the receiver gets
// opened, acknowledged and closed, each exactly once after deduplication by
// event_id, the opened one after the receiver came back.
TEST_F(RunFromTest, WebhookGetsEveryAlarmEventOnceAlsoAfterBeingDown) {
  HookReceiver hook;
  Logger pump(folder_, "pump", 12800);  // 0.5 s: 25 windows per file
  auto run = StartRun("run.log", {"--learning", "2s", "--notify", hook.url()});
  ASSERT_NE(run, nullptr);
  ASSERT_FALSE(url_.empty());
  // 4 files learn (100 windows), 2 are watched healthy.
  for (int i = 0; i < 6; ++i) pump.Write(false);
  ASSERT_TRUE(WaitForWindows("pump", 150)) << Windows("pump");
  EXPECT_EQ(GetJson("/api/alarms"), json::array());

  // The receiver is down when the fault comes.
  hook.SetDown(true);
  for (int i = 0; i < 2; ++i) pump.Write(true);
  json alarms;
  ASSERT_TRUE(WaitUntil(
      [&] {
        alarms = GetJson("/api/alarms");
        return alarms.is_array() && !alarms.empty();
      },
      seconds(10)))
      << testing::ReadFileText(run->log_path());
  ASSERT_EQ(alarms.size(), 1u) << alarms.dump();
  const std::string id = alarms[0]["id"];
  EXPECT_EQ(alarms[0]["machine"], "pump");
  EXPECT_EQ(alarms[0]["open"], true);
  // Refused at least twice (retried with backoff), then accepted.
  ASSERT_TRUE(WaitUntil([&] { return hook.refused() >= 2; }, seconds(10)));
  EXPECT_TRUE(hook.events().empty());
  hook.SetDown(false);
  ASSERT_TRUE(WaitUntil([&] { return hook.Has("opened"); }, seconds(10)))
      << testing::ReadFileText(run->log_path());

  // Acknowledged on run's own dashboard.
  httplib::Client client(url_);
  auto ack =
      client.Post(("/api/alarms/" + id + "/ack").c_str(), R"({"by":"ann"})", "application/json");
  ASSERT_TRUE(ack);
  ASSERT_EQ(ack->status, 200) << ack->body;
  ASSERT_TRUE(WaitUntil([&] { return hook.Has("acknowledged"); }, seconds(10)));

  // Healthy again: the alarm closes after 5 normal windows.
  for (int i = 0; i < 2; ++i) pump.Write(false);
  ASSERT_TRUE(WaitUntil([&] { return hook.Has("closed"); }, seconds(10)))
      << testing::ReadFileText(run->log_path());
  run->Signal(SIGTERM);
  EXPECT_EQ(run->Wait(seconds(15)), 0) << testing::ReadFileText(run->log_path());

  const std::vector<json> unique = hook.Unique();
  ASSERT_EQ(unique.size(), 3u) << json(hook.events()).dump();
  const char* kinds[] = {"opened", "acknowledged", "closed"};
  for (std::size_t i = 0; i < 3; ++i) {
    const json& e = unique[i];
    EXPECT_EQ(e["kind"], kinds[i]) << e.dump();
    EXPECT_EQ(e["event_id"], id + ":" + kinds[i]) << e.dump();
    EXPECT_EQ(e["idempotency_key"], e["event_id"]);
    EXPECT_EQ(e["alarm"]["id"], id);
    EXPECT_EQ(e["alarm"]["machine"], "pump");
  }
  EXPECT_EQ(unique[0]["alarm"]["open"], true);
  EXPECT_FALSE(unique[0]["alarm"]["explanation_text"].get<std::string>().empty());
  EXPECT_EQ(unique[1]["alarm"]["acked_by"], "ann");
  EXPECT_EQ(unique[2]["alarm"]["open"], false);
  EXPECT_EQ(unique[2]["alarm"]["acked_by"], "ann");
  // The alarm started within the faulty files (event time).
  const std::int64_t fault_start_ns = (kT0Ms + 6 * pump.FileMs()) * 1'000'000;
  EXPECT_GE(unique[0]["alarm"]["start_ns"].get<std::int64_t>(), fault_start_ns);
  EXPECT_LT(unique[0]["alarm"]["start_ns"].get<std::int64_t>(), fault_start_ns + 2 * 500'000'000);
  // The database agrees: one alarm, closed and acknowledged.
  EXPECT_EQ(QueryInt(db_, "SELECT count(*) FROM alarms"), 1);
}

// An alarm opens while the receiver is down and run is stopped by `signal`
// (SIGKILL, or SIGTERM: run then stops at once, exit 0, though delivery is
// being retried) before it could deliver: the event waits in the database's
// outbox and the next run on the same database delivers it once the
// receiver is back.
void RunFromTest::UndeliveredAlarmEventSurvives(int signal) {
  HookReceiver hook;
  hook.SetDown(true);
  Logger pump(folder_, "pump", 12800);
  auto run = StartRun("run1.log", {"--learning", "2s", "--notify", hook.url()});
  ASSERT_NE(run, nullptr);
  ASSERT_FALSE(url_.empty());
  for (int i = 0; i < 6; ++i) pump.Write(false);
  for (int i = 0; i < 2; ++i) pump.Write(true);
  ASSERT_TRUE(
      WaitUntil([&] { return QueryInt(db_, "SELECT count(*) FROM alarms") == 1; }, seconds(10)))
      << testing::ReadFileText(run->log_path());
  ASSERT_TRUE(WaitUntil([&] { return hook.refused() >= 1; }, seconds(10)));
  run->Signal(signal);
  ASSERT_EQ(run->Wait(seconds(5)), signal == SIGKILL ? 128 + SIGKILL : 0)
      << testing::ReadFileText(run->log_path());
  EXPECT_TRUE(hook.events().empty());

  hook.SetDown(false);
  auto again = StartRun("run2.log", {"--learning", "2s", "--notify", hook.url()});
  ASSERT_NE(again, nullptr);
  ASSERT_FALSE(url_.empty());
  ASSERT_TRUE(WaitUntil([&] { return hook.Has("opened"); }, seconds(10)))
      << testing::ReadFileText(again->log_path());
  again->Signal(SIGTERM);
  EXPECT_EQ(again->Wait(seconds(15)), 0) << testing::ReadFileText(again->log_path());
  const std::vector<json> unique = hook.Unique();
  ASSERT_EQ(unique.size(), 1u) << json(hook.events()).dump();
  EXPECT_EQ(unique[0]["kind"], "opened");
  EXPECT_EQ(unique[0]["alarm"]["machine"], "pump");
  EXPECT_EQ(unique[0]["event_id"],
            testing::QueryText(db_, "SELECT id FROM alarms") + std::string(":opened"));
}

TEST_F(RunFromTest, UndeliveredAlarmEventSurvivesKillNine) {
  UndeliveredAlarmEventSurvives(SIGKILL);
}
TEST_F(RunFromTest, UndeliveredAlarmEventSurvivesSigterm) {
  UndeliveredAlarmEventSurvives(SIGTERM);
}

}  // namespace
}  // namespace mh
