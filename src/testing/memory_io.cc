#include "testing/memory_io.h"

#include <utility>

namespace mh::testing {

Status RecordingSink::Write(std::span<const sink::WindowRecord> batch) {
  std::lock_guard<std::mutex> lock(mu_);
  ++attempts;
  if (closed) return Status::Internal("write after close");
  if (failures > 0) {
    --failures;
    return failure;
  }
  if (fail_after >= 0 && writes_ >= fail_after) return late_failure;
  ++writes_;
  records.insert(records.end(), batch.begin(), batch.end());
  return Status::OK();
}

Status RecordingSink::Close() {
  std::lock_guard<std::mutex> lock(mu_);
  closed = true;
  return Status::OK();
}

ListSubscriber::ListSubscriber(std::vector<std::string> payloads)
    : payloads_(std::move(payloads)) {}

Result<std::vector<transport::Message>> ListSubscriber::Poll(std::size_t max,
                                                             std::chrono::milliseconds) {
  std::vector<transport::Message> out;
  while (next_ < payloads_.size() && out.size() < max) {
    transport::Message m;
    m.payload = payloads_[next_];
    m.origin = "list@" + std::to_string(next_);
    m.timestamp_ns = broker_time_ns;
    out.push_back(std::move(m));
    ++next_;
  }
  return out;
}

Status ListSubscriber::Commit() {
  ++commits;
  committed = next_;
  return Status::OK();
}

}  // namespace mh::testing
