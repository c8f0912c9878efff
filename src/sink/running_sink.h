// RunningSink: the framework around every sink plugin (telegraf's
// RunningOutput). The plugin only writes a batch once and says how it went;
// RunningSink owns retries with exponential backoff, the give-up rules and
// the metrics. Batching and the bounded buffer belong to the caller (the
// streaming scorer hands over one batch at a time and does not fetch more
// until every sink has accepted it: backpressure instead of dropping).
//
// Retry rules (sink/retry.h, RetryWithBackoff): Unavailable and IOError
// (peer down, timeout, disk full) are retried after 100 ms, doubling up to
// max_backoff, until the batch is accepted or `stop` is set; any other error
// (InvalidArgument, NotFound, Corruption: retrying cannot help) is returned
// at once.
//
// Metrics: SinkMetrics counts everything once, here; ReportSinkMetrics turns
// it into the Prometheus metrics machine_health_sink_* (docs/operations.md).
//
// Thread safety: Write and Close from one thread; metrics() from any thread.
#ifndef MH_SINK_RUNNING_SINK_H_
#define MH_SINK_RUNNING_SINK_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>

#include "core/status.h"
#include "metrics/metrics.h"
#include "sink/retry.h"
#include "sink/sink.h"

namespace mh::sink {

struct SinkMetrics {
  std::int64_t batches = 0;   // batches accepted
  std::int64_t records = 0;   // records accepted
  std::int64_t attempts = 0;  // Write calls on the plugin
  std::int64_t retries = 0;   // failed attempts that were retried
  std::int64_t failures = 0;  // batches given up (permanent error or stop)
  std::int64_t write_ns = 0;  // time spent in the plugin's Write
  std::int64_t pending = 0;   // records of the batch in Write, not accepted yet
  bool failing = false;       // the last attempt failed (until one succeeds)
  std::string last_error;     // message of the last failed attempt
};

class RunningSink {
 public:
  // `name` is the sink's address as shown in logs (never holds a secret).
  RunningSink(std::string name, std::unique_ptr<Sink> sink, RetryPolicy policy = {});
  ~RunningSink();

  const std::string& name() const { return name_; }
  // Writes `batch`, retrying as above. OK when accepted; Unavailable when
  // `stop` was set before acceptance; the permanent error otherwise.
  Status Write(std::span<const WindowRecord> batch, const std::atomic<bool>& stop);
  Status Close();
  SinkMetrics metrics() const;

 private:
  std::string name_;
  std::unique_ptr<Sink> sink_;
  RetryPolicy policy_;
  mutable std::mutex mu_;
  SinkMetrics metrics_;
};

// Reports `metrics` of the sink `name` into a scrape, labelled sink=NAME:
// machine_health_sink_windows_written_total, _batches_written_total,
// _write_retries_total, _write_failures_total, _write_seconds_total (time in
// the plugin's Write), the gauge machine_health_sink_queue_depth (records
// waiting for the sink: the batch in Write plus `queued` more held by the
// caller) and machine_health_sink_up (0 while attempts fail).
void ReportSinkMetrics(const std::string& name, const SinkMetrics& metrics, std::int64_t queued,
                       metrics::Collection& out);

}  // namespace mh::sink

#endif  // MH_SINK_RUNNING_SINK_H_
