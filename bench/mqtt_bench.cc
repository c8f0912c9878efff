// MQTT transport throughput against a throw-away mosquitto 2.0 broker on
// loopback (testing/mosquitto_service.h; broker and client share the cores).
//
// BM_Publish/tls/max_inflight/batch/nodelay: one iteration publishes 50,000
// QoS 1 messages of ~150 bytes through one Publisher, `batch` messages per
// Publish() call (each call returns after every PUBACK). No subscriber.
// nodelay: the broker runs with set_tcp_nodelay true; without it the last
// PUBACK of a burst waits for Nagle (~40 ms per Publish call on Linux).
//
// BM_Receive/tls/spool: 50,000 messages wait in a persistent session
// (published while the subscriber was away, not timed); one iteration
// connects a Subscriber with that client id, polls until all 50,000 arrived
// and commits. spool: 0 = spool=off, 1 = the spool (a directory in the
// broker's temp dir, spool_sync=false), 2 = spool with spool_sync=true. The
// broker sends at most 20 unacknowledged messages at a time (its default
// max_inflight_messages).
#include <algorithm>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "core/uri.h"
#include "testing/mosquitto_service.h"
#include "transport/mqtt/mqtt_transport.h"

namespace mh::transport::mqtt {
namespace {

constexpr int kMessages = 50'000;

// One broker per setting of set_tcp_nodelay, started on first use.
mh::testing::MosquittoService* Broker(bool tcp_nodelay, std::string* error) {
  static auto broker = mh::testing::MosquittoService::Create({.tcp_nodelay = false});
  static auto broker_nodelay = mh::testing::MosquittoService::Create({.tcp_nodelay = true});
  auto& chosen = tcp_nodelay ? broker_nodelay : broker;
  if (!chosen.ok()) {
    *error = chosen.status().ToString();
    return nullptr;
  }
  return chosen->get();
}

std::string Address(mh::testing::MosquittoService& broker, bool tls, const std::string& topic,
                    const std::string& params) {
  if (!tls) {
    return "mqtt://127.0.0.1:" + std::to_string(broker.plain_port()) + "/" + topic + "?" + params;
  }
  ::setenv("MQTT_PASSWORD", broker.password().c_str(), 1);
  return "mqtts://" + broker.user() + "@localhost:" + std::to_string(broker.tls_port()) + "/" +
         topic + "?ca=" + broker.ca_file() + "&" + params;
}

// ~150-byte JSON events like the simulator's.
std::vector<OutgoingMessage> Events(int count) {
  std::vector<OutgoingMessage> out;
  out.reserve(count);
  for (int i = 0; i < count; ++i) {
    std::string payload = "{\"sensor_id\":\"m" + std::to_string(i % 100) +
                          "\",\"ts\":\"2026-11-27T10:00:00." + std::to_string(100000 + i % 900000) +
                          "Z\",\"ax\":0.01234,\"ay\":-0.56789,\"az\":0.98765,\"temp_c\":41.5,"
                          "\"seq\":" +
                          std::to_string(i) + "}";
    payload.resize(150, ' ');
    out.push_back({"m" + std::to_string(i % 100), std::move(payload)});
  }
  return out;
}

void BM_Publish(benchmark::State& state) {
  const bool tls = state.range(0) != 0;
  const int max_inflight = static_cast<int>(state.range(1));
  const int batch = static_cast<int>(state.range(2));
  const bool nodelay = state.range(3) != 0;
  std::string error;
  mh::testing::MosquittoService* broker = Broker(nodelay, &error);
  if (broker == nullptr) return state.SkipWithError(error.c_str());
  auto pub = NewMqttPublisher(ParseUri(Address(*broker, tls, "bench/{key}/events",
                                               "max_inflight=" + std::to_string(max_inflight)))
                                  .value());
  if (!pub.ok()) return state.SkipWithError(pub.status().ToString().c_str());
  const std::vector<OutgoingMessage> events = Events(kMessages);
  for (auto _ : state) {
    for (int first = 0; first < kMessages; first += batch) {
      const int n = std::min(batch, kMessages - first);
      const Status s = (*pub)->Publish(std::span(events).subspan(first, n));
      if (!s.ok()) return state.SkipWithError(s.ToString().c_str());
    }
  }
  state.SetItemsProcessed(state.iterations() * kMessages);
  state.SetBytesProcessed(state.iterations() * kMessages * 150);
  (void)(*pub)->Close();
}
BENCHMARK(BM_Publish)
    ->ArgNames({"tls", "max_inflight", "batch", "nodelay"})
    ->Args({0, 100, 50000, 0})
    ->Args({0, 1000, 50000, 0})
    ->Args({0, 1000, 1000, 0})
    ->Args({0, 1000, 1000, 1})
    ->Args({0, 1000, 100, 1})
    ->Args({1, 100, 50000, 0})
    ->Args({1, 1000, 50000, 0})
    ->Args({1, 1000, 1000, 0})
    ->Args({1, 1000, 1000, 1})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(3);

void BM_Receive(benchmark::State& state) {
  const bool tls = state.range(0) != 0;
  const int spool = static_cast<int>(state.range(1));
  std::string error;
  mh::testing::MosquittoService* broker = Broker(false, &error);
  if (broker == nullptr) return state.SkipWithError(error.c_str());
  // Own topic and session per variant: an offline session would collect the
  // other variant's messages.
  const std::string variant = std::string(tls ? "tls" : "plain") + "-spool" + std::to_string(spool);
  const std::string spool_params =
      spool == 0 ? "&spool=off"
                 : "&spool=" + broker->dir() + "/spool" + (spool == 2 ? "&spool_sync=true" : "");
  const Uri sub_address = ParseUri(Address(*broker, tls, "bench/+/recv-" + variant,
                                           "client_id=recv-bench-" + variant + spool_params))
                              .value();
  auto pub =
      NewMqttPublisher(ParseUri(Address(*broker, tls, "bench/{key}/recv-" + variant, "")).value());
  if (!pub.ok()) return state.SkipWithError(pub.status().ToString().c_str());
  const std::vector<OutgoingMessage> events = Events(kMessages);
  {
    auto sub = NewMqttSubscriber(sub_address);  // creates the session
    if (!sub.ok()) return state.SkipWithError(sub.status().ToString().c_str());
  }
  std::size_t received = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const Status s = (*pub)->Publish(events);
    if (!s.ok()) return state.SkipWithError(s.ToString().c_str());
    state.ResumeTiming();
    auto sub = NewMqttSubscriber(sub_address);
    if (!sub.ok()) return state.SkipWithError(sub.status().ToString().c_str());
    std::size_t got = 0;
    while (got < kMessages) {
      auto polled = (*sub)->Poll(1000, std::chrono::milliseconds(5000));
      if (!polled.ok()) return state.SkipWithError(polled.status().ToString().c_str());
      if (polled->empty()) return state.SkipWithError("no message for 5 s");
      got += polled->size();
    }
    const Status committed = (*sub)->Commit();
    if (!committed.ok()) return state.SkipWithError(committed.ToString().c_str());
    received += got;
    (void)(*sub)->Close();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(received));
}
BENCHMARK(BM_Receive)
    ->ArgNames({"tls", "spool"})
    ->Args({0, 0})
    ->Args({0, 1})
    ->Args({0, 2})
    ->Args({1, 0})
    ->Args({1, 1})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(3);

}  // namespace
}  // namespace mh::transport::mqtt

BENCHMARK_MAIN();
