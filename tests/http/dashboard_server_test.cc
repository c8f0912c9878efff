#include "http/dashboard_server.h"

#include <atomic>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <time.h>

#include "core/compression.h"
#include "core/time_util.h"
#include "http/metrics_server.h"
#include "score/baseline.h"
#include "sink/sqlite/alarm_store.h"
#include "sink/sqlite/baseline_store.h"
#include "sink/sqlite/sqlite_sink.h"
#include "test_db.h"
#include "testing/test_paths.h"

namespace mh::http {
namespace {

using nlohmann::json;
using testing::kStepNs;
using testing::kT0Ns;

// Parses "YYYY-MM-DDTHH:MM:SS.mmmZ" with libc (independent of core's
// FormatRfc3339) into epoch ms; -1 if malformed.
std::int64_t ParseRfc3339Ms(const std::string& text) {
  std::tm tm{};
  const char* rest = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (rest == nullptr) return -1;
  int ms = 0;
  if (std::sscanf(rest, ".%3dZ", &ms) != 1 || std::string(rest).size() != 5) return -1;
  return static_cast<std::int64_t>(timegm(&tm)) * 1000 + ms;
}

// What every fixture here has: a temporary folder with the test database
// (testing::FillTestDb), a server on it and a client.
class ServerFixture : public ::testing::Test {
 protected:
  // Makes the folder and fills the database; call first in SetUp.
  void MakeDb(const char* prefix) {
    dir_ = mh::testing::MakeTempDir(prefix);
    ASSERT_FALSE(dir_.empty());
    db_ = dir_ + "/m.db";
    ASSERT_EQ(testing::FillTestDb(db_), "");
  }
  // Starts the server on the database with `options` (port and db_path set here).
  void StartServer(ServerOptions options) {
    options.port = 0;
    options.db_path = db_;
    auto server = DashboardServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    client_->set_read_timeout(10, 0);
  }
  void TearDown() override {
    client_.reset();
    server_.reset();
    std::filesystem::remove_all(dir_);
  }
  // GET `path`; expects a response and returns it.
  httplib::Result Get(const std::string& path) {
    auto res = client_->Get(path);
    EXPECT_TRUE(res) << path << ": " << httplib::to_string(res.error());
    return res;
  }
  // GET or POST `path`, expecting `expected_status`; the body as JSON
  // (discarded when it is not JSON, null without a response).
  json GetJson(const std::string& path, int expected_status = 200) {
    return ToJson(path, client_->Get(path), expected_status);
  }
  json PostJson(const std::string& path, const std::string& body, int expected_status = 200) {
    return ToJson(path, client_->Post(path, body, "application/json"), expected_status);
  }

  std::string dir_;
  std::string db_;
  std::unique_ptr<DashboardServer> server_;
  std::unique_ptr<httplib::Client> client_;

 private:
  static json ToJson(const std::string& path, const httplib::Result& res, int expected_status) {
    EXPECT_TRUE(res) << path;
    if (!res) return nullptr;
    EXPECT_EQ(res->status, expected_status) << path << ": " << res->body;
    return json::parse(res->body, nullptr, false);
  }
};

class DashboardServerTest : public ServerFixture {
 protected:
  void SetUp() override {
    MakeDb("mh-server-test");
    StartServer({});
  }
};

TEST_F(DashboardServerTest, UrlAndHealth) {
  EXPECT_GT(server_->port(), 0);
  EXPECT_EQ(server_->url(), "http://127.0.0.1:" + std::to_string(server_->port()) + "/");
  auto res = Get("/healthz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(json::parse(res->body), json({{"status", "ok"}}));
}

TEST_F(DashboardServerTest, MetricsInPrometheusFormat) {
  auto res = Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), metrics::kContentType);
  // The test database: m1 normal, m2 anomalous, m3 learning.
  for (const char* line : {"# TYPE machine_health_machines gauge\n",
                           "machine_health_machines{state=\"anomalous\"} 1\n",
                           "machine_health_machines{state=\"learning\"} 1\n",
                           "machine_health_machines{state=\"normal\"} 1\n",
                           "# TYPE process_resident_memory_bytes gauge\n",
                           "# TYPE process_cpu_seconds_total counter\n"}) {
    EXPECT_NE(res->body.find(line), std::string::npos) << line << " in\n" << res->body;
  }
}

TEST_F(DashboardServerTest, ReadyzAsksTheOwnerAndSharesItsRegistry) {
  auto registry = std::make_shared<metrics::Registry>();
  registry->AddCounter("machine_health_test_total", "A test counter.")
      .With(std::vector<std::string>{})
      ->Add(42);
  std::atomic<bool> ready{false};
  ServerOptions options;
  options.port = 0;
  options.db_path = db_;
  options.metrics = registry;
  options.readiness = [&ready]() -> std::string {
    return ready.load() ? "" : "source jsonl:x not connected";
  };
  auto server = DashboardServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  httplib::Client client("127.0.0.1", (*server)->port());
  client.set_read_timeout(10, 0);
  auto res = client.Get("/readyz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  EXPECT_EQ(json::parse(res->body),
            json({{"status", "not ready"}, {"reason", "source jsonl:x not connected"}}));
  ready.store(true);
  res = client.Get("/readyz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(json::parse(res->body), json({{"status", "ready"}}));
  res = client.Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_NE(res->body.find("\nmachine_health_test_total 42\n"), std::string::npos) << res->body;
  EXPECT_NE(res->body.find("machine_health_machines{"), std::string::npos);
  // The registry outlives the server: its database gauges go with it.
  (*server)->Stop();
  EXPECT_EQ(registry->Expose().find("machine_health_machines"), std::string::npos);
}

TEST(MetricsServerTest, ServesMetricsHealthAndReadinessOnly) {
  auto registry = std::make_shared<metrics::Registry>();
  registry->AddCounter("machine_health_events_received_total", "Events.", {"source"})
      .With({"jsonl:a"})
      ->Add(7);
  std::atomic<bool> ready{false};
  MetricsServerOptions options;
  options.port = 0;
  options.metrics = registry;
  options.readiness = [&ready]() -> std::string { return ready.load() ? "" : "not scoring"; };
  auto server = MetricsServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  EXPECT_EQ((*server)->url(), "http://127.0.0.1:" + std::to_string((*server)->port()) + "/");
  httplib::Client client("127.0.0.1", (*server)->port());
  client.set_read_timeout(10, 0);
  auto res = client.Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), metrics::kContentType);
  EXPECT_EQ(res->body,
            "# HELP machine_health_events_received_total Events.\n"
            "# TYPE machine_health_events_received_total counter\n"
            "machine_health_events_received_total{source=\"jsonl:a\"} 7\n");
  res = client.Get("/healthz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  res = client.Get("/readyz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  EXPECT_EQ(json::parse(res->body)["reason"], "not scoring");
  ready.store(true);
  res = client.Get("/readyz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  res = client.Get("/api/machines");  // no dashboard here
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  // A second server on the same port is refused with the reason.
  MetricsServerOptions again = options;
  again.port = (*server)->port();
  auto second = MetricsServer::Start(again);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().message(), "cannot listen on 127.0.0.1:" + std::to_string(again.port) +
                                           ": address already in use");
}

TEST_F(DashboardServerTest, MachinesWithARegistry) {
  // A second server over the same database, given a machines file.
  auto reg = registry::Registry::Parse("[machines.m3]\nname = \"Fan 3\"\n", "machines.toml");
  ASSERT_TRUE(reg.ok()) << reg.status().ToString();
  ServerOptions options;
  options.port = 0;
  options.db_path = db_;
  options.registry = std::move(*reg);
  auto server = DashboardServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  httplib::Client client("127.0.0.1", (*server)->port());
  client.set_read_timeout(10, 0);
  auto res = client.Get("/api/machines");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  json j = json::parse(res->body);
  ASSERT_EQ(j.size(), 3u);
  EXPECT_EQ(j[2]["id"], "m3");
  EXPECT_EQ(j[2]["registry"]["name"], "Fan 3");
  EXPECT_EQ(j[2]["registry"]["from_file"], true);
  EXPECT_EQ(j[0]["registry"]["from_file"], false);
  // The first server, without a registry, answers as before.
  auto plain = Get("/api/machines");
  ASSERT_TRUE(plain);
  EXPECT_FALSE(json::parse(plain->body)[0].contains("registry"));
}

TEST_F(DashboardServerTest, Machines) {
  auto res = Get("/api/machines");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(res->get_header_value("Cache-Control"), "no-store");
  json j = json::parse(res->body);
  ASSERT_EQ(j.size(), 3u);
  std::vector<std::string> ids;
  for (const json& m : j) {
    ids.push_back(m["id"]);
    for (const char* key : {"id", "state", "score", "threshold", "updated", "windows"}) {
      EXPECT_TRUE(m.contains(key)) << key;
    }
  }
  EXPECT_EQ(ids, (std::vector<std::string>{"m1", "m2", "m3"}));
  EXPECT_EQ(ParseRfc3339Ms(j[0]["updated"]), (kT0Ns + 19 * kStepNs) / 1'000'000);
  EXPECT_EQ(ParseRfc3339Ms(j[1]["updated"]), (kT0Ns + 4 * kStepNs) / 1'000'000);
  EXPECT_EQ(j[1]["state"], "anomalous");
  EXPECT_DOUBLE_EQ(j[1]["score"].get<double>(), -4 / 32.0);
  EXPECT_TRUE(j[2]["score"].is_null());
}

TEST_F(DashboardServerTest, Series) {
  auto res = Get("/api/series?machine=m2&metric=score");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  json j = json::parse(res->body);
  ASSERT_EQ(j["t"].size(), 5u);
  EXPECT_EQ(j["t"][4], (kT0Ns + 4 * kStepNs) / 1'000'000);
  EXPECT_TRUE(j["v"][0].is_null());
  EXPECT_TRUE(j["v"][1].is_null());
  EXPECT_DOUBLE_EQ(j["v"][2].get<double>(), -2 / 32.0);

  auto range = Get("/api/series?machine=m1&metric=crest_ax&from=2026-09-21T14:13:21Z&to=" +
                   std::to_string(kT0Ns / 1'000'000 + 1500) + "&max=100");
  ASSERT_TRUE(range);
  ASSERT_EQ(range->status, 200) << range->body;
  EXPECT_EQ(json::parse(range->body)["v"], json::array({10.0, 11.0, 12.0, 13.0, 14.0}));
}

TEST_F(DashboardServerTest, ErrorCodes) {
  struct Case {
    const char* path;
    int status;
    const char* needle;
  };
  const Case cases[] = {
      {"/api/series?metric=score", 400, "machine"},
      {"/api/series?machine=m1&from=soon", 400, "from"},
      {"/api/series?machine=m1&from=99999999999999", 400, "out of range"},
      {"/api/series?machine=m1&from=-9223372036854&to=9223372036854", 400, "out of range"},
      {"/api/series?machine=m1&to=-9223372036854", 400, "out of range"},
      {"/api/series?machine=m1&max=-1", 400, "max"},
      {"/api/series?machine=m1&metric=unknown_feature", 400, "unknown_feature"},
      {"/api/series?machine=m1&machine=m2", 400, "machine"},
      {"/api/series?machine=nosuch", 404, "nosuch"},
      {"/api/nothing", 404, "/api/nothing"},
      {"/no/such/page", 404, "/no/such/page"},
  };
  for (const Case& c : cases) {
    auto res = Get(c.path);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, c.status) << c.path;
    json j = json::parse(res->body, nullptr, false);
    ASSERT_TRUE(j.is_object()) << c.path << ": " << res->body;
    EXPECT_NE(j.value("error", "").find(c.needle), std::string::npos)
        << c.path << ": " << res->body;
  }
}

TEST_F(DashboardServerTest, StaticFiles) {
  auto index = Get("/");
  ASSERT_TRUE(index);
  EXPECT_EQ(index->status, 200);
  EXPECT_EQ(index->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(index->get_header_value("Cache-Control"), "no-cache");
  EXPECT_NE(index->body.find("<title>machine-health</title>"), std::string::npos);
  auto js = Get("/app.js");
  ASSERT_TRUE(js);
  EXPECT_EQ(js->status, 200);
  EXPECT_EQ(js->get_header_value("Content-Type"), "text/javascript; charset=utf-8");
  auto css = Get("/style.css");
  ASSERT_TRUE(css);
  EXPECT_EQ(css->get_header_value("Content-Type"), "text/css; charset=utf-8");
}

// Issue 17 (docs/benchmarks.md "Dashboard speed"): the servers gzip what a
// browser gets themselves, never with httplib's slow brotli, even when "br"
// is offered first, and a static asset revalidates to 304 by its ETag.
TEST_F(DashboardServerTest, GzipsForABrowserAndNeverBrotli) {
  client_->set_decompress(false);  // see the bytes on the wire
  const httplib::Headers browser = {{"Accept-Encoding", "gzip, deflate, br"}};
  int api_packed = 0;  // API answers compressed per request
  std::vector<std::string> paths = {"/vendor/uPlot.iife.min.js", "/", "/api/machines",
                                    "/api/series?machine=m1&metric=score"};
  ASSERT_EQ(testing::AddTestSnapshots(db_), "");
  json snaps = GetJson("/api/snapshots?machine=m2");
  ASSERT_TRUE(snaps.is_array() && !snaps.empty()) << snaps.dump();
  paths.push_back("/api/snapshots/" + snaps[0]["id"].dump() + "?view=spectrum");
  for (const std::string& path : paths) {
    auto plain = client_->Get(path, httplib::Headers{{"Accept-Encoding", "identity"}});
    ASSERT_TRUE(plain) << path;
    ASSERT_EQ(plain->status, 200) << path;
    EXPECT_FALSE(plain->has_header("Content-Encoding")) << path;
    auto packed = client_->Get(path, browser);
    ASSERT_TRUE(packed) << path;
    EXPECT_EQ(packed->status, 200) << path;
    EXPECT_EQ(packed->get_header_value("Vary"), "Accept-Encoding") << path;
    if (plain->body.size() < 1024) {
      EXPECT_FALSE(packed->has_header("Content-Encoding")) << path << " is small";
      EXPECT_EQ(packed->body, plain->body) << path;
      continue;
    }
    EXPECT_EQ(packed->get_header_value("Content-Encoding"), "gzip") << path;
    EXPECT_LT(packed->body.size(), plain->body.size()) << path;
    auto back = Decompress(Compression::kGzip, packed->body);
    ASSERT_TRUE(back.ok()) << path << ": " << back.status().ToString();
    EXPECT_EQ(*back, plain->body) << path;
    if (path.rfind("/api/", 0) == 0) ++api_packed;
  }
  EXPECT_GE(api_packed, 1);  // the spectrum is over 1 KiB
  auto js = client_->Get("/vendor/uPlot.iife.min.js", browser);
  ASSERT_TRUE(js);
  EXPECT_EQ(js->get_header_value("Content-Encoding"), "gzip");
  // Brotli alone, or gzip refused: the bytes as they are.
  for (const char* accept : {"br", "gzip;q=0, br", "identity", "*;q=0"}) {
    auto res =
        client_->Get("/vendor/uPlot.iife.min.js", httplib::Headers{{"Accept-Encoding", accept}});
    ASSERT_TRUE(res) << accept;
    EXPECT_EQ(res->status, 200) << accept;
    EXPECT_FALSE(res->has_header("Content-Encoding")) << accept;
    EXPECT_GT(res->body.size(), 40000u) << accept;
  }
  // "*" and an upper-case name accept gzip.
  for (const char* accept : {"*", "GZIP;q=0.5", "br;q=1.0, x-gzip"}) {
    auto res =
        client_->Get("/vendor/uPlot.iife.min.js", httplib::Headers{{"Accept-Encoding", accept}});
    ASSERT_TRUE(res) << accept;
    EXPECT_EQ(res->get_header_value("Content-Encoding"), "gzip") << accept;
  }
}

TEST_F(DashboardServerTest, StaticFilesRevalidateByEtag) {
  auto first = Get("/app.js");
  ASSERT_TRUE(first);
  ASSERT_EQ(first->status, 200);
  const std::string tag = first->get_header_value("ETag");
  ASSERT_EQ(tag.size(), 18u) << tag;  // a quoted 64-bit hash
  EXPECT_EQ(tag.front(), '"');
  EXPECT_EQ(first->get_header_value("Cache-Control"), "no-cache");
  // Each asset has its own tag, the same on every request.
  auto css = Get("/style.css");
  ASSERT_TRUE(css);
  EXPECT_NE(css->get_header_value("ETag"), tag);
  EXPECT_EQ(Get("/app.js")->get_header_value("ETag"), tag);
  for (const std::string& match : {tag, "W/" + tag, "\"x\", " + tag, std::string("*")}) {
    auto again = client_->Get("/app.js", httplib::Headers{{"If-None-Match", match}});
    ASSERT_TRUE(again) << match;
    EXPECT_EQ(again->status, 304) << match;
    EXPECT_TRUE(again->body.empty()) << match;
    EXPECT_EQ(again->get_header_value("ETag"), tag) << match;
  }
  for (const std::string& other :
       {std::string("\"0000000000000000\""), css->get_header_value("ETag")}) {
    auto changed = client_->Get("/app.js", httplib::Headers{{"If-None-Match", other}});
    ASSERT_TRUE(changed) << other;
    EXPECT_EQ(changed->status, 200) << other;
    EXPECT_EQ(changed->body, first->body) << other;
  }
  // The API has no validator: always the data.
  auto api = Get("/api/machines");
  ASSERT_TRUE(api);
  EXPECT_FALSE(api->has_header("ETag"));
  EXPECT_EQ(api->get_header_value("Cache-Control"), "no-store");
}

TEST_F(DashboardServerTest, SeesWindowsWrittenWhileServing) {
  auto sink = sink::OpenSqliteSink({db_});
  ASSERT_TRUE(sink.ok()) << sink.status().ToString();
  sink::WindowRecord r;
  r.machine_id = "m4";
  r.window_start_ns = kT0Ns;
  r.feature_names = std::make_shared<const std::vector<std::string>>();
  std::vector<sink::WindowRecord> batch = {r};
  ASSERT_TRUE((*sink)->Write(batch).ok());
  auto res = Get("/api/machines");
  ASSERT_TRUE(res);
  json j = json::parse(res->body);
  ASSERT_EQ(j.size(), 4u);
  EXPECT_EQ(j[3]["id"], "m4");
}

TEST_F(DashboardServerTest, PortInUseNamesTheAddress) {
  ServerOptions options;
  options.port = server_->port();
  options.db_path = db_;
  auto second = DashboardServer::Start(options);
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(second.status().IsIOError());
  EXPECT_EQ(
      second.status().message(),
      "cannot listen on 127.0.0.1:" + std::to_string(server_->port()) + ": address already in use");
}

TEST_F(DashboardServerTest, MissingDatabaseIsNotFound) {
  ServerOptions options;
  options.port = 0;
  options.db_path = dir_ + "/none.db";
  auto server = DashboardServer::Start(options);
  ASSERT_FALSE(server.ok());
  EXPECT_TRUE(server.status().IsNotFound());
  EXPECT_EQ(server.status().message(), dir_ + "/none.db: no such database");
}

TEST_F(DashboardServerTest, StopIsIdempotent) {
  const int port = server_->port();
  server_->Stop();
  server_->Stop();
  httplib::Client c("127.0.0.1", port);
  c.set_connection_timeout(1, 0);
  EXPECT_FALSE(c.Get("/healthz"));
}

// Alarms over HTTP: listing with filters, one alarm, acknowledgement (the
// only request that writes) with its outbox event and callback.
class AlarmsApiTest : public ServerFixture {
 protected:
  void SetUp() override {
    MakeDb("mh-alarms-api-test");
    if (HasFatalFailure()) return;
    {
      auto store = sink::AlarmStore::Open({db_});
      ASSERT_TRUE(store.ok()) << store.status().ToString();
      sink::AlarmRecord a;
      a.alarm_id = "m2-1";
      a.machine_id = "m2";
      a.start_ns = kT0Ns + 2 * kStepNs;
      a.peak_score = -0.125;
      a.explanation_json = R"({"iso_zone":"B"})";
      sink::AlarmRecord b = a;
      b.alarm_id = "m1-1";
      b.machine_id = "m1";
      b.start_ns = kT0Ns;
      b.end_ns = kT0Ns + kStepNs;
      std::vector<sink::AlarmEvent> events = {{sink::AlarmEventKind::kOpened, a, a.start_ns},
                                              {sink::AlarmEventKind::kClosed, b, b.end_ns}};
      ASSERT_TRUE((*store)->Record(events).ok());
    }
    ServerOptions options;
    options.on_alarm_event = [this] { ++events_; };
    StartServer(options);
  }
  httplib::Result Ack(const std::string& id, const std::string& body) {
    auto res = client_->Post("/api/alarms/" + id + "/ack", body, "application/json");
    EXPECT_TRUE(res);
    return res;
  }

  std::atomic<int> events_{0};
};

TEST_F(AlarmsApiTest, ListAndGet) {
  json all = GetJson("/api/alarms");
  ASSERT_TRUE(all.is_array());
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0]["id"], "m2-1");  // newest first
  EXPECT_EQ(all[0]["open"], true);
  EXPECT_EQ(all[0]["end_ns"], nullptr);
  EXPECT_EQ(all[0]["peak_score"], -0.125);
  EXPECT_EQ(all[0]["explanation"]["iso_zone"], "B");
  EXPECT_EQ(ParseRfc3339Ms(all[0]["start"]), (kT0Ns + 2 * kStepNs) / 1'000'000);
  EXPECT_EQ(all[1]["id"], "m1-1");
  EXPECT_EQ(all[1]["open"], false);
  EXPECT_EQ(all[1]["end_ns"], kT0Ns + kStepNs);
  EXPECT_EQ(GetJson("/api/alarms?open=true").size(), 1u);
  EXPECT_EQ(GetJson("/api/alarms?machine=m1")[0]["id"], "m1-1");
  EXPECT_EQ(GetJson("/api/alarms?limit=1").size(), 1u);
  // Time range in epoch ms: [t0 + 150 ms, ...) excludes m1-1, which ended at t0 + 100 ms.
  const std::string from = std::to_string(kT0Ns / 1'000'000 + 150);
  json ranged = GetJson("/api/alarms?from=" + from);
  ASSERT_EQ(ranged.size(), 1u);
  EXPECT_EQ(ranged[0]["id"], "m2-1");
  EXPECT_NE(GetJson("/api/alarms?open=maybe", 400)["error"].get<std::string>().find("open"),
            std::string::npos);
  GetJson("/api/alarms?limit=0", 400);
  EXPECT_EQ(GetJson("/api/alarms/m1-1")["machine"], "m1");
  EXPECT_NE(GetJson("/api/alarms/nope", 404)["error"].get<std::string>().find("nope"),
            std::string::npos);
}

TEST_F(AlarmsApiTest, AcknowledgeOnceThenKeepsTheFirst) {
  auto res = Ack("m2-1", R"({"by": "ann"})");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  json first = json::parse(res->body);
  EXPECT_EQ(first["already_acknowledged"], false);
  EXPECT_EQ(first["alarm"]["acked_by"], "ann");
  EXPECT_EQ(first["alarm"]["acked"], true);
  EXPECT_EQ(events_.load(), 1);
  res = Ack("m2-1", R"({"by": "bob"})");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  json second = json::parse(res->body);
  EXPECT_EQ(second["already_acknowledged"], true);
  EXPECT_EQ(second["alarm"]["acked_by"], "ann");
  EXPECT_EQ(second["alarm"]["acked_ns"], first["alarm"]["acked_ns"]);
  // The listing (read-only connection) sees the acknowledgement.
  EXPECT_EQ(GetJson("/api/alarms/m2-1")["acked_by"], "ann");

  res = Ack("nope", R"({"by": "ann"})");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  for (const char* bad : {"", "[]", R"({"by": ""})", R"({"by": 3})", "{not json"}) {
    res = Ack("m1-1", bad);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400) << bad;
  }
  // One acknowledged event waits in the outbox for the notifiers.
  auto store = sink::AlarmStore::Open({db_});
  ASSERT_TRUE(store.ok());
  auto pending = (*store)->Pending("test", 10);
  ASSERT_TRUE(pending.ok());
  std::vector<std::string> ids;
  for (const auto& e : *pending) ids.push_back(e.event_id);
  EXPECT_EQ(ids, (std::vector<std::string>{"m2-1:opened", "m1-1:closed", "m2-1:acknowledged"}));
}

TEST(AlarmsApiOffTest, AcknowledgementSwitchedOffIs403) {
  const std::string dir = mh::testing::MakeTempDir("mh-alarms-off-test");
  const std::string db = dir + "/m.db";
  ASSERT_EQ(testing::FillTestDb(db), "");
  ServerOptions options;
  options.port = 0;
  options.db_path = db;
  options.allow_ack = false;
  auto server = DashboardServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  httplib::Client client("127.0.0.1", (*server)->port());
  auto res = client.Post("/api/alarms/x/ack", R"({"by":"ann"})", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 403);
  (*server)->Stop();
  std::filesystem::remove_all(dir);
}

// Baselines over HTTP: list, show, retrain from stored windows and reset
// (both write through a BaselineStore), and 403 when switched off.
class BaselinesApiTest : public ServerFixture {
 protected:
  void SetUp() override {
    MakeDb("mh-baselines-api-test");
    if (HasFatalFailure()) return;
    // Version 1 of m1, on its stored features rms_ax (as log) and crest_ax.
    score::LearnOptions learn;
    learn.learning_windows = 20;
    learn.train.n_estimators = 20;
    score::MachineScorer scorer("m1", {"log_rms_ax", "crest_ax"}, learn);
    for (int i = 0; i < 20; ++i) {
      const double row[] = {std::log(std::max(i / 8.0, 1e-300)), static_cast<double>(i)};
      ASSERT_TRUE(scorer.Observe(row, kT0Ns + i * kStepNs).ok());
    }
    ASSERT_FALSE(scorer.learning());
    {
      auto store = sink::BaselineStore::Open({db_});
      ASSERT_TRUE(store.ok()) << store.status().ToString();
      ASSERT_TRUE((*store)->Save(*scorer.baseline()).ok());
    }
    ServerOptions options;
    options.learn.train.n_estimators = 20;
    StartServer(options);
  }
};

TEST_F(BaselinesApiTest, ListShowRetrainReset) {
  json all = GetJson("/api/baselines");
  ASSERT_TRUE(all.is_array());
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0]["machine"], "m1");
  EXPECT_EQ(all[0]["version"], 1);
  EXPECT_EQ(all[0]["active"], true);
  EXPECT_EQ(all[0]["card"]["rows"], 20);
  EXPECT_FALSE(all[0].contains("stats"));
  EXPECT_TRUE(GetJson("/api/baselines?machine=m2").empty());

  json one = GetJson("/api/baselines/m1");
  EXPECT_EQ(one["version"], 1);
  ASSERT_EQ(one["stats"].size(), 2u);
  EXPECT_EQ(one["stats"][1]["feature"], "crest_ax");
  EXPECT_DOUBLE_EQ(one["stats"][1]["mean"].get<double>(), 9.5);  // mean of 0..19
  EXPECT_DOUBLE_EQ(one["stats"][1]["max"].get<double>(), 19);
  GetJson("/api/baselines/m2", 404);
  GetJson("/api/baselines/m1?version=abc", 400);
  GetJson("/api/baselines/m1?version=4", 404);

  // Retrain from windows 5..14: from as RFC 3339, to as epoch ms.
  const std::string body = R"({"from":")" + FormatRfc3339(kT0Ns + 5 * kStepNs, 3) + R"(","to":)" +
                           std::to_string((kT0Ns + 15 * kStepNs) / 1'000'000) + "}";
  json retrained = PostJson("/api/baselines/m1/retrain", body);
  EXPECT_EQ(retrained["version"], 2);
  EXPECT_EQ(retrained["active"], true);
  EXPECT_EQ(retrained["card"]["rows"], 10);
  EXPECT_EQ(retrained["card"]["trained_from"], FormatRfc3339(kT0Ns + 5 * kStepNs, 3));
  EXPECT_EQ(retrained["card"]["trained_to"], FormatRfc3339(kT0Ns + 14 * kStepNs, 3));
  EXPECT_EQ(retrained["card"]["features"], json({"log_rms_ax", "crest_ax"}));
  EXPECT_EQ(retrained["rule"], score::DescribeThreshold(score::ThresholdOptions{}));
  EXPECT_DOUBLE_EQ(retrained["stats"][1]["mean"].get<double>(), 9.5);  // mean of 5..14
  EXPECT_EQ(GetJson("/api/baselines/m1")["version"], 2);               // the read-only side sees it
  EXPECT_EQ(GetJson("/api/baselines/m1?version=1")["active"], false);

  PostJson("/api/baselines/m1/retrain", "[1]", 400);
  PostJson("/api/baselines/m1/retrain", R"({"from":"soon"})", 400);
  PostJson("/api/baselines/m1/retrain", R"({"from":2000,"to":1000})", 400);
  PostJson("/api/baselines/m9/retrain", "", 404);

  json reset = PostJson("/api/baselines/m1/reset", "");
  EXPECT_EQ(reset["machine"], "m1");
  EXPECT_EQ(reset["was_active"], true);
  EXPECT_EQ(reset["previous_version"], 2);
  GetJson("/api/baselines/m1", 404);
  json after = GetJson("/api/baselines?machine=m1");
  ASSERT_EQ(after.size(), 2u);
  EXPECT_EQ(after[0]["active"], false);
  EXPECT_EQ(after[1]["active"], false);
  json again = PostJson("/api/baselines/m1/reset", "");
  EXPECT_EQ(again["was_active"], false);
  EXPECT_TRUE(again["previous_version"].is_null());
  // Retrain after a reset: the latest version's features, the default range.
  json fresh = PostJson("/api/baselines/m1/retrain", "");
  EXPECT_EQ(fresh["version"], 3);
  EXPECT_EQ(fresh["card"]["rows"], 20);
}

TEST(BaselinesApiOffTest, ChangesSwitchedOffAre403) {
  const std::string dir = mh::testing::MakeTempDir("mh-baselines-off-test");
  const std::string db = dir + "/m.db";
  ASSERT_EQ(testing::FillTestDb(db), "");
  ServerOptions options;
  options.port = 0;
  options.db_path = db;
  options.allow_baseline_changes = false;
  auto server = DashboardServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  httplib::Client client("127.0.0.1", (*server)->port());
  for (const char* path : {"/api/baselines/m1/reset", "/api/baselines/m1/retrain"}) {
    auto res = client.Post(path, "", "application/json");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 403) << path;
  }
  auto list = client.Get("/api/baselines");
  ASSERT_TRUE(list);
  EXPECT_EQ(list->status, 200);
  EXPECT_EQ(list->body, "[]");
  (*server)->Stop();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace mh::http
