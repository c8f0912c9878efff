#include "transport/kafka/kafka_config.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/strings.h"

namespace mh::transport::kafka {
namespace {

constexpr int kKafkaDefaultPort = 9092;
constexpr int kEventHubsPort = 9093;
constexpr char kEventHubsDomain[] = ".servicebus.windows.net";

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

bool HasControlChars(std::string_view s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return std::iscntrl(static_cast<unsigned char>(c)) != 0; });
}

// Kafka topic names (and Event Hubs names): letters, digits, '.', '_', '-'.
Status CheckTopic(const std::string& topic, std::string_view what) {
  if (topic.empty()) return Status::InvalidArgument(std::string("no ") + std::string(what));
  if (topic.size() > 249) {
    return Status::InvalidArgument(std::string(what) + " is longer than 249 characters");
  }
  for (char c : topic) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') {
      return Status::InvalidArgument(std::string(what) + " '" + topic +
                                     "' may only contain letters, digits, '.', '_' and '-'");
    }
  }
  if (topic == "." || topic == "..") {
    return Status::InvalidArgument(std::string(what) + " may not be '.' or '..'");
  }
  return Status::OK();
}

// An integer parameter within [min, max], or `fallback` when absent.
Result<std::int64_t> IntParam(const Uri& uri, const char* name, std::int64_t fallback,
                              std::int64_t min, std::int64_t max) {
  if (!uri.HasParam(name)) return fallback;
  const std::string text = uri.Param(name);
  auto parsed = ParseInt(text);
  if (!parsed.ok() || *parsed < min || *parsed > max) {
    return Status::InvalidArgument(std::string(name) + "='" + text + "' is not an integer in [" +
                                   std::to_string(min) + ", " + std::to_string(max) + "]");
  }
  return *parsed;
}

// One of `allowed` (compared case-insensitively, returned as in `allowed`).
Result<std::string> ChoiceParam(const Uri& uri, const char* name, std::string_view fallback,
                                std::initializer_list<std::string_view> allowed) {
  if (!uri.HasParam(name)) return std::string(fallback);
  const std::string value = uri.Param(name);
  std::string list;
  for (std::string_view a : allowed) {
    if (Lower(a) == Lower(value)) return std::string(a);
    if (!list.empty()) list += "|";
    list += a;
  }
  return Status::InvalidArgument(std::string(name) + "='" + value + "' is not one of " + list);
}

Result<bool> BoolParam(const Uri& uri, const char* name, bool fallback) {
  MH_ASSIGN_OR_RETURN(std::string v,
                      ChoiceParam(uri, name, fallback ? "true" : "false", {"true", "false"}));
  return v == "true";
}

// Secret-looking parameters get their own message (never echoing the value).
Status RefuseSecretParams(const Uri& uri) {
  static constexpr std::string_view kSecretNames[] = {
      "password",          "sasl_password",   "connection_string",
      "shared_access_key", "sharedaccesskey", "key_password",
      "ssl_key_password",  "token",           "secret"};
  for (const auto& [key, value] : uri.query) {
    const std::string k = Lower(key);
    if (std::find(std::begin(kSecretNames), std::end(kSecretNames), k) != std::end(kSecretNames)) {
      return Status::InvalidArgument(
          "parameter '" + key +
          "' refused: secrets may not be given in an address (it would show in logs and process "
          "lists); use the environment variable or the *_file parameter described in the "
          "transport's README");
    }
  }
  return Status::OK();
}

std::optional<std::string> NonEmptyEnv(const Environment& env, const char* name) {
  auto v = env.get_env(name);
  if (!v) return std::nullopt;
  std::string t(TrimSpace(*v));
  if (t.empty()) return std::nullopt;
  return t;
}

struct Builder {
  KafkaClientConfig config;
  void Set(const std::string& name, std::string value) {
    for (auto& [k, v] : config.properties) {
      if (k == name) {
        v = std::move(value);
        return;
      }
    }
    config.properties.emplace_back(name, std::move(value));
  }
  void SetSecret(const std::string& name, const std::string& value) {
    config.secrets.push_back(value);
    Set(name, value);
  }
};

// Options both schemes share: client id, group, start, producer tuning.
Status ApplyCommon(const Uri& uri, ClientRole role, bool event_hubs, Builder& b) {
  const std::string client_id = uri.Param("client_id", "machine-health");
  if (client_id.empty() || HasControlChars(client_id)) {
    return Status::InvalidArgument("client_id must be non-empty printable text");
  }
  b.Set("client.id", client_id);
  b.Set("log.connection.close", "false");
  // Publish waits for acknowledgements batch by batch: a request's last
  // small TCP segment must not wait for Nagle + delayed ACK (~40 ms).
  b.Set("socket.nagle.disable", "true");
  if (event_hubs) {
    // Azure closes idle TCP connections after 240 s; Microsoft's recommended
    // client settings stay below that.
    b.Set("metadata.max.age.ms", "180000");
    b.Set("connections.max.idle.ms", "180000");
    b.Set("socket.keepalive.enable", "true");
  }
  if (uri.HasParam("ca")) {
    const std::string ca = uri.Param("ca");
    if (ca.empty()) return Status::InvalidArgument("ca is empty");
    b.Set("ssl.ca.location", ca);
  }

  // Every value is checked whatever the role: one address may serve both
  // ends, and a typo in the other end's option is still a typo.
  MH_ASSIGN_OR_RETURN(const std::int64_t session_ms,
                      IntParam(uri, "session_timeout_ms", -1, 1000, 3600000));
  MH_ASSIGN_OR_RETURN(const std::int64_t fetch_wait_ms,
                      IntParam(uri, "fetch_wait_ms", -1, 0, 300000));
  MH_ASSIGN_OR_RETURN(const std::int64_t prefetch_kb,
                      IntParam(uri, "prefetch_kb", -1, 1024, 2097151));
  MH_ASSIGN_OR_RETURN(const std::string start,
                      ChoiceParam(uri, "start", "earliest", {"earliest", "latest"}));
  MH_ASSIGN_OR_RETURN(const std::string compression,
                      ChoiceParam(uri, "compression", event_hubs ? "none" : "lz4",
                                  {"none", "gzip", "snappy", "lz4", "zstd"}));
  MH_ASSIGN_OR_RETURN(const std::int64_t linger, IntParam(uri, "linger_ms", 5, 0, 900000));
  MH_ASSIGN_OR_RETURN(const std::int64_t timeout, IntParam(uri, "timeout_ms", 30000, 100, 3600000));
  MH_ASSIGN_OR_RETURN(const bool idempotence, BoolParam(uri, "idempotence", true));

  if (role == ClientRole::kPublisher) {
    b.config.delivery_timeout = std::chrono::milliseconds(timeout);
    b.Set("acks", "all");
    b.Set("enable.idempotence", idempotence ? "true" : "false");
    b.Set("compression.codec", compression);
    b.Set("linger.ms", std::to_string(linger));
    b.Set("message.timeout.ms", std::to_string(timeout));
    // Same key -> same partition as Java clients (murmur2), so other
    // producers of the same topic agree on the partition of a sensor.
    b.Set("partitioner", "murmur2_random");
    if (event_hubs) b.Set("request.timeout.ms", "60000");
    return Status::OK();
  }

  b.config.group = uri.Param("group");
  if (b.config.group.empty()) {
    return Status::InvalidArgument(
        "a subscriber needs a consumer group: add ?group=NAME to the address");
  }
  if (HasControlChars(b.config.group)) {
    return Status::InvalidArgument("group must be printable text");
  }
  b.Set("group.id", b.config.group);
  b.Set("enable.auto.commit", "false");
  b.Set("enable.auto.offset.store", "false");
  b.Set("partition.assignment.strategy", "cooperative-sticky");
  b.Set("auto.offset.reset", start);
  b.Set("enable.partition.eof", "false");
  // A broker holds an empty fetch up to this long; Kafka answers as soon as
  // data arrives, but librdkafka's mock cluster waits it out (docs).
  if (fetch_wait_ms >= 0) b.Set("fetch.wait.max.ms", std::to_string(fetch_wait_ms));
  // How much fetched data may wait in the consumer's queue (librdkafka's
  // default: 64 MiB). Smaller keeps buffers warm (fewer page faults, less
  // CPU per event) but, measured against the mock cluster, fetches too
  // slowly to keep one scorer busy: the default stays (docs/transports.md).
  if (prefetch_kb >= 0) b.Set("queued.max.messages.kbytes", std::to_string(prefetch_kb));
  if (session_ms > 0) {
    b.Set("session.timeout.ms", std::to_string(session_ms));
    // Heartbeats must be well below the session timeout.
    b.Set("heartbeat.interval.ms",
          std::to_string(std::clamp<std::int64_t>(session_ms / 6, 100, 3000)));
  }
  return Status::OK();
}

Result<KafkaClientConfig> BuildPlainKafka(const Uri& uri, ClientRole role, const Environment& env) {
  MH_RETURN_IF_ERROR(uri.CheckParams(
      {"group", "start", "client_id", "compression", "linger_ms", "timeout_ms",
       "session_timeout_ms", "fetch_wait_ms", "prefetch_kb", "idempotence", "security_protocol",
       "sasl_mechanism", "sasl_username", "sasl_password_file", "ca", "cert", "key"}));
  Builder b;
  b.config.flavor = "kafka";
  MH_ASSIGN_OR_RETURN(auto hosts, uri.HostPorts(kKafkaDefaultPort));
  for (const auto& [host, port] : hosts) {
    if (!b.config.brokers.empty()) b.config.brokers += ",";
    b.config.brokers += host + ":" + std::to_string(port);
  }
  b.config.topic = uri.path;
  MH_RETURN_IF_ERROR(CheckTopic(b.config.topic, "topic (kafka://HOST:PORT/TOPIC)"));
  b.Set("bootstrap.servers", b.config.brokers);
  MH_RETURN_IF_ERROR(ApplyCommon(uri, role, /*event_hubs=*/false, b));

  MH_ASSIGN_OR_RETURN(const std::string protocol,
                      ChoiceParam(uri, "security_protocol", "plaintext",
                                  {"plaintext", "ssl", "sasl_plaintext", "sasl_ssl"}));
  const bool sasl = protocol == "sasl_plaintext" || protocol == "sasl_ssl";
  const bool tls = protocol == "ssl" || protocol == "sasl_ssl";
  b.Set("security.protocol", protocol);

  // SASL: user name from ?sasl_username= or user@host; password from a file
  // or the environment only.
  std::string user = uri.Param("sasl_username");
  if (!uri.user.empty()) {
    if (!user.empty() && user != uri.user) {
      return Status::InvalidArgument("sasl_username and the user in the address differ");
    }
    user = uri.user;
  }
  const bool any_sasl_option =
      uri.HasParam("sasl_mechanism") || !user.empty() || uri.HasParam("sasl_password_file");
  if (!sasl && any_sasl_option) {
    return Status::InvalidArgument(
        "sasl_mechanism, sasl_username and sasl_password_file need "
        "security_protocol=sasl_plaintext or sasl_ssl");
  }
  if (sasl) {
    MH_ASSIGN_OR_RETURN(
        const std::string mechanism,
        ChoiceParam(uri, "sasl_mechanism", "PLAIN", {"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"}));
    if (user.empty()) {
      return Status::InvalidArgument("security_protocol=" + protocol +
                                     " needs sasl_username=USER (or USER@ in the address)");
    }
    std::string password;
    if (uri.HasParam("sasl_password_file")) {
      MH_ASSIGN_OR_RETURN(
          password, ReadSecretFile(env, "sasl_password_file", uri.Param("sasl_password_file")));
    } else if (auto p = env.get_env(kSaslPasswordEnv); p && !p->empty()) {
      password = *p;
    } else {
      return Status::InvalidArgument(std::string("security_protocol=") + protocol +
                                     " needs a password: set " + kSaslPasswordEnv +
                                     " or sasl_password_file=PATH");
    }
    b.Set("sasl.mechanisms", Upper(mechanism));
    b.Set("sasl.username", user);
    b.SetSecret("sasl.password", password);
  }

  // TLS files.
  const bool any_tls_option = uri.HasParam("ca") || uri.HasParam("cert") || uri.HasParam("key");
  if (!tls && any_tls_option) {
    return Status::InvalidArgument("ca, cert and key need security_protocol=ssl or sasl_ssl");
  }
  if (uri.HasParam("cert") != uri.HasParam("key")) {
    return Status::InvalidArgument("cert and key must be given together (client certificate)");
  }
  if (uri.HasParam("cert")) {
    if (uri.Param("cert").empty() || uri.Param("key").empty()) {
      return Status::InvalidArgument("cert and key may not be empty");
    }
    b.Set("ssl.certificate.location", uri.Param("cert"));
    b.Set("ssl.key.location", uri.Param("key"));
    if (auto p = env.get_env(kSslKeyPasswordEnv); p && !p->empty()) {
      b.SetSecret("ssl.key.password", *p);
    }
  }
  return std::move(b.config);
}

// "sb://NS.servicebus.windows.net/" or "NS.servicebus.windows.net" -> host.
std::string NamespaceHost(std::string_view text) {
  std::string s(TrimSpace(text));
  if (Lower(s.substr(0, 5)) == "sb://") s = s.substr(5);
  while (!s.empty() && s.back() == '/') s.pop_back();
  return Lower(s);
}

Result<KafkaClientConfig> BuildEventHubs(const Uri& uri, ClientRole role, const Environment& env) {
  MH_RETURN_IF_ERROR(
      uri.CheckParams({"group", "start", "client_id", "compression", "linger_ms", "timeout_ms",
                       "session_timeout_ms", "fetch_wait_ms", "prefetch_kb", "idempotence", "ca",
                       "connection_string_file"}));
  if (!uri.user.empty()) {
    return Status::InvalidArgument(
        "no user name in an eventhubs address: authentication uses the connection string or "
        "a managed identity");
  }
  const auto env_namespace = NonEmptyEnv(env, kEventHubNamespaceEnv);
  const auto env_hub = NonEmptyEnv(env, kEventHubNameEnv);

  // The connection string: the file named in the address, else the
  // environment. Only its parsed, non-secret parts may appear in messages.
  std::string connection_string;
  std::string source;
  if (uri.HasParam("connection_string_file")) {
    source = "connection_string_file";
    MH_ASSIGN_OR_RETURN(connection_string,
                        ReadSecretFile(env, source, uri.Param("connection_string_file")));
  } else if (auto cs = NonEmptyEnv(env, kEventHubConnectionStringEnv)) {
    source = kEventHubConnectionStringEnv;
    connection_string = *cs;
  }
  // No connection string: a managed identity (SASL OAUTHBEARER), as the
  // prototype with EVENT_HUB_NAMESPACE_FQDN / EVENT_HUB_NAME alone.
  const bool managed_identity = connection_string.empty();
  EventHubConnectionString parsed;
  if (!managed_identity) {
    MH_ASSIGN_OR_RETURN(parsed, ParseEventHubConnectionString(connection_string, source));
  }

  // Namespace: address, else EVENT_HUB_NAMESPACE_FQDN, else the connection
  // string's Endpoint; all that are given must agree.
  std::string ns;
  int port = kEventHubsPort;
  if (!uri.authority.empty()) {
    MH_ASSIGN_OR_RETURN(auto hosts, uri.HostPorts(kEventHubsPort));
    if (hosts.size() != 1) {
      return Status::InvalidArgument("an eventhubs address names one namespace, not a host list");
    }
    ns = Lower(hosts[0].first);
    port = hosts[0].second;
    // "eventhubs://myns/hub" is short for myns.servicebus.windows.net.
    if (ns.find('.') == std::string::npos) ns += kEventHubsDomain;
  } else if (env_namespace) {
    ns = NamespaceHost(*env_namespace);
    if (const std::size_t colon = ns.rfind(':'); colon != std::string::npos) {
      auto p = ParseInt(ns.substr(colon + 1));
      if (!p.ok() || *p <= 0 || *p > 65535) {
        return Status::InvalidArgument(std::string("bad port in ") + kEventHubNamespaceEnv);
      }
      port = static_cast<int>(*p);
      ns.resize(colon);
    }
    if (ns.empty())
      return Status::InvalidArgument(std::string(kEventHubNamespaceEnv) + " is empty");
  } else if (!managed_identity) {
    ns = parsed.namespace_host;
  } else {
    return Status::InvalidArgument(
        std::string("no namespace: give eventhubs://NAMESPACE/HUB or set ") +
        kEventHubNamespaceEnv + " (managed identity), or a connection string in " +
        kEventHubConnectionStringEnv + " or connection_string_file=PATH");
  }
  if (!managed_identity && ns != parsed.namespace_host) {
    return Status::InvalidArgument("the connection string (" + source + ") is for namespace '" +
                                   parsed.namespace_host + "', but the address names '" + ns + "'");
  }

  // Hub: address path, else EVENT_HUB_NAME, else EntityPath; must agree.
  std::string hub = uri.path;
  std::string hub_source = "the address";
  if (hub.empty() && env_hub) {
    hub = *env_hub;
    hub_source = kEventHubNameEnv;
  }
  if (hub.empty()) {
    hub = parsed.entity_path;
    hub_source = "the connection string";
  }
  if (hub.empty()) {
    return Status::InvalidArgument(
        std::string("no event hub: give eventhubs://NAMESPACE/HUB, set ") + kEventHubNameEnv +
        " or use a connection string with EntityPath=HUB");
  }
  MH_RETURN_IF_ERROR(CheckTopic(hub, "event hub name"));
  if (!parsed.entity_path.empty() && parsed.entity_path != hub) {
    return Status::InvalidArgument("the connection string (" + source + ") is for event hub '" +
                                   parsed.entity_path + "', but " + hub_source + " names '" + hub +
                                   "'");
  }

  Builder b;
  b.config.flavor = "eventhubs";
  b.config.topic = hub;
  b.config.brokers = ns + ":" + std::to_string(port);
  b.Set("bootstrap.servers", b.config.brokers);
  b.Set("security.protocol", "sasl_ssl");
  if (managed_identity) {
    // Tokens come from the transport's refresh callback (identity/).
    b.Set("sasl.mechanisms", "OAUTHBEARER");
    b.config.oauth_resource = "https://" + ns;
  } else {
    b.Set("sasl.mechanisms", "PLAIN");
    b.Set("sasl.username", "$ConnectionString");
    b.SetSecret("sasl.password", connection_string);
  }
  MH_RETURN_IF_ERROR(ApplyCommon(uri, role, /*event_hubs=*/true, b));
  return std::move(b.config);
}

}  // namespace

std::optional<std::string> KafkaClientConfig::Property(const std::string& name) const {
  for (const auto& [k, v] : properties) {
    if (k == name) return v;
  }
  return std::nullopt;
}

std::string KafkaClientConfig::Describe() const {
  std::string out;
  for (const auto& [k, v] : properties) {
    if (!out.empty()) out += ", ";
    const bool secret = std::find(secrets.begin(), secrets.end(), v) != secrets.end();
    out += k + "=" + (secret ? std::string("***") : v);
  }
  return out;
}

Result<EventHubConnectionString> ParseEventHubConnectionString(const std::string& text,
                                                               const std::string& source) {
  const std::string prefix = "the connection string (" + source + ") ";
  std::string endpoint;
  std::string key_name;
  bool has_key = false;
  bool has_sas = false;
  EventHubConnectionString out;
  for (const std::string& raw : Split(text, ';')) {
    const std::string part(TrimSpace(raw));
    if (part.empty()) continue;
    const std::size_t eq = part.find('=');
    if (eq == std::string::npos || eq == 0) {
      // Never echo the part: it may be (a piece of) the key.
      return Status::InvalidArgument(prefix +
                                     "is malformed: expected NAME=VALUE parts separated "
                                     "by ';'");
    }
    const std::string name = Lower(TrimSpace(std::string_view(part).substr(0, eq)));
    const std::string value(TrimSpace(std::string_view(part).substr(eq + 1)));
    if (name == "endpoint") {
      endpoint = value;
    } else if (name == "sharedaccesskeyname") {
      key_name = value;
    } else if (name == "sharedaccesskey") {
      has_key = !value.empty();
    } else if (name == "sharedaccesssignature") {
      has_sas = !value.empty();
    } else if (name == "entitypath") {
      out.entity_path = value;
    }
    // Other parts (TransportType, ...) do not matter for Kafka.
  }
  if (endpoint.empty()) {
    return Status::InvalidArgument(prefix +
                                   "has no Endpoint=sb://NAMESPACE.servicebus.windows.net/");
  }
  if (Lower(endpoint.substr(0, 5)) != "sb://") {
    return Status::InvalidArgument(prefix + "has an Endpoint that does not start with sb://");
  }
  out.namespace_host = NamespaceHost(endpoint);
  if (out.namespace_host.empty() || out.namespace_host.find('/') != std::string::npos ||
      out.namespace_host.find(':') != std::string::npos || HasControlChars(out.namespace_host)) {
    return Status::InvalidArgument(prefix + "has an Endpoint that is not sb://HOST/");
  }
  if (!has_sas) {
    if (key_name.empty()) return Status::InvalidArgument(prefix + "has no SharedAccessKeyName");
    if (!has_key) return Status::InvalidArgument(prefix + "has no SharedAccessKey");
  }
  if (!out.entity_path.empty() && !CheckTopic(out.entity_path, "EntityPath").ok()) {
    return Status::InvalidArgument(prefix + "has an EntityPath that is not a valid event hub name");
  }
  return out;
}

Result<KafkaClientConfig> BuildKafkaConfig(const Uri& uri, ClientRole role,
                                           const Environment& env) {
  const std::string scheme = uri.scheme;
  if (scheme != "kafka" && scheme != "eventhubs") {
    return Status::InvalidArgument("kafka: scheme '" + scheme + "' is not kafka or eventhubs");
  }
  Status status = RefuseSecretParams(uri);
  if (status.ok()) {
    auto built =
        scheme == "kafka" ? BuildPlainKafka(uri, role, env) : BuildEventHubs(uri, role, env);
    if (built.ok()) return built;
    status = built.status();
  }
  return status.WithContext(scheme);
}

}  // namespace mh::transport::kafka
