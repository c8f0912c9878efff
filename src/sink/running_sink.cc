#include "sink/running_sink.h"

#include <algorithm>
#include <thread>

#include "log/log.h"

namespace mh::sink {

RunningSink::RunningSink(std::string name, std::unique_ptr<Sink> sink, RetryPolicy policy)
    : name_(std::move(name)), sink_(std::move(sink)), policy_(policy) {}

RunningSink::~RunningSink() = default;

Status RunningSink::Write(std::span<const WindowRecord> batch, const std::atomic<bool>& stop) {
  auto backoff = policy_.initial_backoff;
  bool logged_outage = false;
  while (true) {
    const auto t0 = std::chrono::steady_clock::now();
    Status s = sink_->Write(batch);
    const auto dt = std::chrono::steady_clock::now() - t0;
    {
      std::lock_guard lock(mu_);
      ++metrics_.attempts;
      metrics_.write_ns += std::chrono::duration_cast<std::chrono::nanoseconds>(dt).count();
      if (s.ok()) {
        ++metrics_.batches;
        metrics_.records += static_cast<std::int64_t>(batch.size());
      } else {
        metrics_.last_error = s.ToString();
      }
    }
    if (s.ok()) {
      if (logged_outage) log::Info("sink", name_ + ": accepting writes again");
      return s;
    }
    const bool retryable = s.IsUnavailable() || s.IsIOError();
    if (!retryable) {
      std::lock_guard lock(mu_);
      ++metrics_.failures;
      return s.WithContext(name_);
    }
    if (!logged_outage) {
      log::Warn("sink", name_ + ": " + s.ToString() + "; retrying with backoff");
      logged_outage = true;
    }
    {
      std::lock_guard lock(mu_);
      ++metrics_.retries;
    }
    // Sleep in small steps so that a stop request is seen promptly.
    const auto until = std::chrono::steady_clock::now() + backoff;
    while (std::chrono::steady_clock::now() < until) {
      if (stop.load(std::memory_order_relaxed)) {
        std::lock_guard lock(mu_);
        ++metrics_.failures;
        return Status::Unavailable(name_ + ": stopped while retrying: " + s.message());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    backoff = std::min(backoff * 2, policy_.max_backoff);
  }
}

Status RunningSink::Close() { return sink_->Close().WithContext(name_); }

SinkMetrics RunningSink::metrics() const {
  std::lock_guard lock(mu_);
  return metrics_;
}

}  // namespace mh::sink
