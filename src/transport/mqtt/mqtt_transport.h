// MQTT transport (libmosquitto 2.0, MQTT 3.1.1): factories for a Publisher
// and a Subscriber of transport/transport.h. Addresses:
//
//   mqtt://[user@]host[:1883]/TOPIC?qos=1&client_id=ID&clean_session=false
//          &keepalive=30&timeout_ms=10000&password_file=PATH
//          &max_inflight=1000 (publisher) &queue_size=1000 (subscriber)
//          &spool=DIR|off&spool_sync=false (subscriber)
//   mqtts://[user@]host[:8883]/TOPIC?ca=PATH[&cert=PATH&key=PATH]...
//
// The password comes from password_file or env MQTT_PASSWORD, never from the
// address. Publisher topics may contain "{key}" (replaced by the message
// key); subscriber topics are filters (+, #). Details: src/transport/mqtt/
// README.md and docs/transports.md (MQTT).
//
// Delivery (at-least-once):
// - Publisher::Publish returns OK once the broker has acknowledged every
//   message (PUBACK at QoS 1). Unavailable when not connected, or when no
//   acknowledgement arrives for timeout_ms; the batch may then be partly
//   delivered (publish it again: duplicates, never loss).
// - Subscriber: a persistent session by default, so the broker keeps
//   messages while the subscriber is away or stalled. libmosquitto
//   acknowledges a QoS 1 message (PUBACK) once our message callback has
//   returned; the callback first appends the message to a local spool
//   (mqtt_spool.h: segment files in spool=DIR, one spool per client id,
//   write(2), plus fdatasync with spool_sync=true). Poll reads the spool,
//   Commit records the position of everything polled; after a crash or
//   kill -9 the next subscriber with the same client id and spool hands out
//   the uncommitted messages first (duplicates possible, no loss). Without
//   spool_sync a power loss can lose acknowledged messages. The spool is on
//   by default for persistent sessions ($STATE_DIRECTORY/mqtt-spool, else
//   $XDG_STATE_HOME/machine-health/mqtt-spool, else $HOME/.local/state/
//   machine-health/mqtt-spool) and off for clean sessions. With spool=off,
//   messages received but not yet committed (at most queue_size polled or
//   queued) are lost on a crash or Close(), and Commit() is a no-op.
//   Subscribe fails (Unavailable) when another subscriber holds the spool
//   of the same client id.
//
// Lifecycle and threads: as in transport.h (one user thread at a time, Close
// once). Each object runs one libmosquitto network thread that reconnects
// after a broker restart and keeps the session.
#ifndef MH_TRANSPORT_MQTT_MQTT_TRANSPORT_H_
#define MH_TRANSPORT_MQTT_MQTT_TRANSPORT_H_

#include <memory>

#include "core/result.h"
#include "core/uri.h"
#include "transport/transport.h"

namespace mh::transport::mqtt {

// Connects to the broker of `address` (an mqtt:// or mqtts:// Uri) and waits
// for its CONNACK, up to timeout_ms. InvalidArgument: bad address or the
// broker refused the credentials; NotFound/IOError: an unreadable password,
// CA, certificate or key file; Unavailable: the broker could not be reached
// (or the TLS handshake failed) within timeout_ms.
Result<std::unique_ptr<Publisher>> NewMqttPublisher(const Uri& address);

// As NewMqttPublisher, and also waits until the subscription is in place
// (SUBACK, or the broker already holds the persistent session), so messages
// published after it returns are received.
Result<std::unique_ptr<Subscriber>> NewMqttSubscriber(const Uri& address);

}  // namespace mh::transport::mqtt

#endif  // MH_TRANSPORT_MQTT_MQTT_TRANSPORT_H_
