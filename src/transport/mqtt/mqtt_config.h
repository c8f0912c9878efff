// MqttConfig: the settings of one MQTT publisher or subscriber, parsed from
// its address ("mqtt://[user@]host:port/TOPIC?qos=1&client_id=...") plus the
// environment (MQTT_PASSWORD) or a password file. No network, no
// libmosquitto: unit-tested without a broker (tests/transport/).
//
// The password is a secret: it is only ever read from the environment or a
// file, never from the address, and it appears in no message, log line or
// Describe() output.
//
// Thread safety: plain value types and free functions.
#ifndef MH_TRANSPORT_MQTT_MQTT_CONFIG_H_
#define MH_TRANSPORT_MQTT_MQTT_CONFIG_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/environment.h"
#include "core/result.h"
#include "core/uri.h"

namespace mh::transport::mqtt {

enum class MqttRole : std::uint8_t { kPublisher = 0, kSubscriber = 1 };

struct MqttConfig {
  MqttRole role = MqttRole::kPublisher;

  // --- Where ---
  bool tls = false;  // mqtts://
  std::string host;
  int port = 1883;  // 1883 for mqtt://, 8883 for mqtts:// when absent
  // Publisher: a topic name, may contain "{key}" (replaced by the message
  // key). Subscriber: a topic filter, may contain + and #.
  std::string topic;

  // --- Session ---
  int qos = 1;  // 0 or 1 (QoS 2 is not supported)
  // Empty: the broker-facing id is chosen by libmosquitto (random). Never
  // empty when clean_session is false (derived, see DeriveClientId).
  std::string client_id;
  bool client_id_derived = false;  // true when DeriveClientId chose it
  // Subscriber default false (persistent session), publisher default true.
  bool clean_session = true;
  int keepalive_s = 30;
  // Connect timeout of the factories, and Publish: longest wait for the
  // connection or for the next PUBACK while messages are outstanding.
  std::chrono::milliseconds timeout{10000};

  // --- Performance ---
  int max_inflight = 1000;        // publisher: unacknowledged QoS 1 messages on the wire
  std::size_t queue_size = 1000;  // subscriber: received, not yet polled messages

  // --- Durability (subscriber) ---
  // Directory of the local spool (transport/mqtt/mqtt_spool.h) where every
  // received message is written before the broker gets its PUBACK; empty =
  // no spool (spool=off). Default: on for persistent sessions, in
  // $STATE_DIRECTORY/mqtt-spool, else $XDG_STATE_HOME/machine-health/
  // mqtt-spool, else $HOME/.local/state/machine-health/mqtt-spool; off for
  // clean sessions.
  std::string spool_dir;
  bool spool_defaulted = false;       // true when spool_dir came from the environment
  bool spool_explicitly_off = false;  // spool=off
  // fdatasync every spooled message before acknowledging it: survives power
  // loss, costs a disk flush per message. false: survives a crash of the
  // process (kill -9), not of the machine.
  bool spool_sync = false;

  // --- Security ---
  std::string ca_file;        // mqtts: trust anchors (PEM); empty = the OS store
  std::string cert_file;      // mqtts: client certificate for mutual TLS
  std::string key_file;       // mqtts: its private key (unencrypted PEM)
  std::string user;           // from "user@host"; empty = anonymous
  std::string password_file;  // where the password came from, if a file
  std::string password;       // SECRET: from password_file or MQTT_PASSWORD

  // "mqtt://user@host:port/topic (qos 1, client_id x, persistent session)":
  // for logs and error messages; never contains the password.
  std::string Describe() const;
};

// Parses `uri` (scheme mqtt or mqtts) for `role`. Parameters:
//   qos=0|1, client_id=ID, clean_session=true|false, keepalive=S (5..65535),
//   timeout_ms=N (>0), ca=PATH, cert=PATH, key=PATH (mqtts only),
//   password_file=PATH, max_inflight=N (publisher), queue_size=N (subscriber),
//   spool=DIR|off and spool_sync=true|false (subscriber; see MqttConfig).
// The password is read from password_file when given, else from env
// MQTT_PASSWORD (when set); one needs a user. InvalidArgument naming the
// problem (unknown parameter, bad value, bad topic, password without user);
// NotFound/IOError when password_file cannot be read. A persistent
// subscriber without spool=... and without STATE_DIRECTORY, XDG_STATE_HOME
// and HOME in `env` is InvalidArgument (say spool=DIR or spool=off).
Result<MqttConfig> ParseMqttConfig(const Uri& uri, MqttRole role, const Environment& env);

// The client id used for a persistent session when none is given:
// "mh-" + 16 hex digits of a 64-bit FNV-1a hash of
// "<role>|<scheme>|<user>|<host>:<port>|<topic>" (role "pub" or "sub").
// Deterministic, so a restarted process resumes its session; two processes
// with the same address share it (and take over each other's connection):
// give each a client_id then.
std::string DeriveClientId(const MqttConfig& config, std::string_view scheme);

// Publisher topic for a message: "{key}" in `pattern` replaced by `key`.
// InvalidArgument when the pattern has "{key}" and the key is empty or
// contains '/', '+', '#' or a NUL byte.
Result<std::string> ExpandTopic(std::string_view pattern, std::string_view key);

// Topic checks (MQTT 3.1.1 section 4.7): non-empty, at most 65535 bytes, no
// NUL; a publish topic has no wildcards; in a filter '+' is a whole level and
// '#' the whole last level. InvalidArgument naming the problem.
Status CheckPublishTopic(std::string_view topic);
Status CheckTopicFilter(std::string_view filter);

}  // namespace mh::transport::mqtt

#endif  // MH_TRANSPORT_MQTT_MQTT_CONFIG_H_
