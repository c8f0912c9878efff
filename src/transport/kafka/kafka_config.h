// Kafka / Azure Event Hubs transport configuration: turns an address
// (core/uri.h) plus the environment into the librdkafka property list of a
// producer or a consumer. Pure: no network, no librdkafka; files and
// environment variables are read through an injected Environment so that the
// translation is unit-testable. Options are documented in README.md.
//
// Secrets (SASL password, Event Hubs connection string) come only from the
// environment or from files named in the address; they end up in
// KafkaClientConfig::properties (librdkafka needs them) and are listed in
// KafkaClientConfig::secrets. No error message and no Describe() text ever
// contains a secret.
//
// Thread safety: plain functions and value types.
#ifndef MH_TRANSPORT_KAFKA_KAFKA_CONFIG_H_
#define MH_TRANSPORT_KAFKA_KAFKA_CONFIG_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/environment.h"
#include "core/result.h"
#include "core/uri.h"

namespace mh::identity {
class TokenProvider;
}  // namespace mh::identity

namespace mh::transport::kafka {

// Environment variables read by BuildKafkaConfig.
inline constexpr char kSaslPasswordEnv[] = "KAFKA_SASL_PASSWORD";
inline constexpr char kSslKeyPasswordEnv[] = "KAFKA_SSL_KEY_PASSWORD";
inline constexpr char kEventHubConnectionStringEnv[] = "EVENTHUB_CONNECTION_STRING";
// The prototype's variables (namespace host name and hub name).
inline constexpr char kEventHubNamespaceEnv[] = "EVENT_HUB_NAMESPACE_FQDN";
inline constexpr char kEventHubNameEnv[] = "EVENT_HUB_NAME";

enum class ClientRole : std::uint8_t { kPublisher = 0, kSubscriber = 1 };

struct KafkaClientConfig {
  // "kafka" or "eventhubs": the log component and error prefix.
  std::string flavor;
  std::string topic;
  // Consumer group (subscriber only; empty for a publisher).
  std::string group;
  // Bootstrap list, e.g. "h1:9092,h2:9092" (safe to show).
  std::string brokers;
  // Publisher: how long a message may wait for its acknowledgement
  // (message.timeout.ms); Publish gives up a little after that.
  std::chrono::milliseconds delivery_timeout{30000};
  // librdkafka properties in the order they are to be set.
  std::vector<std::pair<std::string, std::string>> properties;
  // Secret values contained in `properties` (to be masked in any output).
  std::vector<std::string> secrets;
  // Not empty: sasl.mechanisms is OAUTHBEARER and the client takes tokens
  // for this resource ("https://NAMESPACE.servicebus.windows.net", the
  // resource Microsoft documents for Kafka clients of Event Hubs; AMQP
  // clients use https://eventhubs.azure.net/) from a managed identity (identity/token_provider.h)
  // in librdkafka's token refresh callback. Event Hubs without a connection
  // string.
  std::string oauth_resource;
  // The token source for oauth_resource; nullptr = the process-wide managed
  // identity (identity::DefaultTokenProvider()). Tests put their own here.
  std::shared_ptr<identity::TokenProvider> tokens;

  // The value of librdkafka property `name`, nullopt when not set.
  std::optional<std::string> Property(const std::string& name) const;
  // "name=value, ..." with secret values replaced by "***": safe to log.
  std::string Describe() const;
};

// Translates `uri` (scheme "kafka" or "eventhubs") for `role`.
// InvalidArgument: unknown or malformed parameter, missing topic or group,
// secret given in the address, missing or malformed credentials, hub or
// namespace mismatch. Event Hubs without a connection string use a managed
// identity (oauth_resource set). Messages start with "kafka: " or
// "eventhubs: ".
Result<KafkaClientConfig> BuildKafkaConfig(const Uri& uri, ClientRole role, const Environment& env);

// The parts of an Event Hubs connection string
// ("Endpoint=sb://NS.servicebus.windows.net/;SharedAccessKeyName=N;
// SharedAccessKey=K;EntityPath=HUB"). Exposed for tests.
struct EventHubConnectionString {
  std::string namespace_host;  // "NS.servicebus.windows.net"
  std::string entity_path;     // hub name, may be empty (namespace-level key)
};
// Parses and checks a connection string; `source` names where it came from
// for error messages (the text itself never appears in an error).
Result<EventHubConnectionString> ParseEventHubConnectionString(const std::string& text,
                                                               const std::string& source);

}  // namespace mh::transport::kafka

#endif  // MH_TRANSPORT_KAFKA_KAFKA_CONFIG_H_
