// Scores as events: a sink that encodes each WindowRecord as one JSON object
// and publishes it on a transport (Kafka, MQTT, a JSON lines file, stdout),
// keyed by sensor id so that one sensor's scores stay in order.
//
// Record JSON (one line, keys in this order; numbers round-trip exactly):
//   {"sensor_id":"m1","timestamp":1761519890.5,"time":"2025-10-26T22:24:50.500Z",
//    "score":-0.0123,"score_samples":-0.5123,"anomaly":false,
//    "model_version":"3f2a9c0d1e4b","features":{"rms_ax":0.7,...}}
// "timestamp" is the event time in seconds (the prototype's convention),
// "time" the same instant in RFC 3339; "score", "score_samples" and
// "anomaly" are left out when the record was not scored (features only),
// "model_version" (the first 12 hex digits of the model file's SHA-256) when
// no model file is known (record.model null).
//
// Thread safety: as Sink (one writer thread).
#ifndef MH_SINK_TRANSPORT_SINK_H_
#define MH_SINK_TRANSPORT_SINK_H_

#include <memory>
#include <string>

#include "sink/sink.h"
#include "sink/window_record.h"
#include "transport/transport.h"

namespace mh::sink {

// Appends the JSON of `record` to `out` (no newline).
void AppendRecordJson(const WindowRecord& record, std::string* out);

// Publishes every batch with `publisher` (owned; closed by Close). A failed
// Publish is passed on (Unavailable is retried by RunningSink; the batch may
// then be delivered twice: consumers see duplicates, never gaps).
std::unique_ptr<Sink> NewTransportSink(std::unique_ptr<transport::Publisher> publisher);

}  // namespace mh::sink

#endif  // MH_SINK_TRANSPORT_SINK_H_
