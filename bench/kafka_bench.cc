// Kafka transport throughput against librdkafka's mock cluster (3 brokers,
// topic with 6 partitions) in a child process (mh-kafka-mock): the network
// path and protocol are real, the broker is in memory. Wall-clock figures.
//
// BM_Publish/B: 200,000 keyed messages of ~150 bytes (100 keys), published
// with Publisher::Publish in batches of B (each call waits for all acks;
// B = 200000 is one call).
//
// BM_Consume: Subscriber::Poll(10000, ...) + Commit() after each poll over
// 200,000 such messages already in the topic; a fresh consumer group per
// iteration, timed from its first message (the group join, ~3 s, is not
// counted).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "core/uri.h"
#include "testing/kafka_mock.h"
#include "transport/kafka/kafka_transport.h"

namespace mh::transport::kafka {
namespace {

constexpr int kMessages = 200'000;
constexpr int kKeys = 100;
constexpr int kPartitions = 6;

mh::testing::KafkaMockCluster& Mock() {
  static std::unique_ptr<mh::testing::KafkaMockCluster> mock = [] {
    mh::testing::KafkaMockCluster::Options options;
    options.topics = {{"publish", kPartitions}, {"consume", kPartitions}};
    auto m = mh::testing::KafkaMockCluster::Start(options);
    if (!m.ok()) {
      std::fprintf(stderr, "kafka_bench: %s\n", m.status().ToString().c_str());
      std::abort();
    }
    return std::move(*m);
  }();
  return *mock;
}

// A ~150-byte JSON event, as a gateway would send it.
std::vector<OutgoingMessage> Messages() {
  std::vector<OutgoingMessage> out;
  out.reserve(kMessages);
  for (int i = 0; i < kMessages; ++i) {
    const std::string key = "m" + std::to_string(i % kKeys);
    char payload[256];
    std::snprintf(payload, sizeof payload,
                  "{\"sensor_id\":\"%s-x\",\"ts\":%lld,\"seq\":%d,\"rms\":0.%06d,"
                  "\"kurtosis\":3.%06d,\"crest\":1.%06d,\"peak\":4.%06d,\"unit\":\"g\"}",
                  key.c_str(), 1790000000000000000LL + i * 100000LL, i, i % 999983,
                  (i * 7) % 999983, (i * 13) % 999983, (i * 17) % 999983);
    out.push_back({key, payload});
  }
  return out;
}

// Extra publisher options for experiments, e.g.
// MH_KAFKA_BENCH_OPTIONS='?linger_ms=0&compression=none'.
std::string PublisherOptions() {
  const char* options = std::getenv("MH_KAFKA_BENCH_OPTIONS");
  return options != nullptr ? options : "";
}

Uri MustParse(const std::string& text) {
  auto uri = ParseUri(text);
  if (!uri.ok()) std::abort();
  return *uri;
}

void BM_Publish(benchmark::State& state) {
  const std::vector<OutgoingMessage> messages = Messages();
  const auto batch = static_cast<std::size_t>(state.range(0));
  auto publisher = NewKafkaPublisher(MustParse(Mock().Address("publish") + PublisherOptions()));
  if (!publisher.ok()) {
    state.SkipWithError(publisher.status().ToString().c_str());
    return;
  }
  std::size_t bytes = 0;
  for (const auto& m : messages) bytes += m.key.size() + m.payload.size();
  for (auto _ : state) {
    for (std::size_t i = 0; i < messages.size(); i += batch) {
      const std::size_t n = std::min(batch, messages.size() - i);
      const Status s = (*publisher)->Publish(std::span(messages).subspan(i, n));
      if (!s.ok()) {
        state.SkipWithError(s.ToString().c_str());
        return;
      }
    }
  }
  state.SetItemsProcessed(state.iterations() * kMessages);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
  (void)(*publisher)->Close();
}
BENCHMARK(BM_Publish)
    ->Arg(1000)
    ->Arg(10000)
    ->Arg(200000)
    ->Iterations(2)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void BM_Consume(benchmark::State& state) {
  {
    const std::vector<OutgoingMessage> messages = Messages();
    auto publisher = NewKafkaPublisher(MustParse(Mock().Address("consume")));
    if (!publisher.ok() || !(*publisher)->Publish(messages).ok()) {
      state.SkipWithError("cannot fill the topic");
      return;
    }
    (void)(*publisher)->Close();
  }
  int group = 0;
  std::int64_t consumed = 0;
  std::int64_t polls = 0;
  for (auto _ : state) {
    auto subscriber = NewKafkaSubscriber(
        MustParse(Mock().Address("consume") + "?group=bench" + std::to_string(group++)));
    if (!subscriber.ok()) {
      state.SkipWithError(subscriber.status().ToString().c_str());
      return;
    }
    std::int64_t got = 0;
    std::chrono::steady_clock::time_point start;
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (got < kMessages && std::chrono::steady_clock::now() < give_up) {
      auto r = (*subscriber)->Poll(10000, std::chrono::milliseconds(100));
      if (!r.ok()) continue;
      if (got > 0) ++polls;
      if (got == 0 && !r->empty()) start = std::chrono::steady_clock::now();
      got += static_cast<std::int64_t>(r->size());
      if (!r->empty() && !(*subscriber)->Commit().ok()) {
        state.SkipWithError("commit failed");
        return;
      }
    }
    state.SetIterationTime(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    if (got < kMessages) {
      state.SkipWithError("not all messages consumed");
      return;
    }
    consumed += got;
    (void)(*subscriber)->Close();
  }
  state.SetItemsProcessed(consumed);
  // Messages per Poll (and per Commit) once the group is running.
  state.counters["per_poll"] = polls > 0 ? static_cast<double>(consumed) / polls : 0;
}
BENCHMARK(BM_Consume)->Iterations(2)->Unit(benchmark::kMillisecond)->UseManualTime();

}  // namespace
}  // namespace mh::transport::kafka

BENCHMARK_MAIN();
