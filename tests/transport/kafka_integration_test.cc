// Integration tests of the Kafka transport against librdkafka's mock cluster
// (3 brokers, topic "telemetry" with 6 partitions) in a child process
// (testing/kafka_mock.h). Consumer groups take seconds to form: joins and
// rebalances are waited for with deadlines, never with sleeps. TLS settings
// are tested against `openssl s_server` (KafkaTlsTest), which is no Kafka
// broker: those tests check the handshake from both ends (librdkafka's log
// lines, the TLS messages s_server received).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "core/strings.h"
#include "core/uri.h"
#include "log/log.h"
#include "testing/kafka_mock.h"
#include "testing/process.h"
#include "testing/test_paths.h"
#include "testing/test_pki.h"
#include "transport/kafka/kafka_transport.h"

namespace mh::transport::kafka {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr char kTopic[] = "telemetry";
constexpr int kPartitions = 6;
// Low session timeout so that rebalances after a member leaves are quick.
constexpr char kGroupOptions[] = "&session_timeout_ms=3000";

// Redirects this process's stderr (where mh::log writes, librdkafka's lines
// included) to `path` at `level` until Stop(), which restores both and
// returns what was written.
class LogCapture {
 public:
  LogCapture(std::string path, log::Level level)
      : path_(std::move(path)), saved_level_(log::GetLevel()) {
    std::fflush(stderr);
    saved_fd_ = dup(2);
    const int fd = open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (saved_fd_ >= 0 && fd >= 0) dup2(fd, 2);
    if (fd >= 0) close(fd);
    log::SetLevel(level);
  }
  ~LogCapture() { Stop(); }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  std::string Stop() {
    if (saved_fd_ >= 0) {
      std::fflush(stderr);
      dup2(saved_fd_, 2);
      close(saved_fd_);
      saved_fd_ = -1;
      log::SetLevel(saved_level_);
    }
    return mh::testing::ReadFileText(path_);
  }

 private:
  std::string path_;
  log::Level saved_level_;
  int saved_fd_ = -1;
};

// Lines of `text` that contain every one of `parts`.
std::vector<std::string> LinesWith(const std::string& text,
                                   std::initializer_list<std::string_view> parts) {
  std::vector<std::string> out;
  for (const std::string& line : Split(text, '\n')) {
    if (std::all_of(parts.begin(), parts.end(),
                    [&](std::string_view p) { return line.find(p) != std::string::npos; })) {
      out.push_back(line);
    }
  }
  return out;
}

std::int64_t NowMs() {
  return std::chrono::duration_cast<milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// One Publish of one message to `address` and Close, with the process's
// log captured in `log_path` at debug level (the producer's settings line,
// secrets masked, is written at debug).
struct PublishAttempt {
  Status publish;
  Status close;
  Clock::duration publish_time{};
  std::string log;
};

PublishAttempt PublishOneMessage(const std::string& address, const std::string& log_path) {
  PublishAttempt out;
  LogCapture capture(log_path, log::Level::kDebug);
  auto uri = ParseUri(address);
  auto publisher = uri.ok() ? NewKafkaPublisher(*uri) : uri.status();
  if (publisher.ok()) {
    std::unique_ptr<Publisher> p = std::move(*publisher);
    const std::vector<OutgoingMessage> batch = {{"sensor-1", "payload"}};
    const auto start = Clock::now();
    out.publish = p->Publish(batch);
    out.publish_time = Clock::now() - start;
    out.close = p->Close();
    p.reset();  // joins librdkafka's threads: all their lines are in the file
  } else {
    out.publish = publisher.status();
  }
  out.log = capture.Stop();
  return out;
}

// A fresh directory under /tmp, removed at the end (kept when
// MH_KEEP_TEST_DIRS is set).
class ScopedTempDir {
 public:
  explicit ScopedTempDir(const std::string& prefix) : path_(mh::testing::MakeTempDir(prefix)) {}
  ~ScopedTempDir() {
    if (std::getenv("MH_KEEP_TEST_DIRS") != nullptr) return;
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScopedTempDir(const ScopedTempDir&) = delete;
  ScopedTempDir& operator=(const ScopedTempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

class KafkaIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    mh::testing::KafkaMockCluster::Options options;
    options.brokers = 3;
    options.topics = {{kTopic, kPartitions}};
    auto mock = mh::testing::KafkaMockCluster::Start(options);
    ASSERT_TRUE(mock.ok()) << mock.status().ToString();
    mock_ = std::move(*mock);
  }

  std::unique_ptr<Publisher> NewPublisher(const std::string& query = "") {
    auto uri = ParseUri(mock_->Address(kTopic) + query);
    EXPECT_TRUE(uri.ok()) << uri.status().ToString();
    auto p = NewKafkaPublisher(*uri);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return p.ok() ? std::move(*p) : nullptr;
  }

  std::unique_ptr<Subscriber> NewSubscriber(const std::string& group,
                                            const std::string& extra = "") {
    auto uri = ParseUri(mock_->Address(kTopic) + "?group=" + group + kGroupOptions + extra);
    EXPECT_TRUE(uri.ok()) << uri.status().ToString();
    auto s = NewKafkaSubscriber(*uri);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(*s) : nullptr;
  }

  // Publishes `count` messages "KEY:SEQ" over `keys` keys "sensor-K" with
  // payload prefix `tag`, in batches of `batch`; SEQ counts per key.
  void PublishKeyed(Publisher& p, const std::string& tag, int count, int keys, int batch = 1000) {
    std::map<int, int> seq;
    std::vector<OutgoingMessage> out;
    for (int i = 0; i < count; ++i) {
      const int k = i % keys;
      out.push_back({"sensor-" + std::to_string(k),
                     tag + ":sensor-" + std::to_string(k) + ":" + std::to_string(seq[k]++)});
      if (static_cast<int>(out.size()) == batch || i + 1 == count) {
        const Status s = p.Publish(out);
        ASSERT_TRUE(s.ok()) << s.ToString();
        out.clear();
      }
    }
  }

  // Polls `s` until `done(received)` or `timeout`; returns false on timeout.
  // Poll errors fail the test.
  static bool PollUntil(Subscriber& s, std::vector<Message>& received,
                        const std::function<bool(const std::vector<Message>&)>& done,
                        Clock::duration timeout, bool commit = false) {
    const auto deadline = Clock::now() + timeout;
    while (!done(received)) {
      if (Clock::now() > deadline) return false;
      auto r = s.Poll(500, milliseconds(200));
      EXPECT_TRUE(r.ok()) << r.status().ToString();
      if (!r.ok()) return false;
      received.insert(received.end(), r->begin(), r->end());
      if (commit && !r->empty()) {
        const Status c = s.Commit();
        EXPECT_TRUE(c.ok()) << c.ToString();
      }
    }
    return true;
  }

  static std::set<std::string> Payloads(const std::vector<Message>& messages) {
    std::set<std::string> out;
    for (const Message& m : messages) out.insert(m.payload);
    return out;
  }

  static auto HasAtLeast(std::size_t n) {
    return [n](const std::vector<Message>& m) { return Payloads(m).size() >= n; };
  }

  std::unique_ptr<mh::testing::KafkaMockCluster> mock_;
};

TEST_F(KafkaIntegrationTest, TenThousandKeyedMessagesKeepPerKeyOrder) {
  constexpr int kCount = 10000;
  constexpr int kKeys = 100;
  auto publisher = NewPublisher("?linger_ms=5");
  ASSERT_NE(publisher, nullptr);
  PublishKeyed(*publisher, "m", kCount, kKeys);
  ASSERT_TRUE(publisher->Close().ok());

  auto subscriber = NewSubscriber("order");
  ASSERT_NE(subscriber, nullptr);
  std::vector<Message> got;
  ASSERT_TRUE(PollUntil(*subscriber, got, HasAtLeast(kCount), seconds(60)))
      << "received " << got.size() << " of " << kCount;
  EXPECT_EQ(got.size(), static_cast<std::size_t>(kCount));  // no duplicates

  std::map<std::string, int> next_seq;
  std::map<std::string, std::string> partition_of_key;
  std::set<std::string> partitions;
  for (const Message& m : got) {
    const std::vector<std::string> parts = Split(m.payload, ':');
    ASSERT_EQ(parts.size(), 3u) << m.payload;
    EXPECT_EQ(parts[1], m.key);
    const int seq = std::stoi(parts[2]);
    EXPECT_EQ(seq, next_seq[m.key]) << "key " << m.key << " out of order";
    next_seq[m.key] = seq + 1;
    // origin is "telemetry/PARTITION@OFFSET"; one key stays on one partition.
    ASSERT_THAT(m.origin, ::testing::MatchesRegex("telemetry/[0-5]@[0-9]+"));
    const std::string partition = m.origin.substr(0, m.origin.find('@'));
    partitions.insert(partition);
    auto [it, inserted] = partition_of_key.emplace(m.key, partition);
    EXPECT_EQ(it->second, partition) << "key " << m.key << " on two partitions";
  }
  EXPECT_EQ(next_seq.size(), static_cast<std::size_t>(kKeys));
  for (const auto& [key, n] : next_seq) EXPECT_EQ(n, kCount / kKeys) << key;
  EXPECT_EQ(partitions.size(), static_cast<std::size_t>(kPartitions));  // keys spread out
  EXPECT_TRUE(subscriber->Commit().ok());
  EXPECT_TRUE(subscriber->Close().ok());
}

TEST_F(KafkaIntegrationTest, TwoSubscribersInOneGroupSharePartitions) {
  auto publisher = NewPublisher("?linger_ms=1");
  ASSERT_NE(publisher, nullptr);
  auto a = NewSubscriber("shared");
  auto b = NewSubscriber("shared");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);

  // Keep a trickle of messages flowing until both members have received
  // some: then both hold partitions (the cooperative rebalance that hands
  // partitions to the second member takes several seconds).
  std::vector<Message> got_a;
  std::vector<Message> got_b;
  std::set<std::string> published;
  int round = 0;
  const auto deadline = Clock::now() + seconds(60);
  while (got_a.empty() || got_b.empty()) {
    ASSERT_LT(Clock::now(), deadline) << "a got " << got_a.size() << ", b got " << got_b.size();
    std::vector<OutgoingMessage> batch;
    for (int k = 0; k < 24; ++k) {
      batch.push_back({"sensor-" + std::to_string(k),
                       "warmup:" + std::to_string(round) + ":" + std::to_string(k)});
      published.insert(batch.back().payload);
    }
    ++round;
    ASSERT_TRUE(publisher->Publish(batch).ok());
    for (auto* pair : {&got_a, &got_b}) {
      Subscriber& s = pair == &got_a ? *a : *b;
      auto r = s.Poll(1000, milliseconds(250));
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      pair->insert(pair->end(), r->begin(), r->end());
      if (!r->empty()) {
        ASSERT_TRUE(s.Commit().ok());
      }
    }
  }

  // Now a batch of 2,000: together they get every message, each some.
  const std::size_t a_before = got_a.size();
  const std::size_t b_before = got_b.size();
  std::vector<OutgoingMessage> batch;
  for (int i = 0; i < 2000; ++i) {
    batch.push_back({"sensor-" + std::to_string(i % 50), "final:" + std::to_string(i)});
    published.insert(batch.back().payload);
  }
  ASSERT_TRUE(publisher->Publish(batch).ok());
  const auto all_there = [&] {
    std::set<std::string> seen = Payloads(got_a);
    for (const Message& m : got_b) seen.insert(m.payload);
    return std::includes(seen.begin(), seen.end(), published.begin(), published.end());
  };
  const auto final_deadline = Clock::now() + seconds(60);
  while (!all_there()) {
    ASSERT_LT(Clock::now(), final_deadline);
    for (auto* pair : {&got_a, &got_b}) {
      Subscriber& s = pair == &got_a ? *a : *b;
      auto r = s.Poll(1000, milliseconds(100));
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      pair->insert(pair->end(), r->begin(), r->end());
      if (!r->empty()) {
        ASSERT_TRUE(s.Commit().ok());
      }
    }
  }
  auto count_final = [](const std::vector<Message>& v, std::size_t from) {
    std::size_t n = 0;
    for (std::size_t i = from; i < v.size(); ++i) n += v[i].payload.rfind("final:", 0) == 0;
    return n;
  };
  EXPECT_GT(count_final(got_a, a_before), 0u);
  EXPECT_GT(count_final(got_b, b_before), 0u);
  EXPECT_GE(count_final(got_a, a_before) + count_final(got_b, b_before), 2000u);
  EXPECT_TRUE(a->Close().ok());
  EXPECT_TRUE(b->Close().ok());
}

TEST_F(KafkaIntegrationTest, UncommittedMessagesAreRedeliveredCommittedOnesAreNot) {
  auto publisher = NewPublisher();
  ASSERT_NE(publisher, nullptr);
  PublishKeyed(*publisher, "committed", 300, 30);

  auto first = NewSubscriber("redelivery");
  ASSERT_NE(first, nullptr);
  std::vector<Message> got;
  ASSERT_TRUE(PollUntil(*first, got, HasAtLeast(300), seconds(60)));
  ASSERT_TRUE(first->Commit().ok());
  const std::set<std::string> committed = Payloads(got);

  PublishKeyed(*publisher, "uncommitted", 300, 30);
  std::vector<Message> more;
  ASSERT_TRUE(PollUntil(*first, more, HasAtLeast(300), seconds(30)));
  const std::set<std::string> uncommitted = Payloads(more);
  EXPECT_EQ(uncommitted.size(), 300u);
  ASSERT_TRUE(first->Close().ok());  // leaves the group without committing

  auto second = NewSubscriber("redelivery");
  ASSERT_NE(second, nullptr);
  std::vector<Message> again;
  ASSERT_TRUE(PollUntil(*second, again, HasAtLeast(300), seconds(60)))
      << "redelivered " << again.size();
  // Drain anything else that is there (nothing more should be).
  auto extra = second->Poll(1000, milliseconds(1000));
  ASSERT_TRUE(extra.ok());
  again.insert(again.end(), extra->begin(), extra->end());
  const std::set<std::string> redelivered = Payloads(again);
  EXPECT_EQ(redelivered, uncommitted);
  for (const std::string& p : committed) EXPECT_EQ(redelivered.count(p), 0u) << p;
  EXPECT_TRUE(second->Close().ok());
}

TEST_F(KafkaIntegrationTest, StartLatestSkipsOldMessages) {
  auto publisher = NewPublisher("?linger_ms=1");
  ASSERT_NE(publisher, nullptr);
  PublishKeyed(*publisher, "old", 500, 20);

  auto subscriber = NewSubscriber("latest", "&start=latest");
  ASSERT_NE(subscriber, nullptr);
  // A partition's "latest" position is fixed when the consumer first fetches
  // it, after the group has assigned it: send probes over many keys until
  // probes arrived from every partition, then the real batch.
  std::vector<Message> got;
  std::set<std::string> partitions_seen;
  const auto deadline = Clock::now() + seconds(60);
  for (int probe = 0; partitions_seen.size() < static_cast<std::size_t>(kPartitions); ++probe) {
    ASSERT_LT(Clock::now(), deadline)
        << "probes seen from " << partitions_seen.size() << " partitions";
    std::vector<OutgoingMessage> probes;
    for (int k = 0; k < 48; ++k) {
      probes.push_back({"probe-" + std::to_string(k), "probe:" + std::to_string(probe)});
    }
    ASSERT_TRUE(publisher->Publish(probes).ok());
    auto r = subscriber->Poll(1000, milliseconds(300));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    for (const Message& m : *r) partitions_seen.insert(m.origin.substr(0, m.origin.find('@')));
    got.insert(got.end(), r->begin(), r->end());
  }
  PublishKeyed(*publisher, "new", 500, 20);
  const auto new_count = [](const std::vector<Message>& v) {
    std::size_t n = 0;
    for (const Message& m : v) n += m.payload.rfind("new:", 0) == 0;
    return n;
  };
  ASSERT_TRUE(PollUntil(
      *subscriber, got, [&](const std::vector<Message>& v) { return new_count(v) >= 500; },
      seconds(30)))
      << "new messages received: " << new_count(got);
  for (const Message& m : got) {
    EXPECT_NE(m.payload.rfind("old:", 0), 0u) << "old message delivered: " << m.payload;
  }
  EXPECT_EQ(new_count(got), 500u);
  EXPECT_TRUE(subscriber->Close().ok());
}

// Poll on an idle topic waits its whole timeout: librdkafka takes waits in
// whole milliseconds, and a remainder rounded down to 0 made Poll return
// early (the scorer then polled again and again through the last
// millisecond of every linger period, burning CPU while idle).
TEST_F(KafkaIntegrationTest, PollOnAnIdleTopicWaitsItsWholeTimeout) {
  auto subscriber = NewSubscriber("idle-wait");
  ASSERT_NE(subscriber, nullptr);
  // Let the group join settle first (an assignment may end a wait early).
  std::vector<Message> none;
  PollUntil(
      *subscriber, none, [](const std::vector<Message>&) { return false; }, seconds(3));
  ASSERT_TRUE(none.empty());
  for (int timeout_ms : {1, 2, 3, 7}) {
    for (int i = 0; i < 10; ++i) {
      const auto t0 = Clock::now();
      auto r = subscriber->Poll(100, milliseconds(timeout_ms));
      const auto waited = Clock::now() - t0;
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      EXPECT_TRUE(r->empty());
      EXPECT_GE(waited, milliseconds(timeout_ms))
          << "Poll(" << timeout_ms << " ms) returned after "
          << std::chrono::duration<double, std::milli>(waited).count() << " ms";
    }
  }
  EXPECT_TRUE(subscriber->Close().ok());
}

// Issue 18, consumer lag: the messages not yet handed out, summed over the
// partitions, as the high watermarks of the fetches say.
TEST_F(KafkaIntegrationTest, LagCountsTheMessagesNotYetConsumed) {
  auto publisher = NewPublisher("?linger_ms=1");
  ASSERT_NE(publisher, nullptr);
  auto subscriber = NewSubscriber("lag");
  ASSERT_NE(subscriber, nullptr);
  EXPECT_EQ(subscriber->Lag(), std::nullopt);  // nothing handed out yet
  PublishKeyed(*publisher, "first", 600, 30);  // 30 keys: every partition gets some
  std::vector<Message> got;
  ASSERT_TRUE(PollUntil(*subscriber, got, HasAtLeast(600), seconds(60)));
  // Lag() is what the last Poll saw: poll for nothing until it settles.
  auto lag_becomes = [&](std::int64_t expected) {
    return mh::testing::WaitUntil(
        [&] {
          auto r = subscriber->Poll(0, milliseconds(0));
          EXPECT_TRUE(r.ok()) << r.status().ToString();
          return subscriber->Lag() == expected;
        },
        seconds(30));
  };
  EXPECT_TRUE(lag_becomes(0)) << subscriber->Lag().value_or(-1);

  // N new messages arrive, k are consumed: the lag is N - k.
  constexpr int kNew = 300;
  constexpr int kConsumed = 100;
  PublishKeyed(*publisher, "second", kNew, 30);
  EXPECT_TRUE(lag_becomes(kNew)) << subscriber->Lag().value_or(-1);
  std::vector<Message> some;
  const auto deadline = Clock::now() + seconds(30);
  while (some.size() < static_cast<std::size_t>(kConsumed) && Clock::now() < deadline) {
    auto r = subscriber->Poll(kConsumed - some.size(), milliseconds(200));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    some.insert(some.end(), r->begin(), r->end());
  }
  ASSERT_EQ(some.size(), static_cast<std::size_t>(kConsumed));
  EXPECT_TRUE(lag_becomes(kNew - kConsumed)) << subscriber->Lag().value_or(-1);
  // Poll(0) only looked: every message still arrives, once.
  ASSERT_TRUE(PollUntil(*subscriber, some, HasAtLeast(kNew), seconds(30)));
  EXPECT_EQ(some.size(), static_cast<std::size_t>(kNew));
  EXPECT_TRUE(lag_becomes(0)) << subscriber->Lag().value_or(-1);
  EXPECT_TRUE(subscriber->Close().ok());
  EXPECT_EQ(subscriber->Lag(), std::nullopt);
}

TEST_F(KafkaIntegrationTest, TimestampsComeFromTheMessage) {
  auto publisher = NewPublisher();
  ASSERT_NE(publisher, nullptr);
  const std::int64_t before_ms = NowMs();
  PublishKeyed(*publisher, "ts", 60, 6);
  const std::int64_t after_ms = NowMs();

  auto subscriber = NewSubscriber("timestamps");
  ASSERT_NE(subscriber, nullptr);
  std::vector<Message> got;
  ASSERT_TRUE(PollUntil(*subscriber, got, HasAtLeast(60), seconds(60)));
  for (const Message& m : got) {
    // The producer's create time (ms), not the time of consumption.
    EXPECT_GE(m.timestamp_ns, before_ms * 1000000) << m.payload;
    EXPECT_LE(m.timestamp_ns, after_ms * 1000000) << m.payload;
    EXPECT_EQ(m.timestamp_ns % 1000000, 0) << m.payload;
  }
  EXPECT_TRUE(subscriber->Close().ok());
}

TEST_F(KafkaIntegrationTest, PublishWithAllBrokersDownIsUnavailableThenRecovers) {
  auto publisher = NewPublisher("?timeout_ms=2000");
  ASSERT_NE(publisher, nullptr);
  const std::vector<OutgoingMessage> batch = {{"a", "1"}, {"b", "2"}, {"c", "3"}, {"d", "4"}};
  ASSERT_TRUE(publisher->Publish(batch).ok());

  for (int id = 1; id <= 3; ++id) {
    const Status s = mock_->BrokerDown(id);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  const auto start = Clock::now();
  const Status down = publisher->Publish(batch);
  const auto elapsed = Clock::now() - start;
  EXPECT_TRUE(down.IsUnavailable()) << down.ToString();
  EXPECT_THAT(down.message(), HasSubstr("'telemetry'"));
  EXPECT_THAT(down.message(), HasSubstr("timed out"));
  EXPECT_LT(elapsed, seconds(15));

  for (int id = 1; id <= 3; ++id) {
    const Status s = mock_->BrokerUp(id);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  // Reconnecting may take a backoff period: the caller retries on
  // Unavailable, as the pipeline does.
  Status up;
  const auto deadline = Clock::now() + seconds(60);
  do {
    up = publisher->Publish(batch);
  } while (up.IsUnavailable() && Clock::now() < deadline);
  EXPECT_TRUE(up.ok()) << up.ToString();
  EXPECT_TRUE(publisher->Close().ok());
}

TEST_F(KafkaIntegrationTest, SubscriberReportsOutageAndResumes) {
  auto publisher = NewPublisher();
  ASSERT_NE(publisher, nullptr);
  PublishKeyed(*publisher, "before", 100, 10);
  auto subscriber = NewSubscriber("outage");
  ASSERT_NE(subscriber, nullptr);
  std::vector<Message> got;
  ASSERT_TRUE(PollUntil(*subscriber, got, HasAtLeast(100), seconds(60), /*commit=*/true));

  for (int id = 1; id <= 3; ++id) {
    const Status s = mock_->BrokerDown(id);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  bool unavailable = false;
  const auto deadline = Clock::now() + seconds(30);
  while (!unavailable && Clock::now() < deadline) {
    auto r = subscriber->Poll(100, milliseconds(200));
    if (!r.ok()) {
      EXPECT_TRUE(r.status().IsUnavailable()) << r.status().ToString();
      unavailable = true;
    }
  }
  EXPECT_TRUE(unavailable) << "Poll never reported the outage";

  for (int id = 1; id <= 3; ++id) {
    const Status s = mock_->BrokerUp(id);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  Status published;
  const auto publish_deadline = Clock::now() + seconds(60);
  do {
    published = [&] {
      std::vector<OutgoingMessage> batch;
      for (int i = 0; i < 100; ++i) {
        batch.push_back({"sensor-" + std::to_string(i % 10), "after:" + std::to_string(i)});
      }
      return publisher->Publish(batch);
    }();
  } while (published.IsUnavailable() && Clock::now() < publish_deadline);
  ASSERT_TRUE(published.ok()) << published.ToString();

  // Polls may report Unavailable until the consumer has reconnected.
  std::set<std::string> after;
  const auto resume_deadline = Clock::now() + seconds(60);
  while (after.size() < 100 && Clock::now() < resume_deadline) {
    auto r = subscriber->Poll(500, milliseconds(200));
    if (!r.ok()) {
      EXPECT_TRUE(r.status().IsUnavailable()) << r.status().ToString();
      continue;
    }
    for (const Message& m : *r) {
      if (m.payload.rfind("after:", 0) == 0) after.insert(m.payload);
    }
  }
  EXPECT_EQ(after.size(), 100u);
  EXPECT_TRUE(subscriber->Close().ok());
}

TEST_F(KafkaIntegrationTest, CommitWithAllBrokersDownIsUnavailableInBoundedTime) {
  auto publisher = NewPublisher();
  ASSERT_NE(publisher, nullptr);
  PublishKeyed(*publisher, "c", 100, 10);
  // A session timeout well above the commit bound (10 s): without the bound
  // the commit would wait for the session to time out.
  auto uri = ParseUri(mock_->Address(kTopic) + "?group=commit-down&session_timeout_ms=25000");
  ASSERT_TRUE(uri.ok());
  auto subscriber = NewKafkaSubscriber(*uri);
  ASSERT_TRUE(subscriber.ok()) << subscriber.status().ToString();
  std::vector<Message> got;
  ASSERT_TRUE(PollUntil(**subscriber, got, HasAtLeast(100), seconds(60)));

  for (int id = 1; id <= 3; ++id) {
    const Status s = mock_->BrokerDown(id);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  const auto start = Clock::now();
  const Status commit = (*subscriber)->Commit();
  const auto elapsed = Clock::now() - start;
  EXPECT_TRUE(commit.IsUnavailable()) << commit.ToString();
  EXPECT_THAT(commit.message(), HasSubstr("commit"));
  EXPECT_LT(elapsed, seconds(15));
  // Close waits at most for the session timeout (the given-up commit is
  // still pending inside librdkafka until then).
  const Status close = (*subscriber)->Close();
  EXPECT_TRUE(close.ok() || close.IsUnavailable()) << close.ToString();
  EXPECT_LT(Clock::now() - start, seconds(35));
  EXPECT_TRUE(publisher->Close().ok());
}

// The mock cluster has no SASL: a SASL/PLAIN client must fail at the
// handshake, which shows that the sasl_* options reach librdkafka. The
// password (from sasl_password_file) must not appear in any log line or
// Status.
TEST_F(KafkaIntegrationTest, SaslPlainHandshakeIsAttemptedAndThePasswordIsNotShown) {
  ScopedTempDir dir("mh-kafka-sasl");
  const std::string password = "Zq7-sasl-Secret-4711-xK";
  const std::string password_file = dir.path() + "/password";
  std::ofstream(password_file) << password << "\n";
  const PublishAttempt a = PublishOneMessage(
      mock_->Address(kTopic) +
          "?security_protocol=sasl_plaintext&sasl_mechanism=PLAIN&sasl_username=svc"
          "&sasl_password_file=" +
          password_file + "&timeout_ms=1500",
      dir.path() + "/stderr.log");

  EXPECT_TRUE(a.publish.IsUnavailable()) << a.publish.ToString();
  EXPECT_LT(a.publish_time, seconds(60));  // returned (a hang check, not a figure)
  EXPECT_FALSE(LinesWith(a.log, {"librdkafka", "SASL", "PLAIN"}).empty()) << a.log;
  // The password was among the settings; the settings line shows it masked.
  EXPECT_THAT(a.log, HasSubstr("sasl.password=***"));
  EXPECT_THAT(a.log, Not(HasSubstr(password)));
  EXPECT_THAT(a.publish.ToString(), Not(HasSubstr(password)));
  EXPECT_THAT(a.close.ToString(), Not(HasSubstr(password)));
  // The Status says why, not only that the message timed out.
  EXPECT_THAT(a.publish.message(), HasSubstr("last client error"));
  EXPECT_THAT(a.publish.message(), HasSubstr("SASL"));
}

// A TLS server that is not Kafka: `openssl s_server` on `ip`:`port` with the
// test PKI's server certificate in `dir` (SAN localhost and 127.0.0.1,
// signed by a CA no system store trusts). With stdin at end of file it
// completes each handshake and then closes the connection. `-msg` records
// the TLS messages it sends (">>>") and receives ("<<<") in `dir`/NAME.log.
Result<std::unique_ptr<mh::testing::ChildProcess>> StartTlsServer(const std::string& dir,
                                                                  const std::string& name,
                                                                  const std::string& ip, int port) {
  const std::string log_path = dir + "/" + name + ".log";
  MH_ASSIGN_OR_RETURN(
      auto server,
      // The TLS messages (-msg) go to stdout, line-buffered by stdbuf so that
      // the log holds every one as soon as it arrives (a -msgfile is a fully
      // buffered stdio file, flushed only when its buffer fills or at exit).
      mh::testing::ChildProcess::Start(
          {"stdbuf", "-oL", "openssl", "s_server", "-accept", ip + ":" + std::to_string(port),
           "-cert", dir + "/server.crt", "-key", dir + "/server.key", "-quiet", "-msg"},
          log_path));
  const auto ready = mh::testing::WaitUntilReady(
      *server, [&] { return mh::testing::TcpPortOpen(port, ip); }, milliseconds(10000));
  if (ready != mh::testing::StartWait::kReady) {
    return Status::Unavailable("openssl s_server did not start: " +
                               mh::testing::ReadFileText(log_path));
  }
  return server;
}

// Lines of the TLS messages that server NAME received so far.
// The TLS messages s_server `name` logged ("<<< ..." lines), once one of
// them holds `awaited`: the server logs what it received on its own
// schedule, after the client has gone. Waits up to 20 s (a deadline, not a
// figure), then returns what is there.
std::vector<std::string> TlsMessagesReceived(const std::string& dir, const std::string& name,
                                             std::string_view awaited) {
  const auto deadline = Clock::now() + seconds(20);
  while (true) {
    std::vector<std::string> lines =
        LinesWith(mh::testing::ReadFileText(dir + "/" + name + ".log"), {"<<< "});
    const bool seen = std::any_of(lines.begin(), lines.end(), [&](const std::string& l) {
      return l.find(awaited) != std::string::npos;
    });
    if (seen || Clock::now() > deadline) return lines;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

class KafkaTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const Status pki = mh::testing::MakeTestPki(dir_.path());
    ASSERT_TRUE(pki.ok()) << pki.ToString();
    port_ = mh::testing::FreeTcpPort();
    auto server = StartTlsServer(dir_.path(), "s_server", "127.0.0.1", port_);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(*server);
  }

  // A publisher address for the server; `query` is appended.
  std::string Address(const std::string& query) const {
    return "kafka://127.0.0.1:" + std::to_string(port_) + "/" + kTopic +
           "?security_protocol=ssl&timeout_ms=3000" + query;
  }

  std::vector<std::string> ReceivedByServer(std::string_view awaited) const {
    return TlsMessagesReceived(dir_.path(), "s_server", awaited);
  }

  ScopedTempDir dir_{"mh-kafka-tls"};
  int port_ = 0;
  std::unique_ptr<mh::testing::ChildProcess> server_;
};

bool AnyContains(const std::vector<std::string>& lines, std::string_view part) {
  return std::any_of(lines.begin(), lines.end(),
                     [&](const std::string& l) { return l.find(part) != std::string::npos; });
}

TEST_F(KafkaTlsTest, WithoutCaTheServerCertificateIsRejected) {
  const PublishAttempt a = PublishOneMessage(Address(""), dir_.path() + "/stderr.log");
  EXPECT_TRUE(a.publish.IsUnavailable()) << a.publish.ToString();
  EXPECT_LT(a.publish_time, seconds(60));  // returned (a hang check, not a figure)
  EXPECT_THAT(a.publish.message(), HasSubstr("certificate verify failed"));
  EXPECT_FALSE(
      LinesWith(a.log, {"librdkafka", "certificate verify failed", "SSL_HANDSHAKE"}).empty())
      << a.log;
  // The server saw librdkafka refuse its certificate, not finish the handshake.
  const std::vector<std::string> received = ReceivedByServer("unknown_ca");
  EXPECT_TRUE(AnyContains(received, "unknown_ca")) << ::testing::PrintToString(received);
  EXPECT_FALSE(AnyContains(received, "Finished")) << ::testing::PrintToString(received);
}

TEST_F(KafkaTlsTest, WithCaTheHandshakeSucceeds) {
  const std::string ca = dir_.path() + "/ca.crt";
  const PublishAttempt a = PublishOneMessage(Address("&ca=" + ca), dir_.path() + "/stderr.log");
  // s_server is no Kafka broker: nothing can be delivered.
  EXPECT_TRUE(a.publish.IsUnavailable()) << a.publish.ToString();
  EXPECT_LT(a.publish_time, seconds(60));  // returned (a hang check, not a figure)
  EXPECT_THAT(a.log, HasSubstr("ssl.ca.location=" + ca));
  EXPECT_THAT(a.log, Not(HasSubstr("certificate verify failed")));
  EXPECT_THAT(a.log, Not(HasSubstr("SSL_HANDSHAKE")));  // no failure in that state
  EXPECT_THAT(a.publish.message(), Not(HasSubstr("certificate")));
  // The server received librdkafka's Finished: the client verified the
  // certificate chain and the host (127.0.0.1 is in the SAN) and completed
  // the handshake.
  const std::vector<std::string> received = ReceivedByServer("Finished");
  EXPECT_TRUE(AnyContains(received, "Finished")) << ::testing::PrintToString(received);
  EXPECT_FALSE(AnyContains(received, "fatal")) << ::testing::PrintToString(received);
}

// librdkafka checks the host name too (ssl.endpoint.identification.algorithm
// defaults to https): the same trusted certificate on 127.0.0.2, which its
// SAN does not name, is refused.
TEST_F(KafkaTlsTest, WithCaACertificateForAnotherHostIsRejected) {
  const int port = mh::testing::FreeTcpPort();
  auto other = StartTlsServer(dir_.path(), "other_host", "127.0.0.2", port);
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  const PublishAttempt a =
      PublishOneMessage("kafka://127.0.0.2:" + std::to_string(port) + "/" + kTopic +
                            "?security_protocol=ssl&timeout_ms=1500&ca=" + dir_.path() + "/ca.crt",
                        dir_.path() + "/stderr.log");
  EXPECT_TRUE(a.publish.IsUnavailable()) << a.publish.ToString();
  EXPECT_FALSE(
      LinesWith(a.log, {"librdkafka", "certificate verify failed", "SSL_HANDSHAKE"}).empty())
      << a.log;
  // The chain was trusted (no unknown_ca); the certificate was refused.
  const std::vector<std::string> received =
      TlsMessagesReceived(dir_.path(), "other_host", "bad_certificate");
  EXPECT_TRUE(AnyContains(received, "bad_certificate")) << ::testing::PrintToString(received);
  EXPECT_FALSE(AnyContains(received, "unknown_ca")) << ::testing::PrintToString(received);
  EXPECT_FALSE(AnyContains(received, "Finished")) << ::testing::PrintToString(received);
}

}  // namespace
}  // namespace mh::transport::kafka
