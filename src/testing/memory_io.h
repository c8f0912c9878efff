// In-memory ends of a pipeline for tests that need no store or broker:
// a sink that keeps every record it is given (and can be told to fail), and
// a subscriber that hands out a fixed list of payloads.
#ifndef MH_TESTING_MEMORY_IO_H_
#define MH_TESTING_MEMORY_IO_H_

#include <chrono>
#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "core/result.h"
#include "sink/sink.h"
#include "transport/transport.h"

namespace mh::testing {

// Keeps everything written (thread-safe). The first `failures` writes fail
// with `failure` (Unavailable, i.e. retryable, unless changed); if
// `fail_after` >= 0, every write after that many successful ones fails with
// `late_failure`. A write after Close is an Internal error.
class RecordingSink : public sink::Sink {
 public:
  Status Write(std::span<const sink::WindowRecord> batch) override;
  Status Close() override;

  int failures = 0;
  Status failure = Status::Unavailable("injected: store down");
  int fail_after = -1;
  Status late_failure = Status::IOError("injected: disk full");
  std::vector<sink::WindowRecord> records;
  int attempts = 0;
  bool closed = false;

 private:
  std::mutex mu_;
  int writes_ = 0;
};

// Hands out `payloads` in order, each as a Message with origin "list@<index>"
// and timestamp `broker_time_ns`; at its end once all were polled. Counts
// commits and remembers how many payloads were handed out at the last one.
class ListSubscriber final : public transport::Subscriber {
 public:
  explicit ListSubscriber(std::vector<std::string> payloads);
  Result<std::vector<transport::Message>> Poll(std::size_t max, std::chrono::milliseconds) override;
  Status Commit() override;
  Status Close() override { return Status::OK(); }
  bool AtEnd() const override { return next_ == payloads_.size(); }

  std::int64_t broker_time_ns = 0;
  int commits = 0;
  std::size_t committed = 0;

 private:
  std::vector<std::string> payloads_;
  std::size_t next_ = 0;
};

}  // namespace mh::testing

#endif  // MH_TESTING_MEMORY_IO_H_
