// InfluxDB sink: writes scored windows to InfluxDB (v1 or v2 write API, also
// VictoriaMetrics) as line protocol over HTTP, in the prototype's schema
// (line_protocol.h, docs/influxdb.md). Factories only; the connection and the
// answer handling are in influxdb_writer.h.
//
// Write(batch): validates and encodes the whole batch, then sends it as ONE
// gzip-compressed POST over a keep-alive connection (one per sink). Nothing is
// sent when a record is invalid (InvalidArgument naming it: no machine id,
// feature count different from its names, a newline in a name, ...). Answers
// as in influxdb_writer.h: Unavailable (server down, timeout, 429, 5xx) means
// nothing or part of the batch may be stored and the batch is to be retried
// (lines are deterministic, so a retry overwrites the same points); a partial
// write is OK (the rejected lines are counted in metrics and logged once:
// they would fail again). Write after Close() is Internal.
//
// Thread safety: as for every Sink, Write() and Close() from one thread at a
// time; metrics() from any thread.
#ifndef MH_SINK_INFLUXDB_INFLUXDB_SINK_H_
#define MH_SINK_INFLUXDB_INFLUXDB_SINK_H_

#include <memory>

#include "core/result.h"
#include "core/uri.h"
#include "sink/influxdb/influxdb_config.h"
#include "sink/influxdb/influxdb_writer.h"
#include "sink/sink.h"

namespace mh::sink::influxdb {

// A Sink with counters (requests, points written and rejected, bytes sent,
// lines skipped for having no finite field).
class InfluxdbSink : public Sink {
 public:
  // A snapshot; callable from any thread, also after Close().
  virtual InfluxdbMetrics metrics() const = 0;
};

// A sink for `config`; does not connect (the first Write does), so a server
// that is down at start-up does not prevent it. Errors as InfluxdbWriter::Open.
Result<std::unique_ptr<InfluxdbSink>> OpenInfluxdbSink(const InfluxdbConfig& config);

// A sink for an influxdb[s]:// or influxdb2[s]:// address, secrets from the
// process environment (influxdb_config.h). InvalidArgument for a bad address.
Result<std::unique_ptr<Sink>> NewInfluxdbSink(const Uri& uri);

// A v2 sink from the prototype's INFLUXDB_URL, INFLUXDB_ORG, INFLUXDB_BUCKET
// and INFLUXDB_TOKEN. InvalidArgument naming a missing or bad variable.
Result<std::unique_ptr<Sink>> NewInfluxdbSinkFromEnvironment();

}  // namespace mh::sink::influxdb

#endif  // MH_SINK_INFLUXDB_INFLUXDB_SINK_H_
