#include "transport/mqtt/mqtt_config.h"

#include <cstdint>

#include "core/strings.h"

namespace mh::transport::mqtt {
namespace {

constexpr std::string_view kKeyPlaceholder = "{key}";
constexpr std::size_t kMaxTopicBytes = 65535;

Result<std::int64_t> IntParam(const Uri& uri, std::string_view name, std::int64_t fallback,
                              std::int64_t min, std::int64_t max) {
  if (!uri.HasParam(name)) return fallback;
  const std::string text = uri.Param(name);
  auto value = ParseInt(text);
  if (!value.ok() || *value < min || *value > max) {
    return Status::InvalidArgument(std::string(name) + "='" + text + "' must be an integer in " +
                                   std::to_string(min) + ".." + std::to_string(max));
  }
  return *value;
}

Result<bool> BoolParam(const Uri& uri, std::string_view name, bool fallback) {
  if (!uri.HasParam(name)) return fallback;
  const std::string text = uri.Param(name);
  if (text == "true" || text == "1") return true;
  if (text == "false" || text == "0") return false;
  return Status::InvalidArgument(std::string(name) + "='" + text + "' must be true or false");
}

Status CheckTopicCommon(std::string_view topic, std::string_view what) {
  if (topic.empty()) {
    return Status::InvalidArgument(std::string(what) +
                                   " is empty (the address path is the topic: "
                                   "mqtt://host:1883/plant/m1/vib)");
  }
  if (topic.size() > kMaxTopicBytes) {
    return Status::InvalidArgument(std::string(what) + " is longer than 65535 bytes");
  }
  if (topic.find('\0') != std::string_view::npos) {
    return Status::InvalidArgument(std::string(what) + " contains a NUL byte");
  }
  return Status::OK();
}

// A usable absolute directory from the environment variable `name`, if any.
// systemd's STATE_DIRECTORY may list several, separated by ':'; the first
// one is ours. Relative paths are ignored (XDG base directory spec).
std::optional<std::string> EnvDir(const Environment& env, const std::string& name) {
  std::optional<std::string> value = env.get_env(name);
  if (!value || value->empty()) return std::nullopt;
  std::string dir = value->substr(0, value->find(':'));
  if (dir.empty() || dir[0] != '/') return std::nullopt;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return dir;
}

// spool=DIR|off and spool_sync (subscriber only). After client_id and
// clean_session are known.
Status ParseSpool(const Uri& uri, const Environment& env, MqttConfig* c) {
  MH_ASSIGN_OR_RETURN(c->spool_sync, BoolParam(uri, "spool_sync", false));
  if (uri.HasParam("spool")) {
    const std::string dir = uri.Param("spool");
    if (dir.empty()) {
      return Status::InvalidArgument("spool is empty (a directory, or off to disable the spool)");
    }
    if (dir == "off") {
      c->spool_explicitly_off = true;
    } else {
      c->spool_dir = dir;
    }
  } else if (!c->clean_session) {
    if (auto d = EnvDir(env, "STATE_DIRECTORY")) {
      c->spool_dir = *d + "/mqtt-spool";
    } else if (auto x = EnvDir(env, "XDG_STATE_HOME")) {
      c->spool_dir = *x + "/machine-health/mqtt-spool";
    } else if (auto h = EnvDir(env, "HOME")) {
      c->spool_dir = *h + "/.local/state/machine-health/mqtt-spool";
    } else {
      return Status::InvalidArgument(
          "spool: no directory for the subscriber's spool (none of STATE_DIRECTORY, "
          "XDG_STATE_HOME, HOME is set): give spool=DIR, or spool=off");
    }
    c->spool_defaulted = true;
  }
  if (c->spool_dir.empty() && uri.HasParam("spool_sync") && c->spool_sync) {
    return Status::InvalidArgument("spool_sync=true needs a spool (spool=DIR)");
  }
  if (!c->spool_dir.empty() && c->client_id.empty()) {
    return Status::InvalidArgument(
        "spool='" + c->spool_dir +
        "' needs a client_id with clean_session=true (the spool is kept per client id)");
  }
  return Status::OK();
}

}  // namespace

std::string MqttConfig::Describe() const {
  std::string out = tls ? "mqtts://" : "mqtt://";
  if (!user.empty()) out += user + "@";
  out += host + ":" + std::to_string(port) + "/" + topic;
  out += " (qos " + std::to_string(qos);
  if (!client_id.empty()) out += ", client_id " + client_id;
  out += clean_session ? ", clean session" : ", persistent session";
  out += ")";
  return out;
}

Status CheckPublishTopic(std::string_view topic) {
  MH_RETURN_IF_ERROR(CheckTopicCommon(topic, "topic"));
  if (topic.find_first_of("+#") != std::string_view::npos) {
    return Status::InvalidArgument("topic '" + std::string(topic) +
                                   "' has a wildcard (+ or #): not allowed when publishing");
  }
  return Status::OK();
}

Status CheckTopicFilter(std::string_view filter) {
  MH_RETURN_IF_ERROR(CheckTopicCommon(filter, "topic filter"));
  const std::vector<std::string> levels = Split(filter, '/');
  for (std::size_t i = 0; i < levels.size(); ++i) {
    const std::string& level = levels[i];
    if (level.find('#') != std::string::npos && (level != "#" || i + 1 != levels.size())) {
      return Status::InvalidArgument("topic filter '" + std::string(filter) +
                                     "': '#' must be a whole level and the last one");
    }
    if (level.find('+') != std::string::npos && level != "+") {
      return Status::InvalidArgument("topic filter '" + std::string(filter) +
                                     "': '+' must be a whole level");
    }
  }
  return Status::OK();
}

Result<std::string> ExpandTopic(std::string_view pattern, std::string_view key) {
  const std::size_t first = pattern.find(kKeyPlaceholder);
  if (first == std::string_view::npos) return std::string(pattern);
  if (key.empty()) {
    return Status::InvalidArgument("topic '" + std::string(pattern) +
                                   "' needs a message key for {key}, the message has none");
  }
  if (key.find_first_of(std::string_view("/+#\0", 4)) != std::string_view::npos) {
    return Status::InvalidArgument("message key '" + std::string(key) +
                                   "' cannot be used in a topic: it contains '/', '+', "
                                   "'#' or a NUL byte");
  }
  std::string out;
  out.reserve(pattern.size() + key.size());
  std::size_t pos = 0;
  for (std::size_t at = first; at != std::string_view::npos;
       at = pattern.find(kKeyPlaceholder, pos)) {
    out.append(pattern.substr(pos, at - pos));
    out.append(key);
    pos = at + kKeyPlaceholder.size();
  }
  out.append(pattern.substr(pos));
  if (out.size() > kMaxTopicBytes) {
    return Status::InvalidArgument("topic for key '" + std::string(key) +
                                   "' is longer than 65535 bytes");
  }
  return out;
}

std::string DeriveClientId(const MqttConfig& config, std::string_view scheme) {
  const std::string basis = std::string(config.role == MqttRole::kPublisher ? "pub" : "sub") + "|" +
                            std::string(scheme) + "|" + config.user + "|" + config.host + ":" +
                            std::to_string(config.port) + "|" + config.topic;
  std::uint64_t hash = 14695981039346656037ULL;  // FNV-1a 64-bit offset basis
  for (unsigned char c : basis) {
    hash ^= c;
    hash *= 1099511628211ULL;  // FNV prime
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id = "mh-";
  for (int shift = 60; shift >= 0; shift -= 4) id.push_back(kHex[(hash >> shift) & 0xF]);
  return id;
}

Result<MqttConfig> ParseMqttConfig(const Uri& uri, MqttRole role, const Environment& env) {
  MqttConfig c;
  c.role = role;
  const bool publisher = role == MqttRole::kPublisher;
  if (uri.scheme != "mqtt" && uri.scheme != "mqtts") {
    return Status::InvalidArgument("not an mqtt address (mqtt:// or mqtts://): '" + uri.text + "'");
  }
  c.tls = uri.scheme == "mqtts";
  if (publisher) {
    MH_RETURN_IF_ERROR(
        uri.CheckParams({"qos", "client_id", "clean_session", "keepalive", "timeout_ms", "ca",
                         "cert", "key", "password_file", "max_inflight"}));
  } else {
    MH_RETURN_IF_ERROR(
        uri.CheckParams({"qos", "client_id", "clean_session", "keepalive", "timeout_ms", "ca",
                         "cert", "key", "password_file", "queue_size", "spool", "spool_sync"}));
  }

  MH_ASSIGN_OR_RETURN(auto host_ports, uri.HostPorts(c.tls ? 8883 : 1883));
  if (host_ports.size() != 1) {
    return Status::InvalidArgument("an mqtt address names exactly one broker host, got '" +
                                   uri.authority + "'");
  }
  c.host = host_ports[0].first;
  c.port = host_ports[0].second;

  c.topic = uri.path;
  if (publisher) {
    // Validate the pattern with a stand-in key; reject braces other than
    // {key} so that a typo ("{Key}") is not published to literally.
    std::string probe = c.topic;
    for (std::size_t at = probe.find(kKeyPlaceholder); at != std::string::npos;
         at = probe.find(kKeyPlaceholder, at + 1)) {
      probe.replace(at, kKeyPlaceholder.size(), "k");
    }
    if (probe.find_first_of("{}") != std::string::npos) {
      return Status::InvalidArgument("topic '" + c.topic + "': the only placeholder is {key}");
    }
    MH_RETURN_IF_ERROR(CheckPublishTopic(probe));
  } else {
    if (c.topic.find(kKeyPlaceholder) != std::string::npos) {
      return Status::InvalidArgument("topic filter '" + c.topic +
                                     "': {key} is for publishers only (subscribe with +)");
    }
    MH_RETURN_IF_ERROR(CheckTopicFilter(c.topic));
  }

  MH_ASSIGN_OR_RETURN(const std::int64_t qos, IntParam(uri, "qos", 1, 0, 2));
  if (qos == 2) {
    return Status::NotSupported("qos=2 is not supported by the mqtt transport (use 0 or 1)");
  }
  c.qos = static_cast<int>(qos);
  c.client_id = uri.Param("client_id");
  if (uri.HasParam("client_id") && c.client_id.empty()) {
    return Status::InvalidArgument("client_id is empty");
  }
  if (c.client_id.size() > 65535) return Status::InvalidArgument("client_id is too long");
  MH_ASSIGN_OR_RETURN(c.clean_session, BoolParam(uri, "clean_session", publisher));
  MH_ASSIGN_OR_RETURN(const std::int64_t keepalive, IntParam(uri, "keepalive", 30, 5, 65535));
  c.keepalive_s = static_cast<int>(keepalive);
  MH_ASSIGN_OR_RETURN(const std::int64_t timeout_ms,
                      IntParam(uri, "timeout_ms", 10000, 1, 24LL * 3600 * 1000));
  c.timeout = std::chrono::milliseconds(timeout_ms);
  if (publisher) {
    MH_ASSIGN_OR_RETURN(const std::int64_t inflight, IntParam(uri, "max_inflight", 1000, 1, 65535));
    c.max_inflight = static_cast<int>(inflight);
  } else {
    MH_ASSIGN_OR_RETURN(const std::int64_t queue, IntParam(uri, "queue_size", 1000, 1, 10000000));
    c.queue_size = static_cast<std::size_t>(queue);
  }

  c.ca_file = uri.Param("ca");
  c.cert_file = uri.Param("cert");
  c.key_file = uri.Param("key");
  if (!c.tls && (uri.HasParam("ca") || uri.HasParam("cert") || uri.HasParam("key"))) {
    return Status::InvalidArgument("ca, cert and key are TLS settings: use an mqtts:// address");
  }
  if (c.cert_file.empty() != c.key_file.empty()) {
    return Status::InvalidArgument("mutual TLS needs both cert and key");
  }

  c.user = uri.user;
  // After host, port, topic and user: the id is derived from them.
  if (!c.clean_session && c.client_id.empty()) {
    c.client_id = DeriveClientId(c, uri.scheme);
    c.client_id_derived = true;
  }
  if (!publisher) MH_RETURN_IF_ERROR(ParseSpool(uri, env, &c));
  c.password_file = uri.Param("password_file");
  if (uri.HasParam("password_file")) {
    if (c.user.empty()) {
      return Status::InvalidArgument(
          "password_file is given but the address has no user (mqtt://USER@host:port/topic)");
    }
    MH_ASSIGN_OR_RETURN(c.password, ReadSecretFile(env, "password_file", c.password_file));
  } else if (!c.user.empty()) {
    // MQTT_PASSWORD applies only to addresses with a user, so that one
    // environment can serve an anonymous and an authenticated address.
    if (std::optional<std::string> pw = env.get_env("MQTT_PASSWORD"); pw && !pw->empty()) {
      c.password = std::move(*pw);
    }
  }
  return c;
}

}  // namespace mh::transport::mqtt
