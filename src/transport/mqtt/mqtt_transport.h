// MQTT transport (libmosquitto 2.0, MQTT 3.1.1): factories for a Publisher
// and a Subscriber of transport/transport.h. Addresses:
//
//   mqtt://[user@]host[:1883]/TOPIC?qos=1&client_id=ID&clean_session=false
//          &keepalive=30&timeout_ms=10000&password_file=PATH
//          &max_inflight=1000 (publisher) &queue_size=1000 (subscriber)
//   mqtts://[user@]host[:8883]/TOPIC?ca=PATH[&cert=PATH&key=PATH]...
//
// The password comes from password_file or env MQTT_PASSWORD, never from the
// address. Publisher topics may contain "{key}" (replaced by the message
// key); subscriber topics are filters (+, #). Details and the delivery
// caveats: src/transport/mqtt/README.md and docs/transports.md (MQTT).
//
// Delivery (at-least-once, with one caveat):
// - Publisher::Publish returns OK once the broker has acknowledged every
//   message (PUBACK at QoS 1). Unavailable when not connected, or when no
//   acknowledgement arrives for timeout_ms; the batch may then be partly
//   delivered (publish it again: duplicates, never loss).
// - Subscriber: a persistent session by default, so the broker keeps
//   messages while the subscriber is away or stalled. libmosquitto 2.0
//   acknowledges a message when it is received, before Poll hands it out:
//   messages received but not yet polled (at most queue_size) are lost if the
//   process crashes or Close() is called. Commit() is a no-op that returns OK.
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
