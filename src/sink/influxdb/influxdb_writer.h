// InfluxdbWriter: POSTs an already encoded line-protocol body to InfluxDB's
// write endpoint (v1 /write or v2 /api/v2/write, see influxdb_config.h) over
// one keep-alive HTTP connection, optionally gzip-compressed, and classifies
// the answer into a Status. The InfluxDB sink is built on it; benchmarks and
// tests use it directly (e.g. one request per point, or a deliberately broken
// line).
//
// Answers (docs/influxdb.md):
//   2xx                               OK
//   400 "partial write"               OK: the valid lines are stored; the
//                                     rejected count is in the WriteResult
//                                     and the metrics (resending would not help)
//   other 400                         InvalidArgument with the server's message
//   401, 403                          InvalidArgument "not authorised"
//   404                               NotFound (e.g. database not found)
//   413                               InvalidArgument (batch too large)
//   500 "retention policy not found"  NotFound
//   408, 429, 5xx, connection refused, timeout, reset
//                                     Unavailable (retryable)
//   TLS verification failure, other 3xx/4xx
//                                     InvalidArgument
// Error messages start with "influxdb: <base url>: " and never hold a
// password or token.
//
// Thread safety: Write() from one thread at a time; metrics() from any
// thread.
#ifndef MH_SINK_INFLUXDB_INFLUXDB_WRITER_H_
#define MH_SINK_INFLUXDB_INFLUXDB_WRITER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"
#include "sink/influxdb/influxdb_config.h"

namespace mh::sink::influxdb {

// Counters since the writer (or sink) was opened; a snapshot.
struct InfluxdbMetrics {
  std::uint64_t requests = 0;         // HTTP requests attempted
  std::uint64_t failed_requests = 0;  // requests that returned an error Status
  std::uint64_t points_written = 0;   // lines the server accepted
  std::uint64_t rejected_points = 0;  // lines the server refused in partial writes
  std::uint64_t bytes_sent = 0;       // request body bytes (after gzip) of all requests
  std::uint64_t skipped_lines = 0;    // sink only: lines not sent, no finite field
};

// The outcome of an accepted write.
struct WriteResult {
  std::uint64_t lines = 0;            // lines in the body
  std::uint64_t rejected_points = 0;  // refused in a partial write (see below)
  std::string server_message;         // the partial-write message, "" otherwise
};

class InfluxdbWriter {
 public:
  // Prepares the connection settings; does not connect (the first Write
  // does). InvalidArgument if the configuration cannot be used, Internal if
  // libcurl or zlib cannot be initialised.
  static Result<std::unique_ptr<InfluxdbWriter>> Open(const InfluxdbConfig& config);
  virtual ~InfluxdbWriter() = default;

  // POSTs `body` (lines ending in '\n'); an empty body sends nothing. On a
  // partial write, rejected_points is the server's "dropped=N" plus one per
  // "unable to parse" it lists (InfluxDB 1.x does not always list every
  // unparsable line when it also reports type conflicts, so this is a lower
  // bound); one warning with the server's message is logged. Errors as in the
  // file comment; the body may then have been stored in part or whole (a
  // timeout), so resending must be idempotent (it is, for the same lines).
  virtual Result<WriteResult> Write(std::string_view body) = 0;

  // A snapshot of the counters; callable from any thread.
  virtual InfluxdbMetrics metrics() const = 0;

  // The configuration's Describe() (no secret).
  virtual const std::string& description() const = 0;
};

}  // namespace mh::sink::influxdb

#endif  // MH_SINK_INFLUXDB_INFLUXDB_WRITER_H_
