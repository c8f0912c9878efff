// Test doubles for the replayer: a fake clock that records sleeps and a
// publisher that keeps what it was given.
#ifndef MH_TESTS_REPLAY_REPLAY_TEST_UTIL_H_
#define MH_TESTS_REPLAY_REPLAY_TEST_UTIL_H_

#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "replay/replayer.h"
#include "transport/transport.h"

namespace mh::replay::testing {

class FakeClock final : public ReplayClock {
 public:
  std::int64_t WallNs() override { return wall_ns; }
  std::int64_t MonotonicNs() override { return mono_ns; }
  void SleepUntil(std::int64_t deadline_ns) override {
    sleeps.push_back(deadline_ns);
    if (deadline_ns > mono_ns) mono_ns = deadline_ns;
  }
  std::int64_t wall_ns = 1'700'000'000'123'000'000;
  std::int64_t mono_ns = 1'000'000'000;
  std::vector<std::int64_t> sleeps;  // deadlines asked for
};

class CapturePublisher final : public transport::Publisher {
 public:
  Status Publish(std::span<const transport::OutgoingMessage> events) override {
    std::vector<std::string> payloads;
    for (const auto& e : events) {
      payloads.push_back(e.payload);
      keys.push_back(e.key);
    }
    batches.push_back(std::move(payloads));
    publish_times.push_back(clock != nullptr ? clock->MonotonicNs() : 0);
    return Status::OK();
  }
  Status Close() override { return Status::OK(); }
  std::vector<nlohmann::json> Events() const {
    std::vector<nlohmann::json> out;
    for (const auto& b : batches) {
      for (const auto& e : b) out.push_back(nlohmann::json::parse(e));
    }
    return out;
  }
  FakeClock* clock = nullptr;
  std::vector<std::vector<std::string>> batches;
  std::vector<std::string> keys;  // message key of every event, in order
  std::vector<std::int64_t> publish_times;
};

}  // namespace mh::replay::testing

#endif  // MH_TESTS_REPLAY_REPLAY_TEST_UTIL_H_
