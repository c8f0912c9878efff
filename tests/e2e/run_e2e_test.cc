// End-to-end: the real binary. `machine-health run` with a bounded duration
// and a high speed; while it runs, the HTTP API must show the two faulty demo
// machines anomalous and the two healthy ones normal; afterwards the database
// must hold every window.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <signal.h>

#include "testing/process.h"
#include "testing/sqlite_query.h"
#include "testing/test_paths.h"

namespace mh {
namespace {

using Clock = std::chrono::steady_clock;

// Starts the binary with `args` (output in `log`) and waits for the
// dashboard address it prints ("" if none came).
std::unique_ptr<testing::ChildProcess> Start(const std::vector<std::string>& args,
                                             const std::string& log) {
  std::vector<std::string> argv = {testing::BinaryPath()};
  argv.insert(argv.end(), args.begin(), args.end());
  auto p = testing::ChildProcess::Start(argv, log);
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return p.ok() ? std::move(p).value() : nullptr;
}

std::string DashboardUrl(testing::ChildProcess& child) {
  std::string url = testing::WaitForLogLine(child, "dashboard: ", std::chrono::seconds(15));
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

TEST(RunE2ETest, DemoFlagsTheFaultyMachinesAndStoresEveryWindow) {
  const std::string bin = testing::BinaryPath();
  ASSERT_FALSE(bin.empty()) << "MH_BINARY not set";
  const std::string dir = testing::MakeTempDir("mh-e2e");
  const std::string db = dir + "/demo.db";
  // 240 simulated seconds at 24x: about 10 s of wall time.
  auto child = Start({"run", "--duration", "240s", "--speed", "24", "--http", "127.0.0.1:0", "--db",
                      db, "--quiet"},
                     dir + "/run.log");
  ASSERT_NE(child, nullptr);
  const std::string url = DashboardUrl(*child);
  ASSERT_FALSE(url.empty()) << "run did not print its dashboard address";
  httplib::Client client(url);
  client.set_read_timeout(5, 0);

  auto health = client.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);

  // Poll the API until the demo's expected picture appears (or run ends).
  const std::map<std::string, std::string> expected = {
      {"m1", "normal"}, {"m2", "normal"}, {"m3", "anomalous"}, {"m4", "anomalous"}};
  bool seen_learning = false;
  bool seen_expected = false;
  nlohmann::json last;
  const auto deadline = Clock::now() + std::chrono::seconds(120);
  while (child->Running() && Clock::now() < deadline) {
    auto res = client.Get("/api/machines");
    if (res && res->status == 200) {
      last = nlohmann::json::parse(res->body, nullptr, false);
      ASSERT_TRUE(last.is_array()) << res->body;
      std::map<std::string, std::string> states;
      for (const auto& m : last) {
        ASSERT_TRUE(m.contains("id") && m.contains("state") && m.contains("score") &&
                    m.contains("threshold") && m.contains("updated"))
            << m.dump();
        states[m["id"].get<std::string>()] = m["state"].get<std::string>();
        if (m["state"] == "learning") seen_learning = true;
      }
      if (states == expected) {
        seen_expected = true;
        break;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_TRUE(seen_learning) << "never saw the learning state";
  EXPECT_TRUE(seen_expected) << "last /api/machines: " << last.dump();

  // Ready while it runs; /metrics shows the same picture and the writer's counts.
  auto ready = client.Get("/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200) << ready->body;
  auto metrics = client.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  const std::string sink = "{sink=\"sqlite:" + db + "\"}";
  for (const std::string& line :
       std::vector<std::string>{"\nmachine_health_machines{state=\"anomalous\"} 2\n",
                                "\nmachine_health_machines{state=\"normal\"} 2\n",
                                "\nmachine_health_sink_up" + sink + " 1\n",
                                "\nmachine_health_sink_write_failures_total" + sink + " 0\n",
                                "\n# TYPE machine_health_windows_total counter\n"}) {
    EXPECT_NE(metrics->body.find(line), std::string::npos) << line << metrics->body;
  }

  // The score series of a faulty machine ends below its threshold.
  auto series = client.Get("/api/series?machine=m3&metric=score");
  ASSERT_TRUE(series);
  ASSERT_EQ(series->status, 200) << series->body;
  auto js = nlohmann::json::parse(series->body);
  ASSERT_EQ(js["t"].size(), js["v"].size());
  ASSERT_FALSE(js["v"].empty());
  auto rms = client.Get("/api/series?machine=m1&metric=rms");
  ASSERT_TRUE(rms);
  EXPECT_EQ(rms->status, 200);

  EXPECT_EQ(child->Wait(std::chrono::seconds(120)), 0);
  // 240 s of 20 ms windows (512 samples at 25.6 kHz) for 4 machines, every
  // one stored (event time); the first 30 s (1500 windows) learn.
  EXPECT_EQ(testing::QueryInt(db, "SELECT count(*) FROM scores"), 4 * 12000);
  EXPECT_EQ(testing::QueryInt(db, "SELECT count(DISTINCT machine_id) FROM scores"), 4);
  EXPECT_EQ(testing::QueryInt(db, "SELECT count(*) FROM scores WHERE score IS NULL"), 4 * 1500);
  EXPECT_EQ(testing::QueryInt(db,
                              "SELECT count(*) FROM machines WHERE id IN ('m3','m4') AND "
                              "state = 'anomalous'"),
            2);
  EXPECT_EQ(testing::QueryInt(db,
                              "SELECT count(*) FROM machines WHERE id IN ('m1','m2') AND "
                              "state = 'normal'"),
            2);
  // Window starts are 20 ms apart in event time.
  EXPECT_EQ(testing::QueryInt(db,
                              "SELECT (max(t_ns) - min(t_ns)) / 20000000 FROM scores WHERE "
                              "machine_id = 'm2'"),
            11999);
  std::filesystem::remove_all(dir);
}

TEST(RunE2ETest, SigtermStopsCleanlyWithAConsistentDatabase) {
  const std::string bin = testing::BinaryPath();
  ASSERT_FALSE(bin.empty());
  const std::string dir = testing::MakeTempDir("mh-e2e");
  const std::string db = dir + "/stop.db";
  auto child = Start({"run", "--speed", "10", "--http", "127.0.0.1:0", "--db", db, "--quiet"},
                     dir + "/run.log");
  ASSERT_NE(child, nullptr);
  ASSERT_FALSE(DashboardUrl(*child).empty());
  // Stopped once windows are being stored.
  ASSERT_TRUE(
      testing::WaitUntil([&] { return testing::QueryInt(db, "SELECT count(*) FROM scores") > 0; },
                         std::chrono::seconds(15)));
  child->Signal(SIGTERM);
  EXPECT_EQ(child->Wait(std::chrono::seconds(30)), 0);
  EXPECT_GT(testing::QueryInt(db, "SELECT count(*) FROM scores"), 0);
  EXPECT_EQ(testing::QueryText(db, "PRAGMA integrity_check"), "ok");
  // Every stored window has its features.
  EXPECT_EQ(testing::QueryInt(db,
                              "SELECT count(*) FROM scores s WHERE NOT EXISTS (SELECT 1 FROM "
                              "features f WHERE f.machine_id = s.machine_id AND f.t_ns = s.t_ns)"),
            0);
  std::filesystem::remove_all(dir);
}

TEST(RunE2ETest, BadOptionsExitTwoNamingTheOption) {
  const std::string bin = testing::BinaryPath();
  ASSERT_FALSE(bin.empty());
  struct Case {
    std::string args, option;
  } cases[] = {{"--machines 0", "--machines"},      {"--speed -1", "--speed"},
               {"--duration abc", "--duration"},    {"--http nowhere", "--http"},
               {"--fault 9:outer-race", "--fault"}, {"--fault 1:rust", "--fault"},
               {"--machines many", "--machines"}};
  for (const auto& c : cases) {
    std::string out;
    int code =
        testing::RunCommand(bin + " run --http off --db /tmp/never.db " + c.args + " 2>&1", &out);
    EXPECT_EQ(code, 2) << c.args << ": " << out;
    EXPECT_NE(out.find(c.option), std::string::npos) << c.args << ": " << out;
  }
  EXPECT_FALSE(std::filesystem::exists("/tmp/never.db"));
}

TEST(RunE2ETest, UnusableResourcesExitOneWithoutLeavingFiles) {
  const std::string bin = testing::BinaryPath();
  ASSERT_FALSE(bin.empty());
  const std::string dir = testing::MakeTempDir("mh-e2e");
  std::string out;
  // A database in a directory that does not exist.
  int code = testing::RunCommand(
      bin + " run --http off --duration 1s --db " + dir + "/no/such/dir/x.db 2>&1", &out);
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find("x.db"), std::string::npos) << out;
  // A model file that does not load.
  {
    FILE* f = std::fopen((dir + "/bad.model").c_str(), "w");
    std::fputs("not a model", f);
    std::fclose(f);
  }
  code = testing::RunCommand(bin + " run --http off --duration 1s --db " + dir + "/m.db --model " +
                                 dir + "/bad.model 2>&1",
                             &out);
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find("--model"), std::string::npos) << out;
  EXPECT_FALSE(std::filesystem::exists(dir + "/m.db"));
  // A port already in use.
  httplib::Server blocker;
  int port = blocker.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  out.clear();
  code = testing::RunCommand(bin + " run --duration 1s --db " + dir +
                                 "/p.db --http 127.0.0.1:" + std::to_string(port) + " 2>&1",
                             &out);
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find(std::to_string(port)), std::string::npos) << out;
  EXPECT_FALSE(std::filesystem::exists(dir + "/p.db"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace mh
