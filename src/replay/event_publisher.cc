#include "replay/event_publisher.h"

#include <ostream>

namespace mh::replay {
namespace {

class JsonLinesPublisher final : public EventPublisher {
 public:
  explicit JsonLinesPublisher(std::ostream& out) : out_(out) {}

  Status Publish(std::span<const std::string> events) override {
    buffer_.clear();
    for (const std::string& e : events) {
      buffer_.append(e);
      buffer_.push_back('\n');
    }
    out_.write(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
    out_.flush();
    if (!out_) return Status::IOError("output stream: write failed");
    return Status::OK();
  }

  Status Close() override {
    out_.flush();
    if (!out_) return Status::IOError("output stream: flush failed");
    return Status::OK();
  }

 private:
  std::ostream& out_;
  std::string buffer_;
};

}  // namespace

std::unique_ptr<EventPublisher> NewJsonLinesPublisher(std::ostream& out) {
  return std::make_unique<JsonLinesPublisher>(out);
}

}  // namespace mh::replay
