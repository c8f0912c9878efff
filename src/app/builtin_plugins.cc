#include "app/builtin_plugins.h"

#include <chrono>
#include <sstream>

#include "core/environment.h"
#include "core/strings.h"
#include "notify/publisher_notifier.h"
#include "notify/webhook_notifier.h"
#include "replay/dir_source.h"
#include "sink/influxdb/influxdb_sink.h"
#include "sink/sqlite/sqlite_sink.h"
#include "sink/transport_sink.h"
#include "transport/inproc_transport.h"
#include "transport/jsonl_transport.h"
#if MH_WITH_KAFKA
#include "transport/kafka/kafka_transport.h"
#endif
#if MH_WITH_MQTT
#include "transport/mqtt/mqtt_transport.h"
#endif

namespace mh::app {
namespace {

bool IsKafka(const Uri& u) { return u.scheme == "kafka" || u.scheme == "eventhubs"; }
bool IsMqtt(const Uri& u) { return u.scheme == "mqtt" || u.scheme == "mqtts"; }

[[maybe_unused]] Status NotBuilt(const Uri& u, const char* option) {
  return Status::NotSupported("'" + u.scheme + "' addresses need a build with " + option);
}

Status Unknown(const Uri& u, const char* role, const char* known) {
  return Status::InvalidArgument("'" + u.text + "': unknown " + role + " address scheme '" +
                                 u.scheme + "' (known: " + known + ")");
}

Status NeedPath(const Uri& u) {
  return Status::InvalidArgument("'" + u.text + "': a path is needed, e.g. " + u.scheme +
                                 ":out.jsonl");
}

}  // namespace

Result<std::unique_ptr<transport::Publisher>> OpenPublisher(const Uri& uri,
                                                            std::ostream& stdout_stream) {
  if (uri.scheme == "-") return transport::NewStreamPublisher(stdout_stream);
  if (uri.scheme == "jsonl") {
    if (uri.path.empty()) return NeedPath(uri);
    MH_RETURN_IF_ERROR(uri.CheckParams({"fsync"}));
    return transport::NewJsonLinesFilePublisher(uri.path, uri.Param("fsync", "true") == "true");
  }
  if (uri.scheme == "inproc") {
    if (uri.path.empty()) return NeedPath(uri);
    return transport::NewInprocPublisher(uri.path);
  }
  if (IsKafka(uri)) {
#if MH_WITH_KAFKA
    return transport::kafka::NewKafkaPublisher(uri);
#else
    return NotBuilt(uri, "MH_WITH_KAFKA=ON");
#endif
  }
  if (IsMqtt(uri)) {
#if MH_WITH_MQTT
    return transport::mqtt::NewMqttPublisher(uri);
#else
    return NotBuilt(uri, "MH_WITH_MQTT=ON");
#endif
  }
  return Unknown(uri, "target", "kafka, eventhubs, mqtt, mqtts, jsonl, inproc, -");
}

Result<std::unique_ptr<transport::Subscriber>> OpenSubscriber(const Uri& uri) {
  // "-": JSON lines on standard input (a pipe from another program).
  if (uri.text == "-") return transport::NewJsonLinesFileSubscriber("/dev/stdin");
  if (uri.scheme == "jsonl") {
    if (uri.path.empty()) return NeedPath(uri);
    MH_RETURN_IF_ERROR(uri.CheckParams({}));
    return transport::NewJsonLinesFileSubscriber(uri.path);
  }
  if (uri.scheme == "dir") {
    MH_ASSIGN_OR_RETURN(const replay::DirSourceOptions options,
                        replay::DirSourceOptionsFromUri(uri));
    return replay::NewDirSubscriber(options);
  }
  if (uri.scheme == "inproc") {
    if (uri.path.empty()) return NeedPath(uri);
    return transport::NewInprocSubscriber(uri.path);
  }
  if (IsKafka(uri)) {
#if MH_WITH_KAFKA
    return transport::kafka::NewKafkaSubscriber(uri);
#else
    return NotBuilt(uri, "MH_WITH_KAFKA=ON");
#endif
  }
  if (IsMqtt(uri)) {
#if MH_WITH_MQTT
    return transport::mqtt::NewMqttSubscriber(uri);
#else
    return NotBuilt(uri, "MH_WITH_MQTT=ON");
#endif
  }
  return Unknown(uri, "source", "kafka, eventhubs, mqtt, mqtts, jsonl, dir, inproc, - (stdin)");
}

Result<std::unique_ptr<sink::Sink>> OpenSink(const Uri& uri, std::ostream& stdout_stream) {
  if (uri.scheme.rfind("influxdb", 0) == 0) return sink::influxdb::NewInfluxdbSink(uri);
  if (uri.scheme == "sqlite") {
    if (uri.path.empty()) return NeedPath(uri);
    MH_RETURN_IF_ERROR(uri.CheckParams({}));
    sink::SqliteOptions o;
    o.path = uri.path;
    return sink::OpenSqliteSink(o);
  }
  if (uri.scheme == "-" || uri.scheme == "jsonl" || IsKafka(uri) || IsMqtt(uri)) {
    MH_ASSIGN_OR_RETURN(auto publisher, OpenPublisher(uri, stdout_stream));
    return sink::NewTransportSink(std::move(publisher));
  }
  return Unknown(uri, "target",
                 "influxdb, influxdb2, influxdbs, influxdb2s, sqlite, kafka, eventhubs, mqtt, "
                 "mqtts, jsonl, -");
}

Result<std::unique_ptr<notify::Notifier>> OpenNotifier(const Uri& uri) {
  if (uri.scheme == "http" || uri.scheme == "https") {
    notify::WebhookOptions o;
    // The receiver's URL is the address without our own parameters.
    const std::size_t q = uri.text.find('?');
    o.url = uri.text.substr(0, q);
    if (q != std::string::npos) {
      std::string kept;
      std::stringstream parts(uri.text.substr(q + 1));
      for (std::string part; std::getline(parts, part, '&');) {
        const std::string key = part.substr(0, part.find('='));
        if (key == "token_file" || key == "ca" || key == "timeout_ms") continue;
        kept += (kept.empty() ? "?" : "&") + part;
      }
      o.url += kept;
    }
    o.token_file = uri.Param("token_file");
    o.ca_file = uri.Param("ca");
    if (uri.HasParam("timeout_ms")) {
      auto ms = ParseInt(uri.Param("timeout_ms"));
      if (!ms.ok() || *ms < 1 || *ms > 600000) {
        return Status::InvalidArgument("'" + uri.text +
                                       "': timeout_ms must be an integer in [1, 600000]");
      }
      o.timeout = std::chrono::milliseconds(*ms);
    }
    return notify::NewWebhookNotifier(o, ProcessEnvironment());
  }
  if (uri.scheme == "jsonl" || IsKafka(uri) || IsMqtt(uri)) {
    std::ostringstream unused;  // "-" is not offered: stdout is not a destination
    MH_ASSIGN_OR_RETURN(auto publisher, OpenPublisher(uri, unused));
    return notify::NewPublisherNotifier(uri.text, std::move(publisher));
  }
  return Unknown(uri, "notification", "http, https, mqtt, mqtts, kafka, eventhubs, jsonl");
}

}  // namespace mh::app
