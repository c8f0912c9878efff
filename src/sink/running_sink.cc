#include "sink/running_sink.h"

#include "log/log.h"

namespace mh::sink {

RunningSink::RunningSink(std::string name, std::unique_ptr<Sink> sink, RetryPolicy policy)
    : name_(std::move(name)), sink_(std::move(sink)), policy_(policy) {}

RunningSink::~RunningSink() = default;

Status RunningSink::Write(std::span<const WindowRecord> batch, const std::atomic<bool>& stop) {
  {
    std::lock_guard lock(mu_);
    metrics_.pending = static_cast<std::int64_t>(batch.size());
  }
  auto attempt = [&] {
    const auto t0 = std::chrono::steady_clock::now();
    Status s = sink_->Write(batch);
    const auto dt = std::chrono::steady_clock::now() - t0;
    std::lock_guard lock(mu_);
    ++metrics_.attempts;
    metrics_.write_ns += std::chrono::duration_cast<std::chrono::nanoseconds>(dt).count();
    metrics_.failing = !s.ok();
    if (s.ok()) {
      ++metrics_.batches;
      metrics_.records += static_cast<std::int64_t>(batch.size());
      metrics_.pending = 0;
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
  metrics_.pending = 0;  // given up: the caller keeps or drops the batch
  return s.WithContext(name_);
}

Status RunningSink::Close() { return sink_->Close().WithContext(name_); }

SinkMetrics RunningSink::metrics() const {
  std::lock_guard lock(mu_);
  return metrics_;
}

void ReportSinkMetrics(const std::string& name, const SinkMetrics& m, std::int64_t queued,
                       metrics::Collection& out) {
  const metrics::Labels sink{{"sink", name}};
  auto d = [](std::int64_t v) { return static_cast<double>(v); };
  out.Counter("machine_health_sink_windows_written_total", "Windows (records) the sink accepted.",
              sink, d(m.records));
  out.Counter("machine_health_sink_batches_written_total", "Batches the sink accepted.", sink,
              d(m.batches));
  out.Counter("machine_health_sink_write_retries_total",
              "Failed sink writes that were retried with backoff.", sink, d(m.retries));
  out.Counter("machine_health_sink_write_failures_total",
              "Batches given up (a permanent error, or stopped while the sink was down).", sink,
              d(m.failures));
  out.Counter("machine_health_sink_write_seconds_total",
              "Time spent in the sink's write calls, in seconds.", sink, d(m.write_ns) * 1e-9);
  out.Gauge("machine_health_sink_queue_depth",
            "Windows waiting for the sink: the batch being written and those queued behind it.",
            sink, d(m.pending + queued));
  out.Gauge("machine_health_sink_up", "1 if the sink's last write succeeded (or none failed yet).",
            sink, m.failing ? 0 : 1);
}

}  // namespace mh::sink
