#include "sink/influxdb/influxdb_sink.h"

#include <atomic>
#include <mutex>
#include <string>
#include <utility>

#include "log/log.h"
#include "sink/influxdb/line_protocol.h"

namespace mh::sink::influxdb {
namespace {

class InfluxdbSinkImpl final : public InfluxdbSink {
 public:
  explicit InfluxdbSinkImpl(std::unique_ptr<InfluxdbWriter> writer) : writer_(std::move(writer)) {}

  Status Write(std::span<const WindowRecord> batch) override {
    if (writer_ == nullptr) return Status::Internal("influxdb: write after close");
    body_.clear();
    std::uint64_t skipped = 0;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      Result<EncodedLines> lines = AppendWindowRecord(batch[i], &body_);
      if (!lines.ok()) {
        return lines.status().WithContext("influxdb: batch record " + std::to_string(i));
      }
      skipped += static_cast<std::uint64_t>(lines->skipped);
    }
    // Counted per Write: a retried batch counts its skipped lines again (the
    // sink cannot tell a retry from new data).
    skipped_lines_.fetch_add(skipped, std::memory_order_relaxed);
    Result<WriteResult> result = writer_->Write(body_);
    if (!result.ok()) return result.status();
    return Status::OK();
  }

  Status Close() override {
    std::lock_guard<std::mutex> lock(close_mutex_);
    if (writer_ != nullptr) {
      final_metrics_ = writer_->metrics();
      writer_.reset();  // closes the connection
    }
    return Status::OK();
  }

  InfluxdbMetrics metrics() const override {
    InfluxdbMetrics m;
    {
      // Write() reads writer_ without the lock: only Close(), on the same
      // thread, changes it; metrics() may run on another thread.
      std::lock_guard<std::mutex> lock(close_mutex_);
      m = writer_ != nullptr ? writer_->metrics() : final_metrics_;
    }
    m.skipped_lines = skipped_lines_.load(std::memory_order_relaxed);
    return m;
  }

 private:
  std::unique_ptr<InfluxdbWriter> writer_;
  std::string body_;  // reused between batches
  std::atomic<std::uint64_t> skipped_lines_{0};
  mutable std::mutex close_mutex_;
  InfluxdbMetrics final_metrics_;  // guarded by close_mutex_
};

}  // namespace

Result<std::unique_ptr<InfluxdbSink>> OpenInfluxdbSink(const InfluxdbConfig& config) {
  MH_ASSIGN_OR_RETURN(std::unique_ptr<InfluxdbWriter> writer, InfluxdbWriter::Open(config));
  log::Info("influxdb", "writing to " + writer->description());
  return std::unique_ptr<InfluxdbSink>(new InfluxdbSinkImpl(std::move(writer)));
}

Result<std::unique_ptr<Sink>> NewInfluxdbSink(const Uri& uri) {
  MH_ASSIGN_OR_RETURN(InfluxdbConfig config, ConfigFromUri(uri, ProcessEnvironment()));
  MH_ASSIGN_OR_RETURN(std::unique_ptr<InfluxdbSink> sink, OpenInfluxdbSink(config));
  return std::unique_ptr<Sink>(std::move(sink));
}

Result<std::unique_ptr<Sink>> NewInfluxdbSinkFromEnvironment() {
  MH_ASSIGN_OR_RETURN(InfluxdbConfig config, ConfigFromPrototypeEnvironment());
  MH_ASSIGN_OR_RETURN(std::unique_ptr<InfluxdbSink> sink, OpenInfluxdbSink(config));
  return std::unique_ptr<Sink>(std::move(sink));
}

}  // namespace mh::sink::influxdb
