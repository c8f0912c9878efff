// RunningSink's counts (SinkMetrics) through an outage, and their Prometheus
// form (ReportSinkMetrics): retries counted once, the batch pending while it
// is retried, up again once accepted.
#include "sink/running_sink.h"

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "metrics/metrics.h"

namespace mh::sink {
namespace {

// Fails with Unavailable while `down` is set.
class SwitchSink : public Sink {
 public:
  std::atomic<bool> down{true};
  std::atomic<int> written{0};
  Status Write(std::span<const WindowRecord> batch) override {
    if (down.load()) return Status::Unavailable("peer down");
    written.fetch_add(static_cast<int>(batch.size()));
    return Status::OK();
  }
  Status Close() override { return Status::OK(); }
};

std::string Exposed(const RunningSink& s, std::int64_t queued) {
  metrics::Registry r;
  const SinkMetrics m = s.metrics();
  r.AddCollector([&](metrics::Collection& c) { ReportSinkMetrics(s.name(), m, queued, c); });
  return r.Expose();
}

TEST(RunningSinkTest, CountsAnOutageOnceAndReportsIt) {
  auto owned = std::make_unique<SwitchSink>();
  SwitchSink* sink = owned.get();
  RunningSink running("test:sink", std::move(owned),
                      RetryPolicy{std::chrono::milliseconds(1), std::chrono::milliseconds(5)});
  std::vector<WindowRecord> batch(3);
  std::atomic<bool> stop{false};
  Status result;
  std::thread writer([&] { result = running.Write(batch, stop); });
  // While it retries: the batch is pending, the sink is down.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (running.metrics().retries < 3 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  SinkMetrics during = running.metrics();
  EXPECT_GE(during.retries, 3);
  EXPECT_EQ(during.pending, 3);
  EXPECT_TRUE(during.failing);
  const std::string down = Exposed(running, 5);
  EXPECT_NE(down.find("\nmachine_health_sink_up{sink=\"test:sink\"} 0\n"), std::string::npos)
      << down;
  EXPECT_NE(down.find("\nmachine_health_sink_queue_depth{sink=\"test:sink\"} 8\n"),
            std::string::npos)
      << down;
  sink->down.store(false);
  writer.join();
  ASSERT_TRUE(result.ok()) << result.ToString();
  const SinkMetrics after = running.metrics();
  EXPECT_EQ(sink->written.load(), 3);
  EXPECT_EQ(after.records, 3);
  EXPECT_EQ(after.batches, 1);
  EXPECT_EQ(after.pending, 0);
  EXPECT_FALSE(after.failing);
  // Every failed attempt but none of the successful one was a retry.
  EXPECT_EQ(after.retries, after.attempts - 1);
  const std::string up = Exposed(running, 0);
  for (const std::string& line : std::vector<std::string>{
           "\nmachine_health_sink_up{sink=\"test:sink\"} 1\n",
           "\nmachine_health_sink_windows_written_total{sink=\"test:sink\"} 3\n",
           "\nmachine_health_sink_batches_written_total{sink=\"test:sink\"} 1\n",
           "\nmachine_health_sink_write_retries_total{sink=\"test:sink\"} " +
               std::to_string(after.retries) + "\n",
           "\nmachine_health_sink_write_failures_total{sink=\"test:sink\"} 0\n",
           "\nmachine_health_sink_queue_depth{sink=\"test:sink\"} 0\n"}) {
    EXPECT_NE(up.find(line), std::string::npos) << line << up;
  }
}

}  // namespace
}  // namespace mh::sink
