// The one list of transports and sinks machine-health knows, chosen by
// address scheme (style: explicit registration, no static self-registration;
// optional plugins behind MH_WITH_KAFKA / MH_WITH_MQTT).
//
//   sources (--from)          kafka:// eventhubs:// mqtt:// mqtts:// jsonl:PATH dir:PATH
//                             inproc:NAME
//   publishers (replay --to,  kafka:// eventhubs:// mqtt:// mqtts:// jsonl:PATH inproc:NAME -
//     --dead-letter)
//   sinks (score --to)        influxdb:// influxdb2:// influxdbs:// influxdb2s:// sqlite:PATH
//                             kafka:// eventhubs:// mqtt:// mqtts:// jsonl:PATH -
//   alarm notifiers           http:// https:// (webhook), and every publisher address:
//                             mqtt:// mqtts:// kafka:// eventhubs:// jsonl:PATH
//
// Thread safety: the factories may be called from any thread.
#ifndef MH_APP_BUILTIN_PLUGINS_H_
#define MH_APP_BUILTIN_PLUGINS_H_

#include <iosfwd>
#include <memory>
#include <string>

#include "core/result.h"
#include "core/uri.h"
#include "notify/notifier.h"
#include "sink/sink.h"
#include "transport/transport.h"

namespace mh::app {

// "-" publishes to `stdout_stream`.
Result<std::unique_ptr<transport::Publisher>> OpenPublisher(const Uri& uri,
                                                            std::ostream& stdout_stream);
Result<std::unique_ptr<transport::Subscriber>> OpenSubscriber(const Uri& uri);
Result<std::unique_ptr<sink::Sink>> OpenSink(const Uri& uri, std::ostream& stdout_stream);

// A destination of alarm notifications (notify/notifier.h, docs/alarms.md):
// - http:// or https://: a webhook (notify/webhook_notifier.h) POSTing to the
//   address as given, except that the query parameters token_file=PATH,
//   ca=PATH and timeout_ms=N are ours and removed from it; the bearer token
//   comes from token_file or env MH_WEBHOOK_TOKEN. Name "webhook:<url
//   without query>".
// - any publisher address (mqtt://host/plant/alarms/{key}?qos=1, kafka://,
//   jsonl:PATH): the event JSON published with the machine id as key
//   (notify/publisher_notifier.h). Name: the address.
// Errors as the factories'; InvalidArgument for another scheme.
Result<std::unique_ptr<notify::Notifier>> OpenNotifier(const Uri& uri);

}  // namespace mh::app

#endif  // MH_APP_BUILTIN_PLUGINS_H_
