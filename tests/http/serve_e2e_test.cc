// End-to-end tests of `machine-health serve` (the built binary), and of the
// dashboard rendered by headless Chromium when it is installed.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

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
TEST_F(ServeE2eTest, ChromiumRendersMachineStates) {
  const std::string chromium = "/usr/bin/chromium";
  if (access(chromium.c_str(), X_OK) != 0) {
    GTEST_SKIP() << "chromium is not installed (Debian package 'chromium'); skipping the "
                    "rendered-dashboard test";
  }
  ServeProcess serve(dir_, {"--db", db_, "--http", "127.0.0.1:0"});
  std::string url = serve.WaitForUrl(std::chrono::seconds(20));
  ASSERT_FALSE(url.empty()) << serve.err();
  std::string dom;
  int rc = mh::testing::RunCommand(
      chromium +
          " --headless --no-sandbox --disable-gpu --disable-background-networking"
          " --disable-component-update --disable-sync --no-first-run --user-data-dir=" +
          dir_ + "/chromium --virtual-time-budget=5000 --dump-dom " + url + " 2>/dev/null",
      &dom);
  ASSERT_EQ(rc, 0);
  // Each card carries data-machine and data-state attributes (web/app.js).
  for (const auto& [id, state] : std::vector<std::pair<std::string, std::string>>{
           {"m1", "normal"}, {"m2", "anomalous"}, {"m3", "learning"}}) {
    std::regex card("data-machine=\"" + id + "\"[^>]*data-state=\"" + state + "\"");
    EXPECT_TRUE(std::regex_search(dom, card)) << id << " " << state << "\n" << dom.substr(0, 4000);
  }
  EXPECT_NE(dom.find("machine-health"), std::string::npos);
}

}  // namespace
}  // namespace mh::http
