// Where replayed events go. The replayer hands each batch of encoded events
// (replay/event_json.h) to an EventPublisher; this issue provides JSON lines
// on a stream (target "-"); Kafka/Event Hubs and MQTT publishers implement
// the same interface later.
//
// Lifecycle: Publish any number of times, then Close once; nothing is
// published after Close. Thread safety: one thread at a time.
#ifndef MH_REPLAY_EVENT_PUBLISHER_H_
#define MH_REPLAY_EVENT_PUBLISHER_H_

#include <iosfwd>
#include <memory>
#include <span>
#include <string>

#include "core/status.h"

namespace mh::replay {

class EventPublisher {
 public:
  virtual ~EventPublisher() = default;
  // Publishes a batch of events in order; each is one JSON document without a
  // newline. On error none or some of the batch may have been delivered:
  // IOError (stream closed), Unavailable (peer down; retryable).
  virtual Status Publish(std::span<const std::string> events) = 0;
  // Flushes what is buffered. IOError when the flush fails.
  virtual Status Close() = 0;
};

// JSON lines on `out` (not owned; must outlive the publisher): each event
// followed by '\n', one write per batch, flushed after every batch so that a
// paced replay is visible as it happens.
std::unique_ptr<EventPublisher> NewJsonLinesPublisher(std::ostream& out);

}  // namespace mh::replay

#endif  // MH_REPLAY_EVENT_PUBLISHER_H_
