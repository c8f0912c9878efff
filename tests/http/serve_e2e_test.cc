// End-to-end tests of `machine-health serve` (the built binary), and of the
// dashboard rendered by headless Chromium when it is installed.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sink/sqlite/sqlite_sink.h"
#include "test_db.h"
#include "testing/test_paths.h"

namespace mh::http {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A `machine-health serve` child process with stdout/stderr in files.
class ServeProcess {
 public:
  ServeProcess(const std::string& dir, const std::vector<std::string>& args)
      : out_(dir + "/serve.out"), err_(dir + "/serve.err") {
    pid_ = fork();
    if (pid_ == 0) {
      FILE* o = std::freopen(out_.c_str(), "w", stdout);
      FILE* e = std::freopen(err_.c_str(), "w", stderr);
      if (o == nullptr || e == nullptr) _exit(127);
      std::vector<std::string> all = {mh::testing::BinaryPath(), "serve"};
      all.insert(all.end(), args.begin(), args.end());
      std::vector<char*> argv;
      for (std::string& a : all) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
  }
  ~ServeProcess() {
    if (pid_ > 0 && !exited_) {
      kill(pid_, SIGKILL);
      (void)Wait(std::chrono::seconds(10));
    }
  }
  // The URL printed on stdout ("" if none within the deadline).
  std::string WaitForUrl(std::chrono::seconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    std::regex re("dashboard: (http://[^ \n]+/)\n");
    while (std::chrono::steady_clock::now() < deadline) {
      std::smatch m;
      std::string out = ReadFile(out_);
      if (std::regex_search(out, m, re)) return m[1];
      if (exited_ || waitpid(pid_, &status_, WNOHANG) == pid_) {
        exited_ = true;
        return "";
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return "";
  }
  // Exit code, or -1 if still running after `timeout` (or killed by a signal).
  int Wait(std::chrono::seconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!exited_ && std::chrono::steady_clock::now() < deadline) {
      if (waitpid(pid_, &status_, WNOHANG) == pid_)
        exited_ = true;
      else
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (!exited_) return -1;
    return WIFEXITED(status_) ? WEXITSTATUS(status_) : -1;
  }
  pid_t pid() const { return pid_; }
  std::string err() const { return ReadFile(err_); }

 private:
  std::string out_;
  std::string err_;
  pid_t pid_ = -1;
  int status_ = 0;
  bool exited_ = false;
};

class ServeE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (mh::testing::BinaryPath().empty()) GTEST_SKIP() << "MH_BINARY is not set";
    dir_ = mh::testing::MakeTempDir("mh-serve-e2e");
    ASSERT_FALSE(dir_.empty());
    db_ = dir_ + "/m.db";
    ASSERT_EQ(testing::FillTestDb(db_), "");
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  std::string dir_;
  std::string db_;
};

TEST_F(ServeE2eTest, ServesAndStopsOnSigterm) {
  ServeProcess serve(dir_, {"--db", db_, "--http", "127.0.0.1:0"});
  std::string url = serve.WaitForUrl(std::chrono::seconds(20));
  ASSERT_FALSE(url.empty()) << serve.err();
  std::smatch m;
  ASSERT_TRUE(std::regex_match(url, m, std::regex("http://127\\.0\\.0\\.1:([0-9]+)/")));
  httplib::Client client("127.0.0.1", std::stoi(m[1]));
  auto res = client.Get("/api/machines");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_NE(res->body.find("\"m3\""), std::string::npos);
  ASSERT_EQ(kill(serve.pid(), SIGTERM), 0);
  EXPECT_EQ(serve.Wait(std::chrono::seconds(20)), 0) << serve.err();
}

// A browser's open /api/stream does not hold the shutdown up.
TEST_F(ServeE2eTest, StopsOnSigtermWithAStreamOpen) {
  ServeProcess serve(dir_, {"--db", db_, "--http", "127.0.0.1:0"});
  std::string url = serve.WaitForUrl(std::chrono::seconds(20));
  ASSERT_FALSE(url.empty()) << serve.err();
  httplib::Client client("127.0.0.1", std::stoi(url.substr(url.rfind(':') + 1)));
  client.set_read_timeout(60, 0);
  std::atomic<bool> hello{false};
  std::string received;
  std::thread reader([&] {
    client.Get("/api/stream", [&](const char* data, std::size_t len) {
      received.append(data, len);
      if (received.find("event: hello") != std::string::npos) hello = true;
      return true;
    });
  });
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!hello && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(hello);
  ASSERT_EQ(kill(serve.pid(), SIGTERM), 0);
  // Well before the stream's next keep-alive (15 s), which a server waiting
  // for its clients would need to notice that the client is still there.
  EXPECT_EQ(serve.Wait(std::chrono::seconds(5)), 0) << serve.err();
  reader.join();  // the stream ended with the server
}

TEST_F(ServeE2eTest, StopsOnSigint) {
  ServeProcess serve(dir_, {"--db", db_, "--http", "127.0.0.1:0"});
  ASSERT_FALSE(serve.WaitForUrl(std::chrono::seconds(20)).empty()) << serve.err();
  ASSERT_EQ(kill(serve.pid(), SIGINT), 0);
  EXPECT_EQ(serve.Wait(std::chrono::seconds(20)), 0) << serve.err();
}

TEST_F(ServeE2eTest, MissingDatabaseExits1) {
  ServeProcess serve(dir_, {"--db", dir_ + "/none.db"});
  EXPECT_EQ(serve.Wait(std::chrono::seconds(20)), 1);
  EXPECT_EQ(serve.err(), "machine-health serve: " + dir_ + "/none.db: no such database\n");
}

TEST_F(ServeE2eTest, BadHttpExits2) {
  for (const char* bad : {"localhost", "127.0.0.1:http", "127.0.0.1:70000", ":8080"}) {
    ServeProcess serve(dir_, {"--db", db_, "--http", bad});
    EXPECT_EQ(serve.Wait(std::chrono::seconds(20)), 2) << bad;
    EXPECT_NE(serve.err().find("--http"), std::string::npos) << serve.err();
  }
}

TEST_F(ServeE2eTest, PortInUseExits1WithTheAddress) {
  ServeProcess first(dir_, {"--db", db_, "--http", "127.0.0.1:0"});
  std::string url = first.WaitForUrl(std::chrono::seconds(20));
  ASSERT_FALSE(url.empty()) << first.err();
  std::string address = url.substr(7, url.size() - 8);  // "127.0.0.1:PORT"
  fs::create_directory(dir_ + "/2");
  ServeProcess second(dir_ + "/2", {"--db", db_, "--http", address});
  EXPECT_EQ(second.Wait(std::chrono::seconds(20)), 1);
  EXPECT_NE(second.err().find("cannot listen on " + address + ": address already in use"),
            std::string::npos)
      << second.err();
}

// The dashboard as a browser renders it: every machine card with its state.
// ?live=off: the page polls instead of opening /api/stream, whose open
// request would stop Chromium's virtual time (--virtual-time-budget waits
// for the network to go idle) and so --dump-dom would never return.
TEST_F(ServeE2eTest, ChromiumRendersMachineStates) {
  const std::string chromium = "/usr/bin/chromium";
  if (access(chromium.c_str(), X_OK) != 0) {
    GTEST_SKIP() << "chromium is not installed (Debian package 'chromium'); skipping the "
                    "rendered-dashboard test";
  }
  // m1's latest window with velocity features (the full set has them):
  // 3.1 mm/s in ay is ISO 20816 zone C for group 2 rigid, shown on its card.
  {
    sink::WindowRecord r;
    r.machine_id = "m1";
    r.window_start_ns = testing::kT0Ns + 20 * testing::kStepNs;
    r.feature_names = std::make_shared<const std::vector<std::string>>(
        std::vector<std::string>{"velocity_rms_ax", "velocity_rms_ay"});
    r.features = {1.0, 3.1};
    r.score = r.state_score = 20 / 16.0;
    r.threshold = 0;
    r.state = sink::MachineState::kNormal;
    auto sink = sink::OpenSqliteSink({db_});
    ASSERT_TRUE(sink.ok());
    ASSERT_TRUE((*sink)->Write(std::vector<sink::WindowRecord>{r}).ok());
    ASSERT_TRUE((*sink)->Close().ok());
  }
  ServeProcess serve(dir_, {"--db", db_, "--http", "127.0.0.1:0"});
  std::string url = serve.WaitForUrl(std::chrono::seconds(20));
  ASSERT_FALSE(url.empty()) << serve.err();
  std::string dom;
  int rc = mh::testing::RunCommand(
      chromium +
          " --headless --no-sandbox --disable-gpu --disable-background-networking"
          " --disable-component-update --disable-sync --no-first-run --user-data-dir=" +
          dir_ + "/chromium --virtual-time-budget=5000 --dump-dom " + url + "?live=off 2>/dev/null",
      &dom);
  ASSERT_EQ(rc, 0);
  // Each card carries data-machine and data-state attributes (web/app.js).
  for (const auto& [id, state] : std::vector<std::pair<std::string, std::string>>{
           {"m1", "normal"}, {"m2", "anomalous"}, {"m3", "learning"}}) {
    std::regex card("data-machine=\"" + id + "\"[^>]*data-state=\"" + state + "\"");
    EXPECT_TRUE(std::regex_search(dom, card)) << id << " " << state << "\n" << dom.substr(0, 4000);
  }
  EXPECT_NE(dom.find("machine-health"), std::string::npos);
  std::regex zone("data-machine=\"m1\"[^>]*data-iso-zone=\"C\"[\\s\\S]*?C · 3\\.10 mm/s");
  EXPECT_TRUE(std::regex_search(dom, zone)) << dom.substr(0, 4000);
  for (const char* other : {"m2", "m3"}) {
    EXPECT_TRUE(std::regex_search(
        dom, std::regex(std::string("data-machine=\"") + other + "\"[^>]*data-iso-zone=\"\"")))
        << other;
  }
  // Worst first: the anomalous m2, the normal m1, the learning m3; none stale
  // (their latest windows are within a minute of each other).
  std::size_t m2 = dom.find("data-machine=\"m2\""), m1 = dom.find("data-machine=\"m1\""),
              m3 = dom.find("data-machine=\"m3\"");
  ASSERT_NE(m3, std::string::npos);
  EXPECT_LT(m2, m1);
  EXPECT_LT(m1, m3);
  EXPECT_EQ(dom.find("data-stale=\"true\""), std::string::npos);
  EXPECT_NE(dom.find("data-stale=\"false\""), std::string::npos);
}

// A machine whose latest window is more than a minute older than the
// fleet's newest is marked stale and sorted first within its state.
TEST_F(ServeE2eTest, ChromiumMarksStaleMachines) {
  const std::string chromium = "/usr/bin/chromium";
  if (access(chromium.c_str(), X_OK) != 0) GTEST_SKIP() << "chromium is not installed";
  {
    auto sink = sink::OpenSqliteSink({db_});
    ASSERT_TRUE(sink.ok()) << sink.status().ToString();
    sink::WindowRecord r;
    r.machine_id = "m4";
    r.window_start_ns = testing::kT0Ns + 120'000'000'000;  // 2 min after the others
    r.feature_names = std::make_shared<const std::vector<std::string>>();
    std::vector<sink::WindowRecord> batch = {r};
    ASSERT_TRUE((*sink)->Write(batch).ok());
    ASSERT_TRUE((*sink)->Close().ok());
  }
  ServeProcess serve(dir_, {"--db", db_, "--http", "127.0.0.1:0"});
  std::string url = serve.WaitForUrl(std::chrono::seconds(20));
  ASSERT_FALSE(url.empty()) << serve.err();
  std::string dom;
  ASSERT_EQ(mh::testing::RunCommand(
                chromium +
                    " --headless --no-sandbox --disable-gpu --disable-background-networking"
                    " --disable-component-update --disable-sync --no-first-run --user-data-dir=" +
                    dir_ + "/chromium --virtual-time-budget=5000 --dump-dom " + url +
                    "?live=off 2>/dev/null",
                &dom),
            0);
  for (const auto& [id, stale] : std::vector<std::pair<std::string, std::string>>{
           {"m1", "true"}, {"m2", "true"}, {"m3", "true"}, {"m4", "false"}}) {
    std::regex card("data-machine=\"" + id + "\"[^>]*data-stale=\"" + stale + "\"");
    EXPECT_TRUE(std::regex_search(dom, card)) << id << " " << stale;
  }
  // Learning m3 (stale) before learning m4.
  EXPECT_LT(dom.find("data-machine=\"m3\""), dom.find("data-machine=\"m4\""));
  EXPECT_NE(dom.find("learning · stale"), std::string::npos);
}

// The machine page (web/machine.js) as Chromium draws it, driven by
// playwright-core (tests/http/browser/machine_page.js) over a database that
// `run` filled with its simulated plant (m3 has an outer-race fault and
// alarms) and periodic snapshots. What the page drew is compared with the
// API's answers for the same range; the bearing marks with the analytic
// 6205 frequencies; the acknowledgement with the store. Screenshots go to
// $MH_ARTIFACT_DIR, else test-artifacts/ beside the binary (the build folder),
// under serve_e2e_machine_page/.
TEST_F(ServeE2eTest, PlaywrightDrawsTheMachinePage) {
  using json = nlohmann::json;
  const std::string browser_dir = mh::testing::SourceDir() + "/tests/http/browser";
  if (access("/usr/bin/chromium", X_OK) != 0 ||
      !fs::exists(browser_dir + "/node_modules/playwright-core")) {
    GTEST_SKIP() << "needs /usr/bin/chromium and playwright-core (tools/install-deps.sh test)";
  }
  const std::string db = dir_ + "/run.db";
  std::string ignored;
  ASSERT_EQ(mh::testing::RunCommand(mh::testing::BinaryPath() +
                                        " run --machines 4 --speed 0 --duration 60s --http off"
                                        " --snapshot-every 10s --db " +
                                        db + " >/dev/null 2>&1",
                                    &ignored),
            0);
  {
    std::ofstream toml(dir_ + "/machines.toml");
    toml << "[machines.m3]\nname = \"Pump 3\"\nrpm = 1797\nbearing = \"6205\"\n";
  }
  ServeProcess serve(
      dir_, {"--db", db, "--machines-file", dir_ + "/machines.toml", "--http", "127.0.0.1:0"});
  std::string url = serve.WaitForUrl(std::chrono::seconds(20));
  ASSERT_FALSE(url.empty()) << serve.err();
  httplib::Client api("127.0.0.1", std::stoi(url.substr(url.rfind(':') + 1)));
  auto get = [&](const std::string& path) {
    auto res = api.Get(path);
    EXPECT_TRUE(res && res->status == 200) << path;
    return res ? json::parse(res->body, nullptr, false) : json();
  };

  const char* artifacts_env = std::getenv("MH_ARTIFACT_DIR");
  const fs::path artifacts =
      (artifacts_env != nullptr
           ? fs::path(artifacts_env)
           : fs::path(mh::testing::BinaryPath()).parent_path() / "test-artifacts") /
      "serve_e2e_machine_page";
  fs::create_directories(artifacts);
  std::string out;
  ASSERT_EQ(
      mh::testing::RunCommand(
          "node " + browser_dir + "/machine_page.js " + url + " m3 " + artifacts.string(), &out),
      0)
      << out;
  json page = json::parse(out, nullptr, false);
  ASSERT_TRUE(page.is_object()) << out;
  EXPECT_EQ(page["errors"], json::array());
  EXPECT_TRUE(fs::exists(artifacts / "machine_page.png"));
  const json& first = page["first"];

  // The overview: worst first (the anomalous machines, then the others), and
  // m3's card says since when it is in alarm (or when its last one ended).
  const json& cards = page["overview"];
  ASSERT_EQ(cards.size(), 4u);
  bool seen_other = false;
  for (const json& c : cards) {
    if (c["state"] != "anomalous") seen_other = true;
    EXPECT_FALSE(c["state"] == "anomalous" && seen_other) << cards.dump();
    EXPECT_EQ(c["stale"], "false");
  }
  json m3_alarms = get("/api/alarms?machine=m3&limit=1");
  ASSERT_EQ(m3_alarms.size(), 1u);
  for (const json& c : cards) {
    if (c["id"] != "m3") continue;
    const std::string since = c["since"];
    EXPECT_EQ(since.rfind(m3_alarms[0]["open"] == true ? "in alarm for " : "last alarm ended ", 0),
              0u)
        << since;
  }
  EXPECT_TRUE(fs::exists(artifacts / "overview.png"));
  // "PUMP" matches m3's registry name "Pump 3" only.
  EXPECT_EQ(page["filtered"], json::array({"m3"}));

  // The score chart drew the API's series for the page's range, threshold
  // and alarm spans.
  const std::string from = first["page"]["from"], to = first["page"]["to"];
  json series = get("/api/series?machine=m3&metric=score&from=" + from + "&to=" + to +
                    "&max=" + first["score"]["max"].get<std::string>());
  int non_null = 0;
  double lo = 1e300, hi = -1e300;
  for (const json& v : series["v"]) {
    if (v.is_null()) continue;
    ++non_null;
    lo = std::min(lo, v.get<double>());
    hi = std::max(hi, v.get<double>());
  }
  ASSERT_GT(non_null, 100);
  EXPECT_EQ(std::stoi(first["score"]["points"].get<std::string>()), non_null);
  EXPECT_DOUBLE_EQ(std::stod(first["score"]["min"].get<std::string>()), lo);
  EXPECT_DOUBLE_EQ(std::stod(first["score"]["maxValue"].get<std::string>()), hi);
  json machines = get("/api/machines");
  json m3;
  for (const json& m : machines) {
    if (m["id"] == "m3") m3 = m;
  }
  ASSERT_TRUE(m3.is_object());
  EXPECT_DOUBLE_EQ(std::stod(first["score"]["threshold"].get<std::string>()),
                   m3["threshold"].get<double>());
  EXPECT_GT(std::stoi(first["features"]["points"].get<std::string>()), 0);

  // The alarm list: every alarm of the range with its explanation.
  json alarms = get("/api/alarms?machine=m3&from=" + from + "&to=" + to + "&limit=200");
  ASSERT_GE(alarms.size(), 1u);
  EXPECT_EQ(first["alarms"]["count"], std::to_string(alarms.size()));
  EXPECT_EQ(first["score"]["alarmSpans"], std::to_string(alarms.size()));
  ASSERT_EQ(first["alarm_items"].size(), alarms.size());
  for (std::size_t i = 0; i < alarms.size(); ++i) {
    EXPECT_EQ(first["alarm_items"][i]["id"], alarms[i]["id"]);
    EXPECT_EQ(first["alarm_items"][i]["explanation"], alarms[i]["explanation_text"]);
  }
  EXPECT_EQ(first["card"]["version"],
            std::to_string(get("/api/baselines/m3")["version"].get<int>()));

  // The spectra of the newest snapshot, with the 6205's frequencies at
  // 1797 rpm: BPFO = Z/2 fr (1 - d/D) with Z = 9, d = 7.94, D = 39.04 mm.
  json snaps = get("/api/snapshots?machine=m3");
  ASSERT_GE(snaps.size(), 1u);
  const json& newest = snaps.back();
  EXPECT_EQ(first["spectrum"]["snapshot"], std::to_string(newest["id"].get<int>()));
  EXPECT_EQ(first["envelope"]["snapshot"], std::to_string(newest["id"].get<int>()));
  const std::string bins = std::to_string(newest["samples"].get<int>() / 2 + 1);
  EXPECT_EQ(first["spectrum"]["bins"], bins);
  EXPECT_EQ(first["envelope"]["bins"], bins);
  const double fr = 1797.0 / 60;
  char bpfo[64];
  std::snprintf(bpfo, sizeof bpfo, "BPFO:%.2f", 9 / 2.0 * fr * (1 - 7.94 / 39.04));
  // m3's outer-race fault: the envelope spectrum of its newest snapshot
  // peaks within one bin (fs/n) of BPFO.
  const double bpfo_hz = 9 / 2.0 * fr * (1 - 7.94 / 39.04);
  const double bin_hz = newest["fs_hz"].get<double>() / newest["samples"].get<int>();
  EXPECT_LE(std::abs(std::stod(first["envelope"]["peakHz"].get<std::string>()) - bpfo_hz), bin_hz)
      << first["envelope"].dump();
  std::string marks = first["marks"]["marks"];
  EXPECT_NE(marks.find(bpfo), std::string::npos) << marks;
  EXPECT_NE(marks.find("1\u00d7:29.95"), std::string::npos) << marks;
  EXPECT_GE(first["canvases"].get<int>(), 4);

  // An alarm's button showed the snapshot of its peak window.
  ASSERT_TRUE(page.contains("alarm_snapshot")) << "no alarm snapshot link: " << out;
  const json& shown = page["alarm_snapshot"];
  EXPECT_EQ(shown["shown"], shown["snapshot"]);
  bool is_its_snapshot = false;
  for (const json& s : snaps) {
    if (std::to_string(s["id"].get<int>()) == shown["snapshot"]) {
      is_its_snapshot = s["kind"] == "alarm" && s["alarm_id"] == shown["alarm"];
    }
  }
  EXPECT_TRUE(is_its_snapshot) << shown.dump();

  // A click on the score chart at a snapshot's time showed that snapshot.
  EXPECT_EQ(page["clicked_snapshot"]["shown"],
            std::to_string(page["clicked_snapshot"]["wanted"].get<int>()));

  // The 1 h range refetched the score for the new span.
  const json& hour = page["hour"];
  const std::string hour_from = hour["page"]["from"], hour_to = hour["page"]["to"];
  EXPECT_EQ(std::stoll(hour_to) - std::stoll(hour_from), 3600000);
  bool refetched = false;
  for (const json& u : page["hour_requests"]) {
    refetched |=
        u.get<std::string>().find("from=" + hour_from + "&to=" + hour_to) != std::string::npos;
  }
  EXPECT_TRUE(refetched) << page["hour_requests"].dump();

  // Dragging over the middle half of the 1 h chart zoomed to about that half.
  const json& zoom = page["zoom"];
  const double zoom_from = std::stod(zoom["page"]["from"].get<std::string>());
  const double zoom_to = std::stod(zoom["page"]["to"].get<std::string>());
  EXPECT_NEAR(zoom_from, std::stoll(hour_from) + 0.25 * 3600000, 0.02 * 3600000);
  EXPECT_NEAR(zoom_to, std::stoll(hour_from) + 0.75 * 3600000, 0.02 * 3600000);

  // The acknowledge button wrote the acknowledgement to the store.
  ASSERT_TRUE(page.contains("acked")) << out;
  json acked = get("/api/alarms/" + page["acked"].get<std::string>());
  EXPECT_EQ(acked["acked"], true);
  EXPECT_EQ(acked["acked_by"], "e2e");
}

// Live updates: the machine page of `serve`, open in Chromium, draws the
// windows that the test writes into the store (through the real SQLite sink,
// as `run` would from another process) after the page loaded: the score
// chart's data grow by exactly those points, with no reload and no refetch
// of the series (they came over /api/stream); back on the overview, the
// machine's card shows them too. Screenshots: serve_e2e_live_page/
// live_page.png and overview_live.png beside the other artifacts.
TEST_F(ServeE2eTest, PlaywrightMachinePageGrowsWithLiveWindows) {
  using json = nlohmann::json;
  const std::string browser_dir = mh::testing::SourceDir() + "/tests/http/browser";
  if (access("/usr/bin/chromium", X_OK) != 0 ||
      !fs::exists(browser_dir + "/node_modules/playwright-core")) {
    GTEST_SKIP() << "needs /usr/bin/chromium and playwright-core (tools/install-deps.sh test)";
  }
  ServeProcess serve(dir_, {"--db", db_, "--http", "127.0.0.1:0"});
  std::string url = serve.WaitForUrl(std::chrono::seconds(20));
  ASSERT_FALSE(url.empty()) << serve.err();
  const char* artifacts_env = std::getenv("MH_ARTIFACT_DIR");
  const fs::path artifacts =
      (artifacts_env != nullptr
           ? fs::path(artifacts_env)
           : fs::path(mh::testing::BinaryPath()).parent_path() / "test-artifacts") /
      "serve_e2e_live_page";
  fs::create_directories(artifacts);
  fs::remove(artifacts / "ready");
  constexpr int kNew = 5;
  std::string out;
  int rc = -1;
  std::atomic<bool> browser_done{false};
  std::thread browser([&] {
    rc = mh::testing::RunCommand("node " + browser_dir + "/live_page.js " + url + " m1 " +
                                     artifacts.string() + " " + std::to_string(kNew),
                                 &out);
    browser_done = true;
  });
  // Once the page is up, m1's windows 20..24 with scores unlike its stored
  // ones (i/16), in two transactions.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(40);
  while (!fs::exists(artifacts / "ready") && !browser_done &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const bool ready = fs::exists(artifacts / "ready");
  std::vector<std::int64_t> new_t;
  std::vector<double> new_score;
  if (ready) {
    auto sink = sink::OpenSqliteSink({db_});
    ASSERT_TRUE(sink.ok()) << sink.status().ToString();
    auto names = std::make_shared<const std::vector<std::string>>(
        std::vector<std::string>{"crest_ax", "rms_ax"});
    std::vector<sink::WindowRecord> batch;
    for (int i = 20; i < 20 + kNew; ++i) {
      sink::WindowRecord r;
      r.machine_id = "m1";
      r.window_start_ns = testing::kT0Ns + i * testing::kStepNs;
      r.feature_names = names;
      r.features = {double(i), i / 8.0};
      r.rms = i / 4.0;
      r.score = r.state_score = 0.3 + i / 1000.0;
      r.score_samples = -0.5;
      r.state = sink::MachineState::kNormal;
      batch.push_back(r);
      new_t.push_back(r.window_start_ns / 1'000'000);
      new_score.push_back(r.score);
      if (i == 21 || i == 20 + kNew - 1) {
        EXPECT_TRUE((*sink)->Write(batch).ok());
        batch.clear();
      }
    }
    EXPECT_TRUE((*sink)->Close().ok());
  }
  browser.join();
  ASSERT_TRUE(ready) << "the page did not come up: " << out;
  ASSERT_EQ(rc, 0) << out;
  json page = json::parse(out, nullptr, false);
  ASSERT_TRUE(page.is_object()) << out;
  EXPECT_EQ(page["errors"], json::array());
  const json& before = page["before"]["data"];
  const json& after = page["after"]["data"];
  ASSERT_TRUE(before.is_array() && after.is_array()) << out;
  // [times, state score, score]: the stored windows (m1's 0..19), then
  // exactly the new ones, in order.
  ASSERT_EQ(before[0].size(), 20u);
  ASSERT_EQ(after[0].size(), 20u + kNew) << after.dump();
  for (std::size_t k = 0; k < 20; ++k) {
    EXPECT_EQ(after[0][k], before[0][k]);
    EXPECT_EQ(after[2][k], before[2][k]);
  }
  for (int k = 0; k < kNew; ++k) {
    EXPECT_EQ(after[0][20 + k].get<std::int64_t>(), new_t[k]);
    EXPECT_DOUBLE_EQ(after[2][20 + k].get<double>(), new_score[k]);
    EXPECT_DOUBLE_EQ(after[1][20 + k].get<double>(), new_score[k]);
  }
  // Non-null scores drawn: m1's normal windows 10..19, then the new ones.
  EXPECT_EQ(page["before"]["points"], "10");
  EXPECT_EQ(page["after"]["points"], std::to_string(10 + kNew));
  EXPECT_EQ(page["after"]["live"], std::to_string(kNew));
  EXPECT_EQ(page["before"]["windows"], 20);
  EXPECT_EQ(page["after"]["windows"], 20 + kNew);
  // Same page, not reloaded, series not fetched again.
  EXPECT_EQ(page["after"]["marker"], true);
  EXPECT_EQ(page["navigations"], 0);
  EXPECT_EQ(page["after"]["loaded"], page["before"]["loaded"]);
  EXPECT_EQ(page["series_requests"], 0);
  EXPECT_TRUE(fs::exists(artifacts / "live_page.png"));
  // The overview's card of m1, never reloaded: the new window count and the
  // latest state score (0.3 + 24/1000).
  const json& card = page["card"];
  EXPECT_EQ(card["windows"], 20 + kNew);
  EXPECT_EQ(card["score"], "0.324");
  EXPECT_EQ(card["state"], "normal");
  EXPECT_EQ(card["marker"], true);
  EXPECT_EQ(card["conn"], "live");
  EXPECT_TRUE(fs::exists(artifacts / "overview_live.png"));
}

}  // namespace
}  // namespace mh::http
