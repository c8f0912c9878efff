// BoundedQueue: a blocking multi-producer, single-consumer FIFO with a fixed
// capacity. Producers block while it is full (backpressure: nothing is
// dropped); the consumer takes everything available in one call.
//
// Thread safety: all methods may be called from any thread.
#ifndef MH_PIPELINE_BOUNDED_QUEUE_H_
#define MH_PIPELINE_BOUNDED_QUEUE_H_

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <vector>

namespace mh::pipeline {

template <typename T>
class BoundedQueue {
 public:
  explicit BoundedQueue(std::size_t capacity) : capacity_(capacity) {}

  // Blocks while full. Returns false (item not queued) once Close() was called.
  bool Push(T item) {
    std::unique_lock<std::mutex> lock(mu_);
    not_full_.wait(lock, [&] { return closed_ || items_.size() < capacity_; });
    if (closed_) return false;
    items_.push_back(std::move(item));
    high_water_ = std::max(high_water_, items_.size());
    if (items_.size() >= wake_at_) not_empty_.notify_one();
    return true;
  }

  // Moves up to `max_items` items into `out` (appending), waiting up to
  // `timeout` for the first one and then up to `linger` more for `max_items`
  // (or the capacity) to be queued, so that batches are larger when items
  // come quickly; Close() ends the wait. Returns false when the queue is
  // closed and empty (the consumer is done).
  bool PopBatch(std::vector<T>* out, std::size_t max_items, std::chrono::milliseconds timeout,
                std::chrono::milliseconds linger = std::chrono::milliseconds(0)) {
    std::unique_lock<std::mutex> lock(mu_);
    not_empty_.wait_for(lock, timeout, [&] { return closed_ || !items_.empty(); });
    if (items_.empty()) return !closed_;
    if (linger.count() > 0 && !closed_ && items_.size() < max_items) {
      wake_at_ = std::max<std::size_t>(1, std::min(max_items, capacity_));
      not_empty_.wait_for(lock, linger, [&] { return closed_ || items_.size() >= wake_at_; });
      wake_at_ = 1;
    }
    while (!items_.empty() && max_items-- > 0) {
      out->push_back(std::move(items_.front()));
      items_.pop_front();
    }
    not_full_.notify_all();
    return true;
  }

  // No more pushes; the consumer still drains what is queued.
  void Close() {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    not_full_.notify_all();
    not_empty_.notify_all();
  }

  // Items queued now.
  std::size_t size() const {
    std::lock_guard<std::mutex> lock(mu_);
    return items_.size();
  }
  std::size_t high_water() const {
    std::lock_guard<std::mutex> lock(mu_);
    return high_water_;
  }

 private:
  const std::size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable not_full_;
  std::condition_variable not_empty_;
  std::deque<T> items_;
  std::size_t high_water_ = 0;
  std::size_t wake_at_ = 1;  // Push wakes the consumer from this many items
  bool closed_ = false;
};

}  // namespace mh::pipeline

#endif  // MH_PIPELINE_BOUNDED_QUEUE_H_
