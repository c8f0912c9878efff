// AlarmStore and the alarm side of SqliteReader: upserts by alarm id,
// idempotent replays, acknowledgement, the outbox (cursors, pruning, bound)
// and the migration of a schema version 1 database made by the code before
// alarms existed (testdata/schema_v1.db, written by `machine-health run` of
// that version).
#include "sink/sqlite/alarm_store.h"

#include <cmath>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "sink/sqlite/sqlite_reader.h"
#include "sink/sqlite/sqlite_sink.h"
#include "testing/sqlite_query.h"
#include "testing/test_paths.h"

namespace mh::sink {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr std::int64_t kSecond = 1'000'000'000;
constexpr std::int64_t kT0 = 1'790'000'000 * kSecond;

AlarmRecord Alarm(const std::string& id, const std::string& machine, std::int64_t start_s,
                  double peak) {
  AlarmRecord a;
  a.alarm_id = id;
  a.machine_id = machine;
  a.start_ns = kT0 + start_s * kSecond;
  a.peak_score = peak;
  a.baseline_version = 3;
  a.explanation_json = R"({"features":[{"name":"kurtosis_ax","z":7.5}]})";
  a.explanation_text = "kurtosis_ax 7.5 sd above baseline";
  return a;
}

AlarmEvent Opened(const AlarmRecord& a) { return {AlarmEventKind::kOpened, a, a.start_ns}; }

AlarmEvent Closed(AlarmRecord a, std::int64_t end_s, double peak) {
  a.end_ns = kT0 + end_s * kSecond;
  a.peak_score = peak;
  return {AlarmEventKind::kClosed, a, a.end_ns};
}

class AlarmStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = mh::testing::MakeTempDir("mh-alarm-store-test");
    ASSERT_FALSE(dir_.empty());
    path_ = dir_ + "/m.db";
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::unique_ptr<AlarmStore> OpenOrDie(std::size_t max_outbox = 10000) {
    auto store = AlarmStore::Open({path_, max_outbox});
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  // The first row's first column as text ("" when there is none or the
  // query fails).
  std::string QueryOne(const std::string& sql) { return mh::testing::QueryText(path_, sql); }

  std::vector<std::string> PendingIds(AlarmStore& store, const std::string& destination) {
    auto pending = store.Pending(destination, 1000);
    EXPECT_TRUE(pending.ok()) << pending.status().ToString();
    std::vector<std::string> ids;
    if (pending.ok()) {
      for (const OutboxEntry& e : *pending) ids.push_back(e.event_id);
    }
    return ids;
  }

  std::string dir_;
  std::string path_;
};

TEST_F(AlarmStoreTest, OpenCloseUpsertOneRowAndLowerPeak) {
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  AlarmRecord a = Alarm("m3-1", "m3", 10, -0.05);
  std::vector<AlarmEvent> open = {Opened(a)};
  ASSERT_TRUE(store->Record(open).ok());
  auto got = store->Get("m3-1");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->machine_id, "m3");
  EXPECT_EQ(got->start_ns, kT0 + 10 * kSecond);
  EXPECT_EQ(got->end_ns, 0);
  EXPECT_DOUBLE_EQ(got->peak_score, -0.05);
  EXPECT_EQ(got->baseline_version, 3);
  EXPECT_EQ(got->explanation_text, "kurtosis_ax 7.5 sd above baseline");
  EXPECT_EQ(got->acked_ns, 0);

  AlarmRecord closing = a;
  closing.explanation_text = "final explanation";
  std::vector<AlarmEvent> close = {Closed(closing, 70, -0.2)};
  ASSERT_TRUE(store->Record(close).ok());
  got = store->Get("m3-1");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->end_ns, kT0 + 70 * kSecond);
  EXPECT_DOUBLE_EQ(got->peak_score, -0.2);
  EXPECT_EQ(got->explanation_text, "final explanation");
  EXPECT_EQ(got->start_ns, kT0 + 10 * kSecond);  // kept from the open
  EXPECT_EQ(QueryOne("SELECT count(*) FROM alarms"), "1");
  // A closing event with a higher (less anomalous) score keeps the peak.
  std::vector<AlarmEvent> again = {Closed(a, 70, 0.1)};
  ASSERT_TRUE(store->Record(again).ok());
  EXPECT_DOUBLE_EQ(store->Get("m3-1")->peak_score, -0.2);
}

TEST_F(AlarmStoreTest, ReplayedEventsAreStoredAndQueuedOnce) {
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  AlarmRecord a = Alarm("m1-1", "m1", 0, -0.1);
  std::vector<AlarmEvent> events = {Opened(a), Closed(a, 30, -0.3)};
  ASSERT_TRUE(store->Record(events).ok());
  ASSERT_TRUE(store->Record(events).ok());  // at-least-once replay
  EXPECT_EQ(QueryOne("SELECT count(*) FROM alarms"), "1");
  EXPECT_EQ(PendingIds(*store, "d1"), (std::vector<std::string>{"m1-1:opened", "m1-1:closed"}));
  // Still not re-queued after delivery removed the events from the outbox.
  auto pending = store->Pending("d1", 10);
  ASSERT_TRUE(pending.ok());
  ASSERT_TRUE(store->MarkDelivered("d1", pending->back().seq).ok());
  EXPECT_EQ(*store->OutboxSize(), 0);
  ASSERT_TRUE(store->Record(events).ok());
  EXPECT_EQ(*store->OutboxSize(), 0);
}

TEST_F(AlarmStoreTest, InvalidEventStoresNothing) {
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  AlarmRecord good = Alarm("m1-1", "m1", 0, -0.1);
  AlarmRecord no_machine = Alarm("m2-1", "", 0, -0.1);
  std::vector<AlarmEvent> events = {Opened(good), Opened(no_machine)};
  Status s = store->Record(events);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.message().find("empty machine id"), std::string::npos) << s.message();
  EXPECT_EQ(QueryOne("SELECT count(*) FROM alarms"), "0");
  EXPECT_EQ(*store->OutboxSize(), 0);
}

TEST_F(AlarmStoreTest, AcknowledgeKeepsTheFirstAndQueuesOneEvent) {
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  auto unknown = store->Acknowledge("nope", "ann", kT0);
  ASSERT_FALSE(unknown.ok());
  EXPECT_TRUE(unknown.status().IsNotFound()) << unknown.status().ToString();
  EXPECT_TRUE(store->Acknowledge("nope", "", kT0).status().IsInvalidArgument());

  std::vector<AlarmEvent> open = {Opened(Alarm("m3-1", "m3", 10, -0.05))};
  ASSERT_TRUE(store->Record(open).ok());
  auto first = store->Acknowledge("m3-1", "ann", kT0 + 20 * kSecond);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_FALSE(first->already_acknowledged);
  EXPECT_EQ(first->alarm.acked_by, "ann");
  EXPECT_EQ(first->alarm.acked_ns, kT0 + 20 * kSecond);
  auto second = store->Acknowledge("m3-1", "bob", kT0 + 30 * kSecond);
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(second->already_acknowledged);
  EXPECT_EQ(second->alarm.acked_by, "ann");
  EXPECT_EQ(second->alarm.acked_ns, kT0 + 20 * kSecond);

  auto pending = store->Pending("d1", 10);
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 2u);
  const OutboxEntry& ack = (*pending)[1];
  EXPECT_EQ(ack.event_id, "m3-1:acknowledged");
  EXPECT_EQ(ack.kind, AlarmEventKind::kAcknowledged);
  json j = json::parse(ack.payload);
  EXPECT_EQ(j["event_id"], "m3-1:acknowledged");
  EXPECT_EQ(j["kind"], "acknowledged");
  EXPECT_EQ(j["event_ns"], kT0 + 20 * kSecond);
  EXPECT_EQ(j["alarm"]["acked_by"], "ann");
  EXPECT_EQ(j["alarm"]["acked"], true);
  EXPECT_EQ(j["alarm"]["open"], true);
  EXPECT_EQ(j["alarm"]["end_ns"], nullptr);
  EXPECT_EQ(j["alarm"]["explanation"]["features"][0]["z"], 7.5);

  // A closed event carries the stored ack, though the event itself has none.
  std::vector<AlarmEvent> close = {Closed(Alarm("m3-1", "m3", 10, -0.05), 40, -0.1)};
  ASSERT_TRUE(store->Record(close).ok());
  pending = store->Pending("d1", 10);
  ASSERT_EQ(pending->size(), 3u);
  json c = json::parse((*pending)[2].payload);
  EXPECT_EQ(c["kind"], "closed");
  EXPECT_EQ(c["alarm"]["acked_by"], "ann");
  EXPECT_EQ(c["alarm"]["end_ns"], kT0 + 40 * kSecond);
  EXPECT_EQ(c["alarm"]["open"], false);
}

TEST_F(AlarmStoreTest, AcknowledgedEventsThroughRecord) {
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  AlarmRecord a = Alarm("m1-1", "m1", 0, -0.1);
  AlarmRecord acked = a;
  acked.acked_by = "ops-bot";
  const std::int64_t at = kT0 + 3 * kSecond;
  std::vector<AlarmEvent> events = {Opened(a), {AlarmEventKind::kAcknowledged, acked, at}};
  ASSERT_TRUE(store->Record(events).ok());
  ASSERT_TRUE(store->Record(events).ok());  // replayed: still one ack, one event
  auto got = store->Get("m1-1");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->acked_by, "ops-bot");
  EXPECT_EQ(got->acked_ns, at);
  EXPECT_EQ(PendingIds(*store, "d"),
            (std::vector<std::string>{"m1-1:opened", "m1-1:acknowledged"}));
  AlarmRecord nobody = a;
  std::vector<AlarmEvent> bad = {{AlarmEventKind::kAcknowledged, nobody, at}};
  EXPECT_TRUE(store->Record(bad).IsInvalidArgument());
  // Acknowledging an unknown alarm through Record fails the whole batch.
  AlarmRecord ghost = acked;
  ghost.alarm_id = "ghost";
  std::vector<AlarmEvent> mixed = {Opened(Alarm("m2-1", "m2", 0, -0.1)),
                                   {AlarmEventKind::kAcknowledged, ghost, at}};
  EXPECT_TRUE(store->Record(mixed).IsNotFound());
  EXPECT_TRUE(store->Get("m2-1").status().IsNotFound());  // rolled back
}

// `run` writes windows through the SQLite sink and alarms through an
// AlarmStore: two connections to one file, from two threads.
TEST_F(AlarmStoreTest, SinkAndStoreWriteTheSameFileConcurrently) {
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  auto sink = OpenSqliteSink({path_});
  ASSERT_TRUE(sink.ok()) << sink.status().ToString();
  auto names = std::make_shared<const std::vector<std::string>>(std::vector<std::string>{"rms_ax"});
  std::thread writer([&] {
    for (int i = 0; i < 200; ++i) {
      WindowRecord r;
      r.machine_id = "m1";
      r.window_start_ns = kT0 + i * 100'000'000LL;
      r.feature_names = names;
      r.features = {0.5};
      std::vector<WindowRecord> batch = {r};
      Status s = (*sink)->Write(batch);
      ASSERT_TRUE(s.ok()) << s.ToString();
    }
  });
  for (int i = 0; i < 200; ++i) {
    std::vector<AlarmEvent> e = {Opened(Alarm("a" + std::to_string(i), "m1", i, -0.1))};
    Status s = store->Record(e);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  writer.join();
  EXPECT_EQ(QueryOne("SELECT count(*) FROM scores"), "200");
  EXPECT_EQ(QueryOne("SELECT count(*) FROM alarms"), "200");
  EXPECT_EQ(*store->OutboxSize(), 200);
}

TEST_F(AlarmStoreTest, ListFiltersByMachineOpenAndTime) {
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  std::vector<AlarmEvent> events = {
      Opened(Alarm("a", "m1", 0, -0.1)),   Closed(Alarm("a", "m1", 0, -0.1), 100, -0.1),
      Opened(Alarm("b", "m2", 50, -0.1)),  Opened(Alarm("c", "m1", 200, -0.1)),
      Opened(Alarm("d", "m2", 300, -0.1)), Closed(Alarm("d", "m2", 300, -0.1), 310, -0.1)};
  ASSERT_TRUE(store->Record(events).ok());
  auto ids = [&](const AlarmFilter& f) {
    auto list = store->List(f);
    EXPECT_TRUE(list.ok()) << list.status().ToString();
    std::vector<std::string> out;
    for (const AlarmRecord& r : *list) out.push_back(r.alarm_id);
    return out;
  };
  EXPECT_EQ(ids({}), (std::vector<std::string>{"d", "c", "b", "a"}));
  AlarmFilter m1;
  m1.machine_id = "m1";
  EXPECT_EQ(ids(m1), (std::vector<std::string>{"c", "a"}));
  AlarmFilter open;
  open.open_only = true;
  EXPECT_EQ(ids(open), (std::vector<std::string>{"c", "b"}));
  // Overlapping [150 s, 305 s): b and c are open; d started before 305; a ended at 100.
  AlarmFilter range;
  range.from_ns = kT0 + 150 * kSecond;
  range.to_ns = kT0 + 305 * kSecond;
  EXPECT_EQ(ids(range), (std::vector<std::string>{"d", "c", "b"}));
  AlarmFilter limited;
  limited.limit = 2;
  EXPECT_EQ(ids(limited), (std::vector<std::string>{"d", "c"}));
  // The reader lists the same.
  auto reader = SqliteReader::Open(path_);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  auto listed = (*reader)->Alarms(m1);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[1].end_ns, kT0 + 100 * kSecond);
  EXPECT_TRUE((*reader)->Alarm("zz").status().IsNotFound());
}

TEST_F(AlarmStoreTest, OutboxKeepsEventsUntilEveryDestinationDelivered) {
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  // Both destinations registered before the events exist.
  EXPECT_TRUE(PendingIds(*store, "webhook").empty());
  EXPECT_TRUE(PendingIds(*store, "mqtt").empty());
  AlarmRecord a = Alarm("x", "m1", 0, -0.1);
  std::vector<AlarmEvent> events = {Opened(a), Closed(a, 5, -0.1)};
  ASSERT_TRUE(store->Record(events).ok());
  auto pending = store->Pending("webhook", 1);
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 1u);
  ASSERT_TRUE(store->MarkDelivered("webhook", (*pending)[0].seq).ok());
  EXPECT_EQ(PendingIds(*store, "webhook"), (std::vector<std::string>{"x:closed"}));
  EXPECT_EQ(PendingIds(*store, "mqtt"), (std::vector<std::string>{"x:opened", "x:closed"}));
  EXPECT_EQ(*store->OutboxSize(), 2);  // mqtt has not delivered any
  auto mqtt = store->Pending("mqtt", 10);
  ASSERT_TRUE(store->MarkDelivered("mqtt", mqtt->back().seq).ok());
  EXPECT_EQ(*store->OutboxSize(), 1);  // x:closed still waits for the webhook
  // The cursor never moves back.
  ASSERT_TRUE(store->MarkDelivered("mqtt", 0).ok());
  EXPECT_TRUE(PendingIds(*store, "mqtt").empty());
}

TEST_F(AlarmStoreTest, OutboxIsBoundedDroppingTheOldest) {
  auto store = OpenOrDie(/*max_outbox=*/3);
  ASSERT_NE(store, nullptr);
  for (int i = 0; i < 5; ++i) {
    std::vector<AlarmEvent> e = {Opened(Alarm("a" + std::to_string(i), "m1", i, -0.1))};
    ASSERT_TRUE(store->Record(e).ok());
  }
  EXPECT_EQ(*store->OutboxSize(), 3);
  EXPECT_EQ(PendingIds(*store, "d"),
            (std::vector<std::string>{"a2:opened", "a3:opened", "a4:opened"}));
  EXPECT_EQ(QueryOne("SELECT count(*) FROM alarms"), "5");  // alarms are never dropped
}

TEST_F(AlarmStoreTest, OutboxSurvivesReopening) {
  {
    auto store = OpenOrDie();
    ASSERT_NE(store, nullptr);
    std::vector<AlarmEvent> e = {Opened(Alarm("a", "m1", 0, -0.1))};
    ASSERT_TRUE(store->Record(e).ok());
  }
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(PendingIds(*store, "d"), (std::vector<std::string>{"a:opened"}));
}

// A database written by `machine-health run` before alarms existed (schema
// version 1) is refused by a reader (Unavailable: it never migrates), and
// migrated by the first writer, keeping its data.
TEST_F(AlarmStoreTest, MigratesSchemaVersion1Database) {
  const std::string v1 = mh::testing::SourceDir() + "/tests/sink/testdata/schema_v1.db";
  ASSERT_TRUE(fs::exists(v1)) << v1;
  fs::copy_file(v1, path_);
  EXPECT_EQ(QueryOne("SELECT value FROM meta WHERE key = 'schema_version'"), "1");
  const std::string scores = QueryOne("SELECT count(*) FROM scores");
  const std::string features = QueryOne("SELECT count(*) FROM features");
  ASSERT_NE(scores, "0");
  {
    // A reader does not migrate.
    auto reader = SqliteReader::Open(path_);
    ASSERT_FALSE(reader.ok());
    EXPECT_TRUE(reader.status().IsUnavailable()) << reader.status().ToString();
    EXPECT_NE(reader.status().message().find("schema version 1 must be migrated"),
              std::string::npos)
        << reader.status().ToString();
  }
  EXPECT_EQ(QueryOne("SELECT value FROM meta WHERE key = 'schema_version'"), "1");
  {
    auto sink = OpenSqliteSink({path_});  // the sink migrates too
    ASSERT_TRUE(sink.ok()) << sink.status().ToString();
  }
  EXPECT_EQ(QueryOne("SELECT value FROM meta WHERE key = 'schema_version'"), "4");
  {
    // Now the reader opens it, and sees no alarms.
    auto reader = SqliteReader::Open(path_);
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();
    auto alarms = (*reader)->Alarms({});
    ASSERT_TRUE(alarms.ok()) << alarms.status().ToString();
    EXPECT_TRUE(alarms->empty());
    EXPECT_TRUE((*reader)->Alarm("a").status().IsNotFound());
    EXPECT_FALSE((*reader)->Machines()->empty());
  }
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  std::vector<AlarmEvent> e = {Opened(Alarm("a", "m1", 0, -0.1))};
  ASSERT_TRUE(store->Record(e).ok());
  EXPECT_EQ(QueryOne("SELECT count(*) FROM scores"), scores);
  EXPECT_EQ(QueryOne("SELECT count(*) FROM features"), features);
  EXPECT_EQ(QueryOne("SELECT count(*) FROM alarms"), "1");
}

// The windows a restarted alarm stage replays: from an open alarm's start
// on; otherwise the last n after the latest close; learning windows (no
// score) never.
TEST_F(AlarmStoreTest, ResumeWindowsFollowTheLatestAlarm) {
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  {
    auto sink = OpenSqliteSink({path_});
    ASSERT_TRUE(sink.ok()) << sink.status().ToString();
    auto names =
        std::make_shared<const std::vector<std::string>>(std::vector<std::string>{"rms_ax"});
    std::vector<WindowRecord> batch;
    for (int i = 0; i < 40; ++i) {  // windows at 0..39 s; 0..4 learning
      WindowRecord r;
      r.machine_id = "m1";
      r.window_start_ns = kT0 + i * kSecond;
      r.feature_names = names;
      r.features = {0.5};
      if (i >= 5) {
        r.score = 0.1 - 0.01 * i;
        r.anomaly = i % 3 == 0;
        r.state = sink::MachineState::kNormal;
        r.baseline_version = 1;
      }
      batch.push_back(r);
    }
    ASSERT_TRUE((*sink)->Write(batch).ok());
    ASSERT_TRUE((*sink)->Close().ok());
  }
  auto times = [&](std::size_t n) {
    auto w = store->ResumeWindows("m1", n);
    EXPECT_TRUE(w.ok()) << w.status().ToString();
    std::vector<std::int64_t> s;
    if (w.ok()) {
      for (const StoredScore& x : *w) s.push_back((x.t_ns - kT0) / kSecond);
    }
    return s;
  };
  // No alarm: the last n scored windows, oldest first, with their scores.
  EXPECT_EQ(times(3), (std::vector<std::int64_t>{37, 38, 39}));
  EXPECT_EQ(times(100).size(), 35u);  // 5..39
  auto w = store->ResumeWindows("m1", 2);
  ASSERT_TRUE(w.ok());
  EXPECT_DOUBLE_EQ((*w)[0].score, 0.1 - 0.01 * 38);
  EXPECT_FALSE((*w)[0].anomalous);  // 38
  EXPECT_TRUE((*w)[1].anomalous);   // 39
  // A closed alarm (10..20 s): only the windows after its end.
  std::vector<AlarmEvent> e = {Opened(Alarm("m1@10", "m1", 10, -0.1)),
                               Closed(Alarm("m1@10", "m1", 10, -0.1), 20, -0.1)};
  ASSERT_TRUE(store->Record(e).ok());
  EXPECT_EQ(times(100).size(), 19u);  // 21..39
  EXPECT_EQ(times(100).front(), 21);
  // An open alarm from 30 s: every window from its start, whatever n.
  std::vector<AlarmEvent> open = {Opened(Alarm("m1@30", "m1", 30, -0.2))};
  ASSERT_TRUE(store->Record(open).ok());
  EXPECT_EQ(times(1), (std::vector<std::int64_t>{30, 31, 32, 33, 34, 35, 36, 37, 38, 39}));
  EXPECT_TRUE(times(5).size() == 10u);
  auto none = store->ResumeWindows("m9", 5);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

}  // namespace
}  // namespace mh::sink
