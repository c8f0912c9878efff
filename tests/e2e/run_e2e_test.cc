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

#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testing/test_paths.h"

namespace mh {
namespace {

using Clock = std::chrono::steady_clock;

// A child process whose stdout is read line by line.
class Child {
 public:
  explicit Child(const std::vector<std::string>& argv) {
    int fds[2];
    if (pipe(fds) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(fds[1], 1);
      close(fds[0]);
      close(fds[1]);
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      execv(args[0], args.data());
      _exit(127);
    }
    close(fds[1]);
    out_ = fdopen(fds[0], "r");
  }
  ~Child() {
    if (pid_ > 0 && !exited_) {
      kill(pid_, SIGKILL);
      Wait();
    }
    if (out_) fclose(out_);
  }
  // Next stdout line ("" at end of output).
  std::string ReadLine() {
    char buf[4096];
    if (!out_ || !fgets(buf, sizeof(buf), out_)) return "";
    return buf;
  }
  bool Running() {
    if (exited_) return false;
    int status;
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      exited_ = true;
      code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    return !exited_;
  }
  int Wait() {
    if (!exited_) {
      int status;
      waitpid(pid_, &status, 0);
      exited_ = true;
      code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    return code_;
  }
  void Signal(int sig) { kill(pid_, sig); }

 private:
  pid_t pid_ = -1;
  FILE* out_ = nullptr;
  bool exited_ = false;
  int code_ = -1;
};

std::string DashboardUrl(Child& child) {
  for (int i = 0; i < 10; ++i) {
    std::string line = child.ReadLine();
    if (line.rfind("dashboard: ", 0) == 0) {
      std::string url = line.substr(11);
      while (!url.empty() && (url.back() == '\n' || url.back() == '/')) url.pop_back();
      return url;
    }
  }
  return "";
}

std::int64_t CountRows(const std::string& db, const std::string& sql) {
  sqlite3* conn = nullptr;
  if (sqlite3_open_v2(db.c_str(), &conn, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) return -1;
  sqlite3_stmt* stmt = nullptr;
  std::int64_t n = -1;
  if (sqlite3_prepare_v2(conn, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
      sqlite3_step(stmt) == SQLITE_ROW) {
    n = sqlite3_column_int64(stmt, 0);
  }
  sqlite3_finalize(stmt);
  sqlite3_close(conn);
  return n;
}

std::string QueryText(const std::string& db, const std::string& sql) {
  sqlite3* conn = nullptr;
  if (sqlite3_open_v2(db.c_str(), &conn, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) return "";
  sqlite3_stmt* stmt = nullptr;
  std::string text;
  if (sqlite3_prepare_v2(conn, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
      sqlite3_step(stmt) == SQLITE_ROW) {
    const unsigned char* t = sqlite3_column_text(stmt, 0);
    if (t) text = reinterpret_cast<const char*>(t);
  }
  sqlite3_finalize(stmt);
  sqlite3_close(conn);
  return text;
}

TEST(RunE2ETest, DemoFlagsTheFaultyMachinesAndStoresEveryWindow) {
  const std::string bin = testing::BinaryPath();
  ASSERT_FALSE(bin.empty()) << "MH_BINARY not set";
  const std::string dir = testing::MakeTempDir("mh-e2e");
  const std::string db = dir + "/demo.db";
  // 240 simulated seconds at 24x: about 10 s of wall time.
  Child child({bin, "run", "--duration", "240s", "--speed", "24", "--http", "127.0.0.1:0", "--db",
               db, "--quiet"});
  const std::string url = DashboardUrl(child);
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
  while (child.Running() && Clock::now() < deadline) {
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

  EXPECT_EQ(child.Wait(), 0);
  // 240 s of 20 ms windows (512 samples at 25.6 kHz) for 4 machines, every
  // one stored (event time); the first 30 s (1500 windows) learn.
  EXPECT_EQ(CountRows(db, "SELECT count(*) FROM scores"), 4 * 12000);
  EXPECT_EQ(CountRows(db, "SELECT count(DISTINCT machine_id) FROM scores"), 4);
  EXPECT_EQ(CountRows(db, "SELECT count(*) FROM scores WHERE score IS NULL"), 4 * 1500);
  EXPECT_EQ(CountRows(db,
                      "SELECT count(*) FROM machines WHERE id IN ('m3','m4') AND "
                      "state = 'anomalous'"),
            2);
  EXPECT_EQ(CountRows(db,
                      "SELECT count(*) FROM machines WHERE id IN ('m1','m2') AND "
                      "state = 'normal'"),
            2);
  // Window starts are 20 ms apart in event time.
  EXPECT_EQ(CountRows(db,
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
  Child child({bin, "run", "--speed", "10", "--http", "127.0.0.1:0", "--db", db, "--quiet"});
  ASSERT_FALSE(DashboardUrl(child).empty());
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  child.Signal(SIGTERM);
  EXPECT_EQ(child.Wait(), 0);
  EXPECT_GT(CountRows(db, "SELECT count(*) FROM scores"), 0);
  EXPECT_EQ(QueryText(db, "PRAGMA integrity_check"), "ok");
  // Every stored window has its features.
  EXPECT_EQ(CountRows(db,
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
