#include "sink/transport_sink.h"

#include <charconv>
#include <cmath>
#include <vector>

#include "core/strings.h"
#include "core/time_util.h"

namespace mh::sink {
namespace {

class TransportSink final : public Sink {
 public:
  explicit TransportSink(std::unique_ptr<transport::Publisher> publisher)
      : publisher_(std::move(publisher)) {}

  Status Write(std::span<const WindowRecord> batch) override {
    if (closed_) return Status::Internal("transport sink: write after close");
    messages_.resize(batch.size());
    for (std::size_t i = 0; i < batch.size(); ++i) {
      messages_[i].key = batch[i].machine_id;
      messages_[i].payload.clear();
      AppendRecordJson(batch[i], &messages_[i].payload);
    }
    return publisher_->Publish(messages_);
  }

  Status Close() override {
    if (closed_) return Status::OK();
    closed_ = true;
    return publisher_->Close();
  }

 private:
  std::unique_ptr<transport::Publisher> publisher_;
  std::vector<transport::OutgoingMessage> messages_;
  bool closed_ = false;
};

}  // namespace

void AppendRecordJson(const WindowRecord& r, std::string* out) {
  out->append("{\"sensor_id\":");
  AppendJsonString(r.machine_id, out);
  out->append(",\"timestamp\":");
  // Seconds with the exact nanoseconds: integer part, then up to 9 digits.
  std::int64_t s = r.window_start_ns / 1000000000;
  std::int64_t ns = r.window_start_ns % 1000000000;
  if (ns < 0) {
    ns += 1000000000;
    --s;
  }
  out->append(std::to_string(s));
  if (ns != 0) {
    char frac[16];
    std::snprintf(frac, sizeof frac, ".%09lld", static_cast<long long>(ns));
    std::string f(frac);
    while (f.back() == '0') f.pop_back();
    out->append(f);
  }
  out->append(",\"time\":");
  AppendJsonString(FormatRfc3339(r.window_start_ns, ns % 1000000 == 0 ? 3 : 9), out);
  if (std::isfinite(r.score) && std::isfinite(r.score_samples)) {
    out->append(",\"score\":");
    AppendJsonNumber(r.score, out);
    out->append(",\"score_samples\":");
    AppendJsonNumber(r.score_samples, out);
    out->append(r.anomaly ? ",\"anomaly\":true" : ",\"anomaly\":false");
  }
  if (r.model != nullptr && !r.model->version.empty()) {
    out->append(",\"model_version\":");
    AppendJsonString(r.model->version, out);
  }
  if (r.feature_names != nullptr && !r.features.empty()) {
    out->append(",\"features\":{");
    for (std::size_t i = 0; i < r.features.size() && i < r.feature_names->size(); ++i) {
      if (i > 0) out->push_back(',');
      AppendJsonString((*r.feature_names)[i], out);
      out->push_back(':');
      if (std::isfinite(r.features[i])) {
        AppendJsonNumber(r.features[i], out);
      } else {
        out->append("null");
      }
    }
    out->push_back('}');
  }
  out->push_back('}');
}

std::unique_ptr<Sink> NewTransportSink(std::unique_ptr<transport::Publisher> publisher) {
  return std::make_unique<TransportSink>(std::move(publisher));
}

}  // namespace mh::sink
