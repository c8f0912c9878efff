#include "sink/running_sink.h"

#include "log/log.h"

namespace mh::sink {

RunningSink::RunningSink(std::string name, std::unique_ptr<Sink> sink, RetryPolicy policy)
    : name_(std::move(name)), sink_(std::move(sink)), policy_(policy) {}

RunningSink::~RunningSink() = default;

Status RunningSink::Write(std::span<const WindowRecord> batch, const std::atomic<bool>& stop) {
  auto attempt = [&] {
    const auto t0 = std::chrono::steady_clock::now();
    Status s = sink_->Write(batch);
    const auto dt = std::chrono::steady_clock::now() - t0;
    std::lock_guard lock(mu_);
    ++metrics_.attempts;
    metrics_.write_ns += std::chrono::duration_cast<std::chrono::nanoseconds>(dt).count();
    if (s.ok()) {
      ++metrics_.batches;
      metrics_.records += static_cast<std::int64_t>(batch.size());
    } else {
      metrics_.last_error = s.ToString();
    }
    return s;
  };
  int retried = 0;
  auto on_retry = [&](const Status& failed, int failures) {
    if (failures == 1) {
      log::Warn("sink", name_ + ": " + failed.ToString() + "; retrying with backoff");
    }
    retried = failures;
    std::lock_guard lock(mu_);
    ++metrics_.retries;
  };
  Status s = RetryWithBackoff(policy_, stop, attempt, on_retry);
  if (s.ok()) {
    if (retried > 0) log::Info("sink", name_ + ": accepting writes again");
    return s;
  }
  std::lock_guard lock(mu_);
  ++metrics_.failures;
  return s.WithContext(name_);
}

Status RunningSink::Close() { return sink_->Close().WithContext(name_); }

SinkMetrics RunningSink::metrics() const {
  std::lock_guard lock(mu_);
  return metrics_;
}

}  // namespace mh::sink
