// Kafka and Azure Event Hubs (Kafka protocol) transport, on librdkafka.
// Factories only; the objects implement transport/transport.h (lifecycle and
// thread-safety rules there: one thread at a time, Close once).
//
// Addresses (all options in src/transport/kafka/README.md):
//   kafka://h1:9092,h2:9092/TOPIC?group=G&start=earliest&compression=lz4&...
//   eventhubs://NAMESPACE.servicebus.windows.net/HUB?group=G
//   eventhubs:?group=G   (hub from EVENT_HUB_NAMESPACE_FQDN / EVENT_HUB_NAME
//                         or the connection string's EntityPath)
// Secrets come from KAFKA_SASL_PASSWORD / sasl_password_file=PATH and
// EVENTHUB_CONNECTION_STRING / connection_string_file=PATH, never from the
// address. Event Hubs without a connection string authenticate with a
// managed identity: SASL OAUTHBEARER, tokens for
// https://NAMESPACE.servicebus.windows.net from identity/token_provider.h, set in librdkafka's
// token refresh callback (served by the client's poll calls; librdkafka asks again before expiry).
//
// Publisher: acks=all, idempotent, batched (linger_ms), keyed by
// OutgoingMessage::key; Publish returns after every delivery report.
// Subscriber: consumer group (group= required), cooperative-sticky
// assignment, offsets committed only by Commit() (at-least-once). Lag():
// per assigned partition from which a message was handed out since its
// assignment, the high watermark of librdkafka's last fetch minus the offset
// after that message, summed; recomputed by every Poll.
#ifndef MH_TRANSPORT_KAFKA_KAFKA_TRANSPORT_H_
#define MH_TRANSPORT_KAFKA_KAFKA_TRANSPORT_H_

#include <memory>

#include "core/result.h"
#include "core/uri.h"
#include "transport/kafka/kafka_config.h"
#include "transport/transport.h"

namespace mh::transport::kafka {

// A producer for the address's topic. InvalidArgument / NotSupported for a
// bad address or missing credentials (see kafka_config.h); Internal if
// librdkafka refuses the configuration. Does not connect yet: an unreachable
// cluster shows up as Unavailable from Publish.
Result<std::unique_ptr<Publisher>> NewKafkaPublisher(const Uri& uri);

// A consumer-group member subscribed to the address's topic (group=
// required). Errors as for NewKafkaPublisher.
Result<std::unique_ptr<Subscriber>> NewKafkaSubscriber(const Uri& uri);

// The same from a configuration already built (BuildKafkaConfig), e.g. with
// its own token provider or brokers.
Result<std::unique_ptr<Publisher>> NewKafkaPublisher(KafkaClientConfig config);
Result<std::unique_ptr<Subscriber>> NewKafkaSubscriber(KafkaClientConfig config);

}  // namespace mh::transport::kafka

#endif  // MH_TRANSPORT_KAFKA_KAFKA_TRANSPORT_H_
