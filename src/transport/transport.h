// Transports: how events travel between machine-health's stages (Kafka /
// Azure Event Hubs, MQTT, the in-process queue, JSON lines). One small
// interface for all, chosen by address (core/uri.h) in app/builtin_plugins.cc.
//
// Delivery contract (at-least-once):
// - Publisher::Publish returns OK only when the peer has acknowledged every
//   message of the batch (Kafka: acks from the partition leader; MQTT: PUBACK
//   at QoS 1). On error some of the batch may have been delivered; the caller
//   may publish the whole batch again (consumers must tolerate duplicates).
// - Subscriber::Poll hands out messages; Subscriber::Commit tells the
//   transport that everything handed out so far has been processed and stored,
//   so it need not be delivered again (Kafka commits the offsets). A message
//   that was polled but not committed is delivered again after a crash or a
//   rebalance. Commit is synchronous.
//
// Lifecycle: created by a factory; used from one thread at a time; Close()
// once (Publisher: flushes and waits for acknowledgements; Subscriber: leaves
// its group without committing anything more); nothing is used after Close.
// The destructor closes if Close was not called.
//
// Subscriber::Lag is the one exception to "one thread at a time": it may be
// called from any thread (a metrics scrape) while another thread polls.
#ifndef MH_TRANSPORT_TRANSPORT_H_
#define MH_TRANSPORT_TRANSPORT_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/status.h"

namespace mh::transport {

// A message to publish. `key` decides the partition (Kafka: all messages of
// one sensor share a key, so they stay in order); transports without keys
// ignore it.
struct OutgoingMessage {
  std::string key;
  std::string payload;
};

// Bytes of spare capacity a subscriber leaves after every received payload
// (payload.capacity() - payload.size() >= kPayloadPadding), so that a parser
// that reads in blocks past the end (simdjson reads up to 64 bytes beyond)
// can parse it where it is instead of copying it first.
inline constexpr std::size_t kPayloadPadding = 64;

// Sets `payload` to `bytes`, with kPayloadPadding bytes of spare capacity.
inline void AssignPayload(std::string& payload, std::string_view bytes) {
  payload.reserve(bytes.size() + kPayloadPadding);
  payload.assign(bytes);
}

// A received message.
struct Message {
  std::string key;
  std::string payload;  // with kPayloadPadding bytes of spare capacity
  // The peer's timestamp of the message (Kafka: the message timestamp), ns
  // since the Unix epoch; 0 when the transport has none. Used as event time
  // only when the event carries no timestamp of its own.
  std::int64_t timestamp_ns = 0;
  // Where it came from, for dead letters and logs, e.g. "telemetry/2@1234"
  // (Kafka topic/partition@offset) or "plant/m1/vib" (MQTT topic).
  std::string origin;
};

class Publisher {
 public:
  virtual ~Publisher() = default;
  // Publishes `batch` in order (per key) and waits for the peer's
  // acknowledgement. Unavailable: peer down or timed out, retry later;
  // InvalidArgument: a message the peer can never take (too large).
  virtual Status Publish(std::span<const OutgoingMessage> batch) = 0;
  // Flushes and releases the connection.
  virtual Status Close() = 0;
};

class Subscriber {
 public:
  virtual ~Subscriber() = default;
  // Waits up to `timeout` for messages and returns at most `max_messages`
  // (possibly none). Unavailable when the peer cannot be reached (the caller
  // retries); the subscriber stays usable.
  virtual Result<std::vector<Message>> Poll(std::size_t max_messages,
                                            std::chrono::milliseconds timeout) = 0;
  // Everything returned by Poll so far has been processed: do not deliver it
  // again. Unavailable if the commit could not be made (messages will be
  // delivered again: duplicates, never loss).
  virtual Status Commit() = 0;
  virtual Status Close() = 0;
  // True when a finite source (a file) has handed out everything it holds;
  // streams never end.
  virtual bool AtEnd() const { return false; }
  // Messages of the source not yet handed out by Poll, summed over the
  // partitions assigned to this subscriber (Kafka, Event Hubs: the high
  // watermark minus the position), as of the last Poll; nullopt when the
  // transport cannot tell or does not know yet. Thread-safe (see the top).
  virtual std::optional<std::int64_t> Lag() const { return std::nullopt; }
};

}  // namespace mh::transport

#endif  // MH_TRANSPORT_TRANSPORT_H_
