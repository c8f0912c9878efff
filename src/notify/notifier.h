// Notifier: one destination of alarm notifications (a webhook, an MQTT
// topic). The plugin only delivers one event once and says how it went; the
// Dispatcher (dispatcher.h) owns the outbox, the order, the retries with
// backoff and the give-up rules, as RunningSink does for sinks.
//
// Delivery contract: Send returns OK only when the receiver has accepted
// the event (HTTP 2xx, MQTT PUBACK). Unavailable or IOError: not accepted
// now, retry later (the receiver may still have got it: it deduplicates by
// event_id). Any other error: the receiver will never take this event.
//
// Lifecycle: created by a factory; Send from one thread at a time (the
// dispatcher's thread for this destination); destroyed after use.
#ifndef MH_NOTIFY_NOTIFIER_H_
#define MH_NOTIFY_NOTIFIER_H_

#include <string>

#include "core/status.h"
#include "sink/sqlite/alarm_store.h"

namespace mh::notify {

class Notifier {
 public:
  virtual ~Notifier() = default;
  // A stable name of the destination, e.g. "webhook:https://ops.example/hook"
  // or "mqtt:mqtt://broker:1883/plant/alarms". It keys the destination's
  // position in the outbox (so it must not change across restarts) and
  // appears in logs: it never holds a secret.
  virtual const std::string& name() const = 0;
  // Delivers one event: event.payload is its JSON (sink::AlarmEventJson),
  // event.event_id the receivers' deduplication key.
  virtual Status Send(const sink::OutboxEntry& event) = 0;
};

}  // namespace mh::notify

#endif  // MH_NOTIFY_NOTIFIER_H_
