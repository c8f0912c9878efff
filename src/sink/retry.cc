#include "sink/retry.h"

#include <algorithm>
#include <string>
#include <thread>

namespace mh::sink {

bool IsRetryable(const Status& status) { return status.IsUnavailable() || status.IsIOError(); }

Status RetryWithBackoff(const RetryPolicy& policy, const std::atomic<bool>& stop,
                        const std::function<Status()>& attempt,
                        const std::function<void(const Status&, int failures)>& on_retry) {
  auto backoff = policy.initial_backoff;
  int failures = 0;
  while (true) {
    Status s = attempt();
    if (s.ok() || !IsRetryable(s)) return s;
    ++failures;
    if (on_retry) on_retry(s, failures);
    // Sleep in small steps so that a stop request is seen promptly.
    const auto until = std::chrono::steady_clock::now() + backoff;
    while (std::chrono::steady_clock::now() < until) {
      if (stop.load(std::memory_order_relaxed)) {
        return Status::Unavailable("stopped while retrying: " + s.message());
      }
      std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
          std::chrono::milliseconds(10), until - std::chrono::steady_clock::now()));
    }
    backoff = std::min(backoff * 2, policy.max_backoff);
  }
}

}  // namespace mh::sink
