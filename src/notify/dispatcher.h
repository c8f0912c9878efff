// Dispatcher: delivers the alarm events of the outbox (sink/sqlite/
// alarm_store.h) to every Notifier, at least once, in order per destination.
// One thread per destination, so a webhook that is down does not hold up
// the MQTT topic. Each thread:
//   1. reads the events its destination has not delivered yet (oldest first);
//   2. sends each with sink::RetryWithBackoff (the project's one retry loop:
//      Unavailable/IOError retried with exponential backoff until accepted
//      or Stop());
//   3. on acceptance moves the destination's outbox cursor past the event
//      (the event is deleted once every destination has it); a permanent
//      error (e.g. HTTP 400) is logged and counted, and the event given up
//      for that destination so that it cannot block the ones behind it;
//   4. when nothing is pending, waits for Wake() or poll_interval (events
//      written by other processes, e.g. `machine-health alarms ack`).
// Events survive Stop(), crashes and restarts in the outbox; an event whose
// acceptance was not yet recorded when the process stopped is sent again
// (receivers deduplicate by event_id).
//
// Thread safety: Wake(), Stop() and metrics() from any thread.
#ifndef MH_NOTIFY_DISPATCHER_H_
#define MH_NOTIFY_DISPATCHER_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "notify/notifier.h"
#include "sink/retry.h"
#include "sink/sqlite/alarm_store.h"

namespace mh::notify {

struct DispatcherOptions {
  // Backoff between attempts to deliver one event (sink/retry.h).
  sink::RetryPolicy retry;
  // How often an idle destination looks into the outbox for events that
  // Wake() was not told about (written by another process).
  std::chrono::milliseconds poll_interval{1000};
  // Events read from the outbox at a time.
  std::size_t batch = 100;
};

// Counters of one destination since Start; a snapshot.
struct DestinationMetrics {
  std::string name;            // Notifier::name()
  std::int64_t delivered = 0;  // events accepted by the receiver
  std::int64_t attempts = 0;   // Send calls
  std::int64_t retries = 0;    // failed attempts that were retried
  std::int64_t rejected = 0;   // events given up after a permanent error
  std::string last_error;      // message of the last failed attempt ("" if none)
};

class Dispatcher {
 public:
  // Starts one thread per notifier. `store` is not owned and must outlive
  // the dispatcher. InvalidArgument for no notifiers, two with the same
  // name, or batch == 0.
  static Result<std::unique_ptr<Dispatcher>> Start(sink::AlarmStore* store,
                                                   std::vector<std::unique_ptr<Notifier>> notifiers,
                                                   const DispatcherOptions& options);

  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;
  // Stops (as Stop()).
  ~Dispatcher();

  // New events are in the outbox (e.g. after AlarmStore::Record): look now
  // instead of at the next poll.
  void Wake();
  // Stops the threads: a send in progress finishes (or times out), a
  // backoff wait ends within 10 ms; undelivered events stay in the outbox.
  // Idempotent.
  void Stop();
  // One entry per notifier, in the order given to Start.
  std::vector<DestinationMetrics> metrics() const;

 private:
  struct Impl;
  explicit Dispatcher(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mh::notify

#endif  // MH_NOTIFY_DISPATCHER_H_
