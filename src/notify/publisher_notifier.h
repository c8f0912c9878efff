// Publisher notifier: publishes each alarm event's JSON through a transport
// Publisher (transport/transport.h), e.g. an MQTT topic at QoS 1
// (transport/mqtt: "mqtt://broker:1883/plant/alarms/{key}?qos=1"; the
// message key is the machine id, so "{key}" in the topic becomes it). Send
// returns once the broker acknowledged the message (PUBACK); Unavailable
// while the broker is down (the dispatcher retries).
#ifndef MH_NOTIFY_PUBLISHER_NOTIFIER_H_
#define MH_NOTIFY_PUBLISHER_NOTIFIER_H_

#include <memory>
#include <string>

#include "notify/notifier.h"
#include "transport/transport.h"

namespace mh::notify {

// `name` as Notifier::name(), e.g. "mqtt:" + the address without secrets.
// Takes ownership of `publisher` (closed when the notifier is destroyed).
std::unique_ptr<Notifier> NewPublisherNotifier(std::string name,
                                               std::unique_ptr<transport::Publisher> publisher);

}  // namespace mh::notify

#endif  // MH_NOTIFY_PUBLISHER_NOTIFIER_H_
