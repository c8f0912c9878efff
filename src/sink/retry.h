// The one retry loop of machine-health: exponential backoff on retryable
// errors, used by RunningSink (every sink) and the alarm notifiers
// (notify/dispatcher.h). Do not write another; call RetryWithBackoff.
//
// Retryable: Unavailable and IOError (peer down, timeout, disk full). Any
// other error (InvalidArgument, NotFound, Corruption: retrying cannot help)
// ends the loop at once.
//
// Thread safety: a plain function; `stop` may be set from any thread.
#ifndef MH_SINK_RETRY_H_
#define MH_SINK_RETRY_H_

#include <atomic>
#include <chrono>
#include <functional>

#include "core/status.h"

namespace mh::sink {

struct RetryPolicy {
  // Wait after the first failure; doubled after every further one.
  std::chrono::milliseconds initial_backoff{100};
  // Longest wait between two attempts.
  std::chrono::milliseconds max_backoff{10000};
};

// True for the errors RetryWithBackoff retries (Unavailable, IOError).
bool IsRetryable(const Status& status);

// Calls attempt() until it returns OK or a non-retryable error, waiting
// initial_backoff, then twice as long each time up to max_backoff, between
// attempts. Before each wait, on_retry(failure) is called (if set) with the
// failed attempt's status and the number of failures so far (1, 2, ...).
//
// Returns OK once an attempt succeeded; the non-retryable error as is; or,
// when `stop` is seen set during a wait (checked every 10 ms), Unavailable
// "stopped while retrying: <last error>".
Status RetryWithBackoff(const RetryPolicy& policy, const std::atomic<bool>& stop,
                        const std::function<Status()>& attempt,
                        const std::function<void(const Status&, int failures)>& on_retry = {});

}  // namespace mh::sink

#endif  // MH_SINK_RETRY_H_
