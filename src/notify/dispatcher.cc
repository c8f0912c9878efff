#include "notify/dispatcher.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>
#include <utility>

#include "log/log.h"

namespace mh::notify {

struct Dispatcher::Impl {
  sink::AlarmStore* store = nullptr;
  DispatcherOptions options;
  std::vector<std::unique_ptr<Notifier>> notifiers;
  std::vector<std::thread> threads;
  std::atomic<bool> stop{false};

  mutable std::mutex mu;  // guards wake_generation, stopped and metrics
  std::condition_variable wake;
  std::uint64_t wake_generation = 0;
  bool stopped = false;
  std::vector<DestinationMetrics> metrics;

  void Update(std::size_t i, const std::function<void(DestinationMetrics&)>& f) {
    std::lock_guard lock(mu);
    f(metrics[i]);
  }

  // Waits until Wake() moved past `seen`, Stop(), or poll_interval.
  void WaitForWork(std::uint64_t seen) {
    std::unique_lock lock(mu);
    wake.wait_for(lock, options.poll_interval,
                  [&] { return wake_generation != seen || stop.load(std::memory_order_relaxed); });
  }

  void Run(std::size_t i) {
    Notifier& notifier = *notifiers[i];
    const std::string& name = notifier.name();
    bool store_failing = false;
    while (!stop.load(std::memory_order_relaxed)) {
      std::uint64_t seen;
      {
        std::lock_guard lock(mu);
        seen = wake_generation;
      }
      auto pending = store->Pending(name, options.batch);
      if (!pending.ok()) {
        if (!store_failing) {
          log::Warn("notify", name + ": reading the outbox: " + pending.status().ToString());
          store_failing = true;
        }
        WaitForWork(seen);
        continue;
      }
      store_failing = false;
      if (pending->empty()) {
        WaitForWork(seen);
        continue;
      }
      for (const sink::OutboxEntry& event : *pending) {
        if (!Deliver(i, notifier, event)) return;  // stopped
      }
    }
  }

  // Sends one event until accepted or given up; false when stopped first.
  bool Deliver(std::size_t i, Notifier& notifier, const sink::OutboxEntry& event) {
    const std::string& name = notifier.name();
    auto attempt = [&] {
      Status s = notifier.Send(event);
      Update(i, [&](DestinationMetrics& m) {
        ++m.attempts;
        if (!s.ok()) m.last_error = s.message();
      });
      return s;
    };
    int failed = 0;
    auto on_retry = [&](const Status& s, int failures) {
      if (failures == 1) {
        log::Warn("notify", s.message() + "; retrying with backoff");
      }
      failed = failures;
      Update(i, [](DestinationMetrics& m) { ++m.retries; });
    };
    Status s = sink::RetryWithBackoff(options.retry, stop, attempt, on_retry);
    if (!s.ok() && sink::IsRetryable(s)) return false;  // stopped while retrying
    if (s.ok()) {
      if (failed > 0) log::Info("notify", name + ": delivering again");
      Update(i, [](DestinationMetrics& m) { ++m.delivered; });
    } else {
      log::Error("notify", "giving up event " + event.event_id + ": " + s.message());
      Update(i, [](DestinationMetrics& m) { ++m.rejected; });
    }
    Status marked = store->MarkDelivered(name, event.seq);
    if (!marked.ok()) {
      // The event will be sent again: a duplicate, which receivers drop.
      log::Warn("notify",
                name + ": recording delivery of " + event.event_id + ": " + marked.ToString());
    }
    return true;
  }
};

Dispatcher::Dispatcher(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Dispatcher::~Dispatcher() { Stop(); }

Result<std::unique_ptr<Dispatcher>> Dispatcher::Start(
    sink::AlarmStore* store, std::vector<std::unique_ptr<Notifier>> notifiers,
    const DispatcherOptions& options) {
  if (store == nullptr) return Status::InvalidArgument("notify: no alarm store");
  if (notifiers.empty()) return Status::InvalidArgument("notify: no notifier");
  if (options.batch == 0) return Status::InvalidArgument("notify: batch must be at least 1");
  std::set<std::string> names;
  for (const auto& n : notifiers) {
    if (n == nullptr) return Status::InvalidArgument("notify: null notifier");
    if (!names.insert(n->name()).second) {
      return Status::InvalidArgument("notify: two destinations named '" + n->name() + "'");
    }
  }
  auto impl = std::make_unique<Impl>();
  impl->store = store;
  impl->options = options;
  impl->notifiers = std::move(notifiers);
  for (const auto& n : impl->notifiers) {
    DestinationMetrics m;
    m.name = n->name();
    impl->metrics.push_back(std::move(m));
  }
  Impl* raw = impl.get();
  for (std::size_t i = 0; i < raw->notifiers.size(); ++i) {
    raw->threads.emplace_back([raw, i] { raw->Run(i); });
  }
  return std::unique_ptr<Dispatcher>(new Dispatcher(std::move(impl)));
}

void Dispatcher::Wake() {
  {
    std::lock_guard lock(impl_->mu);
    ++impl_->wake_generation;
  }
  impl_->wake.notify_all();
}

void Dispatcher::Stop() {
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->stopped) return;
    impl_->stopped = true;
    impl_->stop.store(true);
  }
  impl_->wake.notify_all();
  for (std::thread& t : impl_->threads) {
    if (t.joinable()) t.join();
  }
}

std::vector<DestinationMetrics> Dispatcher::metrics() const {
  std::lock_guard lock(impl_->mu);
  return impl_->metrics;
}

}  // namespace mh::notify
