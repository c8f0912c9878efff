#include "notify/publisher_notifier.h"

#include <utility>

namespace mh::notify {
namespace {

class PublisherNotifier final : public Notifier {
 public:
  PublisherNotifier(std::string name, std::unique_ptr<transport::Publisher> publisher)
      : name_(std::move(name)), publisher_(std::move(publisher)) {}
  ~PublisherNotifier() override { (void)publisher_->Close(); }

  const std::string& name() const override { return name_; }

  Status Send(const sink::OutboxEntry& event) override {
    transport::OutgoingMessage message{event.machine_id, event.payload};
    return publisher_->Publish({&message, 1}).WithContext(name_);
  }

 private:
  std::string name_;
  std::unique_ptr<transport::Publisher> publisher_;
};

}  // namespace

std::unique_ptr<Notifier> NewPublisherNotifier(std::string name,
                                               std::unique_ptr<transport::Publisher> publisher) {
  return std::make_unique<PublisherNotifier>(std::move(name), std::move(publisher));
}

}  // namespace mh::notify
