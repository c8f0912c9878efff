// GET /api/stream (server-sent events) of a live DashboardServer, read with
// httplib's client as a browser would read it, while the real SQLite sink
// writes windows and the alarm store alarms into the database; and the
// LiveFeed's bound on a client that does not read.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "http/dashboard_server.h"
#include "http/live_feed.h"
#include "sink/sqlite/alarm_store.h"
#include "sink/sqlite/sqlite_reader.h"
#include "sink/sqlite/sqlite_sink.h"
#include "test_db.h"
#include "testing/test_paths.h"

namespace mh::http {
namespace {

using nlohmann::json;
using testing::kStepNs;
using testing::kT0Ns;

// One parsed server-sent event.
struct Sse {
  std::string id;
  std::string type;
  json data;
};

// Reads GET `path` of 127.0.0.1:`port` in a thread and parses its events
// (independently of the server's framing code: split at blank lines, then
// "field: value" lines; comments start with ':').
class StreamReader {
 public:
  StreamReader(int port, const std::string& path, const std::string& last_event_id = "")
      : client_("127.0.0.1", port) {
    client_.set_read_timeout(10, 0);
    thread_ = std::thread([this, path, last_event_id] {
      httplib::Headers headers;
      if (!last_event_id.empty()) headers.emplace("Last-Event-ID", last_event_id);
      auto res = client_.Get(path, headers, [this](const char* data, std::size_t len) {
        std::lock_guard<std::mutex> lock(mu_);
        raw_.append(data, len);
        Parse();
        cv_.notify_all();
        return !stop_;
      });
      std::lock_guard<std::mutex> lock(mu_);
      ended_ = true;
      if (res) status_ = res->status;
      cv_.notify_all();
    });
  }
  ~StreamReader() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    client_.stop();
    thread_.join();
  }
  // Waits until `done(events)` holds; false after 20 s.
  bool WaitFor(const std::function<bool(const std::vector<Sse>&)>& done) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(20), [&] { return done(events_); });
  }
  bool WaitForComments(int n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(20), [&] { return comments_ >= n; });
  }
  bool WaitForEnd() {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(20), [&] { return ended_; });
  }
  std::vector<Sse> events() {
    std::lock_guard<std::mutex> lock(mu_);
    return events_;
  }

 private:
  void Parse() {
    std::size_t end;
    while ((end = raw_.find("\n\n")) != std::string::npos) {
      std::string block = raw_.substr(0, end + 1);
      raw_.erase(0, end + 2);
      Sse e;
      bool any = false;
      std::size_t pos = 0, nl;
      while ((nl = block.find('\n', pos)) != std::string::npos) {
        std::string line = block.substr(pos, nl - pos);
        pos = nl + 1;
        if (line.empty()) continue;
        if (line[0] == ':') {
          ++comments_;
          continue;
        }
        std::size_t colon = line.find(": ");
        ASSERT_NE(colon, std::string::npos) << line;
        std::string field = line.substr(0, colon), value = line.substr(colon + 2);
        if (field == "id") e.id = value;
        if (field == "event") e.type = value;
        if (field == "data") e.data = json::parse(value, nullptr, false);
        any = true;
      }
      if (any && !e.type.empty()) events_.push_back(std::move(e));
    }
  }

  httplib::Client client_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::string raw_;
  std::vector<Sse> events_;
  int comments_ = 0;
  bool stop_ = false;
  bool ended_ = false;
  int status_ = 0;
};

std::size_t Count(const std::vector<Sse>& events, const std::string& type) {
  std::size_t n = 0;
  for (const Sse& e : events) n += e.type == type;
  return n;
}

// The id's sequence number ("<epoch>-<seq>").
std::int64_t SeqOf(const std::string& id) { return std::stoll(id.substr(id.find('-') + 1)); }

class LiveStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = mh::testing::MakeTempDir("mh-live-test");
    ASSERT_FALSE(dir_.empty());
    db_ = dir_ + "/m.db";
    ASSERT_EQ(testing::FillTestDb(db_), "");
    ServerOptions options;
    options.port = 0;
    options.db_path = db_;
    options.live.poll_interval = std::chrono::milliseconds(20);
    options.live.keep_alive = std::chrono::milliseconds(200);
    options.live.alarm_grace = std::chrono::milliseconds(2000);
    auto server = DashboardServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
    auto sink = sink::OpenSqliteSink({db_});
    ASSERT_TRUE(sink.ok()) << sink.status().ToString();
    sink_ = std::move(sink).value();
  }
  void TearDown() override {
    if (sink_) {
      EXPECT_TRUE(sink_->Close().ok());
    }
    server_.reset();
    std::filesystem::remove_all(dir_);
  }
  // Window i of `machine` as FillTestDb makes m1's (normal, score i/16),
  // or anomalous with score -i/32.
  sink::WindowRecord Window(const std::string& machine, int i, bool anomalous = false) {
    sink::WindowRecord r;
    r.machine_id = machine;
    r.window_start_ns = kT0Ns + i * kStepNs;
    r.feature_names = names_;
    r.features = {double(i), i / 8.0};
    r.rms = i / 4.0;
    r.threshold = 0;
    r.score = r.state_score = anomalous ? -i / 32.0 : i / 16.0;
    r.score_samples = -0.5 - i / 16.0;
    r.anomaly = anomalous;
    r.state = anomalous ? sink::MachineState::kAnomalous : sink::MachineState::kNormal;
    return r;
  }
  void Write(std::vector<sink::WindowRecord> batch) { ASSERT_TRUE(sink_->Write(batch).ok()); }
  // A feed of its own polling often, whose clients hold 3 events at most.
  static LiveOptions SmallQueue() {
    LiveOptions options;
    options.poll_interval = std::chrono::milliseconds(10);
    options.client_queue_events = 3;
    return options;
  }

  std::shared_ptr<const std::vector<std::string>> names_ =
      std::make_shared<const std::vector<std::string>>(
          std::vector<std::string>{"crest_ax", "rms_ax"});
  std::string dir_;
  std::string db_;
  std::unique_ptr<DashboardServer> server_;
  std::unique_ptr<sink::Sink> sink_;
};

TEST_F(LiveStreamTest, NewWindowsArriveInOrderOnce) {
  StreamReader stream(server_->port(), "/api/stream");
  ASSERT_TRUE(stream.WaitFor([](const auto& e) { return Count(e, "hello") == 1; }));
  // Written after the client connected, in three transactions.
  Write({Window("m1", 20), Window("m1", 21)});
  Write({Window("m2", 5, true), Window("m1", 22)});
  Write({Window("m1", 23)});
  ASSERT_TRUE(stream.WaitFor([](const auto& e) { return Count(e, "window") >= 5; }));
  // A later window arrives after them; none of the earlier ones again.
  Write({Window("m1", 24)});
  ASSERT_TRUE(stream.WaitFor([](const auto& e) { return Count(e, "window") >= 6; }));

  std::vector<Sse> events = stream.events();
  ASSERT_EQ(events[0].type, "hello");
  EXPECT_EQ(events[0].data["resumed"], false);
  std::vector<int> m1;
  std::int64_t last_seq = SeqOf(events[0].id);
  for (std::size_t k = 1; k < events.size(); ++k) {
    const Sse& e = events[k];
    ASSERT_EQ(e.type, "window") << e.data.dump();
    EXPECT_EQ(SeqOf(e.id), last_seq + 1) << "ids are consecutive";
    last_seq = SeqOf(e.id);
    const int i = static_cast<int>((e.data["t"].get<std::int64_t>() - kT0Ns / 1'000'000) /
                                   (kStepNs / 1'000'000));
    if (e.data["machine"] == "m1") {
      m1.push_back(i);
      EXPECT_DOUBLE_EQ(e.data["score"].get<double>(), i / 16.0);
      EXPECT_DOUBLE_EQ(e.data["rms"].get<double>(), i / 4.0);
      EXPECT_EQ(e.data["state"], "normal");
      EXPECT_DOUBLE_EQ(e.data["threshold"].get<double>(), 0);
    } else {
      EXPECT_EQ(e.data["machine"], "m2");
      EXPECT_EQ(i, 5);
      EXPECT_DOUBLE_EQ(e.data["score"].get<double>(), -5 / 32.0);
      EXPECT_EQ(e.data["state"], "anomalous");  // as before: no state event
    }
  }
  EXPECT_EQ(m1, (std::vector<int>{20, 21, 22, 23, 24}));
  EXPECT_EQ(Count(events, "window"), 6u);
  EXPECT_EQ(Count(events, "state"), 0u);
}

TEST_F(LiveStreamTest, StateChangesCarryTheAlarm) {
  StreamReader stream(server_->port(), "/api/stream");
  ASSERT_TRUE(stream.WaitFor([](const auto& e) { return Count(e, "hello") == 1; }));
  auto alarms = sink::AlarmStore::Open({db_});
  ASSERT_TRUE(alarms.ok()) << alarms.status().ToString();
  sink::AlarmEvent opened;
  opened.kind = sink::AlarmEventKind::kOpened;
  opened.alarm.alarm_id = "m1@21";
  opened.alarm.machine_id = "m1";
  opened.alarm.start_ns = kT0Ns + 21 * kStepNs;
  opened.event_ns = opened.alarm.start_ns;
  // The window that opens the alarm is stored before the alarm (as the
  // pipeline may): its state event waits for it.
  Write({Window("m1", 20), Window("m1", 21, true)});
  ASSERT_TRUE((*alarms)->Record({&opened, 1}).ok());
  sink::AlarmEvent closed = opened;
  closed.kind = sink::AlarmEventKind::kClosed;
  closed.alarm.end_ns = kT0Ns + 23 * kStepNs;
  ASSERT_TRUE((*alarms)->Record({&closed, 1}).ok());
  Write({Window("m1", 22, true), Window("m1", 23)});
  // m3 leaves learning without an alarm.
  Write({Window("m3", 3)});
  ASSERT_TRUE(stream.WaitFor([](const auto& e) { return Count(e, "state") >= 3; }));
  std::vector<json> states;
  for (const Sse& e : stream.events()) {
    if (e.type == "state") states.push_back(e.data);
  }
  ASSERT_EQ(states.size(), 3u);
  std::sort(states.begin(), states.end(),
            [](const json& a, const json& b) { return a["t"] < b["t"]; });
  EXPECT_EQ(states[0], json::parse(R"({"machine":"m3","t":1790000000300,"time":
      "2026-09-21T14:13:20.300Z","from":"learning","to":"normal","alarm_id":null})"));
  EXPECT_EQ(states[1]["machine"], "m1");
  EXPECT_EQ(states[1]["from"], "normal");
  EXPECT_EQ(states[1]["to"], "anomalous");
  EXPECT_EQ(states[1]["alarm_id"], "m1@21");
  EXPECT_EQ(states[1]["t"], 1790000002100);
  EXPECT_EQ(states[2]["from"], "anomalous");
  EXPECT_EQ(states[2]["to"], "normal");
  EXPECT_EQ(states[2]["alarm_id"], "m1@21");
  EXPECT_EQ(states[2]["t"], 1790000002300);
}

TEST_F(LiveStreamTest, ResumesAfterLastEventIdWithoutGapsOrDuplicates) {
  std::string resume_id;
  {
    StreamReader first(server_->port(), "/api/stream");
    ASSERT_TRUE(first.WaitFor([](const auto& e) { return Count(e, "hello") == 1; }));
    Write({Window("m1", 20), Window("m1", 21), Window("m1", 22)});
    ASSERT_TRUE(first.WaitFor([](const auto& e) { return Count(e, "window") >= 3; }));
    resume_id = first.events()[2].id;  // after m1's window 21
    ASSERT_EQ(first.events()[2].data["t"], 1790000002100);
  }
  // Written while no client is connected.
  Write({Window("m1", 23), Window("m1", 24)});
  StreamReader second(server_->port(), "/api/stream", resume_id);
  ASSERT_TRUE(second.WaitFor([](const auto& e) { return Count(e, "window") >= 3; }));
  Write({Window("m1", 25)});
  ASSERT_TRUE(second.WaitFor([](const auto& e) { return Count(e, "window") >= 4; }));
  std::vector<std::int64_t> ts;
  const auto events = second.events();
  for (const Sse& e : events) {
    if (e.type == "window") ts.push_back(e.data["t"]);
  }
  EXPECT_EQ(
      ts, (std::vector<std::int64_t>{1790000002200, 1790000002300, 1790000002400, 1790000002500}));
  EXPECT_EQ(SeqOf(events[0].id), SeqOf(resume_id) + 1);
  ASSERT_EQ(Count(events, "hello"), 1u);
  for (const Sse& e : events) {
    if (e.type == "hello") {
      EXPECT_EQ(e.data["resumed"], true);
    }
  }
  // The parameter works as the header does.
  StreamReader by_param(server_->port(), "/api/stream?last_event_id=" + resume_id);
  ASSERT_TRUE(by_param.WaitFor([](const auto& e) { return Count(e, "window") >= 4; }));
  EXPECT_EQ(by_param.events()[0].data["t"], 1790000002200);
  // An id of another server run cannot be resumed: a reset comes first.
  StreamReader other(server_->port(), "/api/stream", "12345-3");
  ASSERT_TRUE(other.WaitFor([](const auto& e) { return Count(e, "hello") == 1; }));
  EXPECT_EQ(other.events()[0].type, "reset");
  EXPECT_EQ(Count(other.events(), "window"), 0u);
}

TEST_F(LiveStreamTest, SinceReplaysStoredWindowsThenLive) {
  // m1's windows 15..19 are stored; m2 and m3 end before.
  StreamReader stream(server_->port(),
                      "/api/stream?since=" + std::to_string((kT0Ns + 15 * kStepNs) / 1'000'000));
  ASSERT_TRUE(stream.WaitFor([](const auto& e) { return Count(e, "hello") == 1; }));
  Write({Window("m1", 20)});
  ASSERT_TRUE(stream.WaitFor([](const auto& e) { return Count(e, "window") >= 6; }));
  const auto events = stream.events();
  std::vector<std::int64_t> ts;
  for (const Sse& e : events) {
    if (e.type == "window") ts.push_back(e.data["t"]);
  }
  EXPECT_EQ(ts, (std::vector<std::int64_t>{1790000001500, 1790000001600, 1790000001700,
                                           1790000001800, 1790000001900, 1790000002000}));
  ASSERT_EQ(events[5].type, "hello");
  EXPECT_EQ(events[5].data["backlog"], 5);
  EXPECT_TRUE(events[0].id.empty()) << "backlog events carry no id";
  EXPECT_EQ(SeqOf(events[6].id), SeqOf(events[5].id) + 1);
}

TEST_F(LiveStreamTest, BadParametersAre400) {
  httplib::Client client("127.0.0.1", server_->port());
  auto res = client.Get("/api/stream?since=yesterday");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_NE(res->body.find("bad parameter 'since'"), std::string::npos) << res->body;
  res = client.Get("/api/stream?since=1&since=2");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
}

TEST_F(LiveStreamTest, KeepAliveAndStopWithoutWaitingForClients) {
  StreamReader stream(server_->port(), "/api/stream");
  ASSERT_TRUE(stream.WaitFor([](const auto& e) { return Count(e, "hello") == 1; }));
  // keep_alive is 200 ms: comments arrive while nothing is written.
  ASSERT_TRUE(stream.WaitForComments(2));
  auto stopped = std::async(std::launch::async, [this] { server_->Stop(); });
  EXPECT_EQ(stopped.wait_for(std::chrono::seconds(10)), std::future_status::ready)
      << "Stop() waited for the open stream";
  EXPECT_TRUE(stream.WaitForEnd());
}

TEST_F(LiveStreamTest, TooManyStreamsIs503) {
  server_.reset();
  ServerOptions options;
  options.port = 0;
  options.db_path = db_;
  options.live.max_clients = 1;
  auto server = DashboardServer::Start(options);
  ASSERT_TRUE(server.ok());
  StreamReader one((*server)->port(), "/api/stream");
  ASSERT_TRUE(one.WaitFor([](const auto& e) { return Count(e, "hello") == 1; }));
  httplib::Client client("127.0.0.1", (*server)->port());
  auto res = client.Get("/api/stream");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  EXPECT_EQ(res->get_header_value("Retry-After"), "5");
  // Other requests are still served.
  res = client.Get("/api/machines");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
}

// A subscriber that does not read is dropped once it is more than
// client_queue_events behind; the poller goes on for the others.
TEST_F(LiveStreamTest, ASlowClientIsDroppedNotWaitedFor) {
  auto reader = sink::SqliteReader::Open(db_);
  ASSERT_TRUE(reader.ok());
  auto feed = LiveFeed::Start(reader->get(), SmallQueue());
  ASSERT_TRUE(feed.ok());
  auto slow = (*feed)->Subscribe("", std::nullopt);
  auto fast = (*feed)->Subscribe("", std::nullopt);
  ASSERT_TRUE(slow.ok() && fast.ok());
  std::string text;
  ASSERT_TRUE((*fast)->Next(&text));  // the hello
  std::string seen;
  for (int i = 20; i < 26; i += 2) {
    Write({Window("m1", i), Window("m1", i + 1)});
    // Two events per poll at most: the fast reader keeps up.
    while (seen.find("\"t\":" + std::to_string((kT0Ns + (i + 1) * kStepNs) / 1'000'000)) ==
           std::string::npos) {
      ASSERT_TRUE((*fast)->Next(&text));
      seen += text;
    }
  }
  EXPECT_FALSE((*slow)->Next(&text)) << "the slow client was not dropped: " << text;
  EXPECT_EQ((*feed)->clients(), 2u);
  slow->reset();
  EXPECT_EQ((*feed)->clients(), 1u);
  (*feed)->Stop();
  EXPECT_FALSE((*fast)->Next(&text));
}

// A client that has read everything gets a burst larger than
// client_queue_events whole (review finding: one bulk poll used to drop
// every client, idle ones too).
TEST_F(LiveStreamTest, ABurstLargerThanTheQueueReachesAClientThatKeepsUp) {
  auto reader = sink::SqliteReader::Open(db_);
  ASSERT_TRUE(reader.ok());
  auto feed = LiveFeed::Start(reader->get(), SmallQueue());
  ASSERT_TRUE(feed.ok());
  auto client = (*feed)->Subscribe("", std::nullopt);
  ASSERT_TRUE(client.ok());
  std::string text;
  ASSERT_TRUE((*client)->Next(&text));  // the hello
  std::vector<sink::WindowRecord> burst;
  for (int i = 30; i < 40; ++i) burst.push_back(Window("m1", i));
  Write(burst);
  std::string seen;
  const std::string last = "\"t\":" + std::to_string((kT0Ns + 39 * kStepNs) / 1'000'000);
  while (seen.find(last) == std::string::npos) {
    ASSERT_TRUE((*client)->Next(&text)) << "dropped after: " << seen;
    seen += text;
  }
  for (int i = 30; i < 40; ++i) {
    EXPECT_NE(seen.find("\"t\":" + std::to_string((kT0Ns + i * kStepNs) / 1'000'000)),
              std::string::npos)
        << i;
  }
  (*feed)->Stop();
}

}  // namespace
}  // namespace mh::http
