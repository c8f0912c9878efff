#include "transport/inproc_transport.h"

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>

namespace mh::transport {
namespace {

struct Queue {
  explicit Queue(InprocOptions o) : options(o) {}
  const InprocOptions options;
  std::mutex mu;
  std::condition_variable not_empty;
  std::condition_variable not_full;
  std::deque<Message> messages;
  std::uint64_t sequence = 0;
};

std::shared_ptr<Queue> GetQueue(const std::string& name, InprocOptions options) {
  static std::mutex registry_mu;
  static std::map<std::string, std::weak_ptr<Queue>> registry;
  std::lock_guard lock(registry_mu);
  if (auto q = registry[name].lock()) return q;
  auto q = std::make_shared<Queue>(options);
  registry[name] = q;
  return q;
}

class InprocPublisher final : public Publisher {
 public:
  InprocPublisher(std::string name, std::shared_ptr<Queue> q)
      : name_(std::move(name)), q_(std::move(q)) {}

  Status Publish(std::span<const OutgoingMessage> batch) override {
    std::unique_lock lock(q_->mu);
    for (const OutgoingMessage& m : batch) {
      const bool room = q_->not_full.wait_for(lock, q_->options.publish_timeout, [&] {
        return q_->messages.size() < q_->options.capacity;
      });
      if (!room) return Status::Unavailable("inproc:" + name_ + ": queue full");
      Message out;
      out.key = m.key;
      AssignPayload(out.payload, m.payload);
      out.origin = "inproc:" + name_ + "@" + std::to_string(q_->sequence++);
      q_->messages.push_back(std::move(out));
      q_->not_empty.notify_one();
    }
    return Status::OK();
  }

  Status Close() override { return Status::OK(); }

 private:
  std::string name_;
  std::shared_ptr<Queue> q_;
};

class InprocSubscriber final : public Subscriber {
 public:
  explicit InprocSubscriber(std::shared_ptr<Queue> q) : q_(std::move(q)) {}

  Result<std::vector<Message>> Poll(std::size_t max_messages,
                                    std::chrono::milliseconds timeout) override {
    std::vector<Message> out;
    std::unique_lock lock(q_->mu);
    q_->not_empty.wait_for(lock, timeout, [&] { return !q_->messages.empty(); });
    while (!q_->messages.empty() && out.size() < max_messages) {
      out.push_back(std::move(q_->messages.front()));
      q_->messages.pop_front();
    }
    if (!out.empty()) q_->not_full.notify_all();
    return out;
  }

  Status Commit() override { return Status::OK(); }
  Status Close() override { return Status::OK(); }

 private:
  std::shared_ptr<Queue> q_;
};

}  // namespace

std::unique_ptr<Publisher> NewInprocPublisher(const std::string& name, InprocOptions options) {
  return std::make_unique<InprocPublisher>(name, GetQueue(name, options));
}

std::unique_ptr<Subscriber> NewInprocSubscriber(const std::string& name, InprocOptions options) {
  return std::make_unique<InprocSubscriber>(GetQueue(name, options));
}

}  // namespace mh::transport
