// Replay from http: a local httplib::Server on 127.0.0.1 (any free port)
// serves a CSV; the query string (a SAS token) must never appear in messages.
#include <chrono>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "replay/replayer.h"
#include "replay/table_file.h"
#include "replay_test_util.h"
#include "testing/test_paths.h"

namespace mh::replay {
namespace {

constexpr const char* kCsv = "sensor;v\r\nm1;1,5\r\nm2;2,5\r\n";

class HttpReplayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.Get("/data.csv", [this](const httplib::Request& req, httplib::Response& res) {
      last_query_sig_ = req.has_param("sig") ? req.get_param_value("sig") : "";
      res.set_content(kCsv, "text/csv");
    });
    server_.Get("/broken",
                [](const httplib::Request&, httplib::Response& res) { res.status = 500; });
    port_ = server_.bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // Wait (bounded) until the accept loop runs, so that stop() ends it.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!server_.is_running() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield();
    }
    ASSERT_TRUE(server_.is_running());
  }
  void TearDown() override {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  std::string Url(const std::string& path) {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::string last_query_sig_;
};

TEST_F(HttpReplayTest, ReplaysACsvFromAUrl) {
  const std::string url = Url("/data.csv?sv=1&sig=SECRET");
  testing::FakeClock clock;
  testing::CapturePublisher pub;
  ReplayOptions o;
  o.sensor_id_column = "sensor";
  o.delay_s = 0;
  auto stats = Replay([&] { return OpenTableFile(url, {}); }, o, pub, clock);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(last_query_sig_, "SECRET");  // the query reaches the server
  const auto ev = pub.Events();
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0]["sensor_id"], "m1");
  EXPECT_EQ(ev[0]["feature_1"].get<double>(), 1.5);
  EXPECT_EQ(ev[1]["feature_1"].get<double>(), 2.5);
}

TEST_F(HttpReplayTest, ErrorsNeverShowTheQuery) {
  for (const std::string path : {"/missing.csv?sig=SECRET", "/broken?sig=SECRET"}) {
    auto body = FetchUrl(Url(path), {});
    ASSERT_FALSE(body.ok());
    EXPECT_EQ(body.status().message().find("SECRET"), std::string::npos) << body.status().message();
    EXPECT_NE(body.status().message().find("?<redacted>"), std::string::npos);
  }
  EXPECT_TRUE(FetchUrl(Url("/missing.csv?sig=SECRET"), {}).status().IsNotFound());
  EXPECT_TRUE(FetchUrl(Url("/broken?sig=SECRET"), {}).status().IsUnavailable());
  // Bad data in a fetched file names the redacted url.
  TableFileOptions t;
  t.csv.column_types = {{"sensor", ValueKind::kInt}};
  auto reader = OpenTableFile(Url("/data.csv?sig=SECRET"), t);
  ASSERT_TRUE(reader.ok());
  TableBatch batch;
  auto next = (*reader)->Next(&batch);
  ASSERT_FALSE(next.ok());
  EXPECT_EQ(next.status().message().find("SECRET"), std::string::npos);
  EXPECT_NE(next.status().message().find("line 2"), std::string::npos);
}

TEST_F(HttpReplayTest, BodyLimit) {
  TableFileOptions t;
  t.max_download_bytes = 4;
  auto body = FetchUrl(Url("/data.csv"), t);
  ASSERT_FALSE(body.ok());
  EXPECT_NE(body.status().message().find("limit"), std::string::npos);
}

TEST_F(HttpReplayTest, CliReplaysAUrl) {
  const std::string bin = mh::testing::BinaryPath();
  if (bin.empty()) GTEST_SKIP() << "MH_BINARY not set";
  std::string out;
  const std::string cmd = bin + " replay --input '" + Url("/data.csv?sig=SECRET") +
                          "' --to - --delay 0 --sensor-id-column sensor 2>&1";
  ASSERT_EQ(mh::testing::RunCommand(cmd, &out), 0) << out;
  EXPECT_EQ(out.find("SECRET"), std::string::npos) << out;
  EXPECT_NE(out.find("{\"sensor_id\":\"m2\""), std::string::npos) << out;
}

}  // namespace
}  // namespace mh::replay
