// RetryWithBackoff (sink/retry.h), the one retry loop: retries retryable
// errors with doubling waits up to the maximum, returns permanent errors at
// once, and gives up promptly when stopped.
#include "sink/retry.h"

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace mh::sink {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

TEST(RetryTest, RetriesUntilAcceptedWithDoublingCappedBackoff) {
  std::atomic<bool> stop{false};
  std::vector<Clock::time_point> calls;
  std::vector<int> failures_seen;
  RetryPolicy policy{milliseconds(20), milliseconds(50)};
  Status s = RetryWithBackoff(
      policy, stop,
      [&] {
        calls.push_back(Clock::now());
        if (calls.size() < 5) {
          return calls.size() % 2 ? Status::Unavailable("down") : Status::IOError("disk");
        }
        return Status::OK();
      },
      [&](const Status& failed, int failures) {
        EXPECT_TRUE(IsRetryable(failed));
        failures_seen.push_back(failures);
      });
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_EQ(calls.size(), 5u);
  EXPECT_EQ(failures_seen, (std::vector<int>{1, 2, 3, 4}));
  // Waits of at least 20, 40, 50, 50 ms (doubling, capped at 50).
  const int expected[] = {20, 40, 50, 50};
  for (int i = 0; i < 4; ++i) {
    EXPECT_GE(calls[i + 1] - calls[i], milliseconds(expected[i])) << "wait " << i;
  }
}

TEST(RetryTest, PermanentErrorReturnedAtOnce) {
  std::atomic<bool> stop{false};
  int calls = 0;
  Status s = RetryWithBackoff({}, stop, [&] {
    ++calls;
    return Status::InvalidArgument("bad request");
  });
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_EQ(s.message(), "bad request");
  EXPECT_EQ(calls, 1);
}

TEST(RetryTest, StopEndsTheWait) {
  std::atomic<bool> stop{false};
  int calls = 0;
  const auto t0 = Clock::now();
  Status s = RetryWithBackoff(RetryPolicy{milliseconds(60000), milliseconds(60000)}, stop, [&] {
    ++calls;
    stop = true;  // as if another thread asked to stop during the attempt
    return Status::Unavailable("peer down");
  });
  EXPECT_TRUE(s.IsUnavailable());
  EXPECT_EQ(s.message(), "stopped while retrying: peer down");
  EXPECT_EQ(calls, 1);
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds(5));  // not the 60 s wait
}

}  // namespace
}  // namespace mh::sink
