// The dashboard's HTTP API as plain functions from a request's path and
// parameters to a response, independent of the HTTP library (the server in
// dashboard_server.cc only adapts). Endpoints are documented in
// docs/api.md.
//
// Thread safety: the functions may run concurrently (StoreReader is
// thread-safe).
#ifndef MH_HTTP_API_H_
#define MH_HTTP_API_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "baseline/baseline_ops.h"
#include "core/result.h"
#include "metrics/metrics.h"
#include "registry/registry.h"
#include "score/baseline.h"
#include "sink/sqlite/alarm_store.h"
#include "sink/sqlite/baseline_store.h"
#include "sink/store_reader.h"

namespace mh::http {

// An HTTP response: status code, Content-Type, Cache-Control and body. The
// servers (src/http/internal/send.h) gzip a body of 1 KiB or more for a
// client that accepts gzip; a static asset carries its ETag and its gzip
// form, made once per process (a request with a matching If-None-Match
// gets 304).
struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string cache_control = "no-store";
  std::string body;
  std::string etag{};  // quoted entity tag ("\"...\""), or empty
  // `body` gzipped, in storage that outlives every response (the static
  // assets' table), or empty: then the server compresses when it should.
  std::string_view gzip_body{};
};

// Query parameters; a parameter given more than once is marked by
// `repeated` holding its name (the API rejects it).
struct Params {
  std::map<std::string, std::string> values;
  std::string repeated;
};

// Default span of /api/series when `from` is not given: 10 minutes.
inline constexpr std::int64_t kDefaultSeriesSpanNs = 600'000'000'000;
// Default and largest `max` of /api/series.
inline constexpr std::size_t kDefaultMaxPoints = 1000;
inline constexpr std::size_t kLargestMaxPoints = 100000;

// GET /healthz: 200 {"status":"ok"}.
Response HealthResponse();

// GET /readyz: 200 {"status":"ready"} when `reason` is empty, else 503
// {"status":"not ready","reason":REASON}.
Response ReadyResponse(const std::string& reason);

// GET /metrics: 200, the registry's Prometheus text exposition
// (metrics::kContentType).
Response PrometheusResponse(const metrics::Registry& registry);

// Adds to `registry` a collector of what the database says at each scrape:
// machine_health_machines{state} (machines whose latest window is in that
// state: learning, normal, anomalous) and machine_health_baseline_version
// {machine} (the active baseline's version). A failing read reports
// nothing. Returns the collector's id; remove it before `reader` goes.
int AddDatabaseCollector(metrics::Registry& registry, sink::StoreReader& reader);

// GET /api/machines: 200 with a JSON array of machines sorted by id; 500/503
// {"error": ...} if the database cannot be read. With a registry, each
// machine also carries "registry": its config as registry::MachineJson
// gives it (from the machines file, else the defaults with from_file
// false); the registry is only read (Peek), never added to.
Response MachinesResponse(sink::StoreReader& reader, const registry::Registry* registry = nullptr);

// GET /api/series?machine=ID&metric=M&from=T&to=T&max=N: 200
// {"machine","metric","from","to","t":[ms...],"v":[...]} (NaN as null);
// 400 {"error"} naming a missing or bad parameter or an unknown metric; 404
// for an unknown machine.
Response SeriesResponse(sink::StoreReader& reader, const Params& params);

// GET /api/features?machine=ID: 200 {"machine","metrics":[...]} listing the
// metrics GetSeries accepts for the machine; 400/404 as for series.
Response MetricsResponse(sink::StoreReader& reader, const Params& params);

// Default and largest `limit` of /api/alarms.
inline constexpr std::size_t kDefaultAlarmLimit = 100;
inline constexpr std::size_t kLargestAlarmLimit = 10000;

// GET /api/alarms?machine=ID&open=true&from=T&to=T&limit=N: 200 with a JSON
// array of alarms (sink::AlarmRecordJson), newest first; `open` is
// true/false/1/0; from/to as for /api/series (alarms overlapping
// [from, to)). 400 {"error"} for a bad parameter.
Response AlarmsResponse(sink::StoreReader& reader, const Params& params);

// GET /api/alarms/{id}: 200 with the alarm; 404 for an unknown id.
Response AlarmResponse(sink::StoreReader& reader, const std::string& alarm_id);

// POST /api/alarms/{id}/ack with body {"by": "NAME"}: acknowledges the
// alarm at `now_ns` through `store` (nullptr: 403, acknowledgement switched
// off). 200 {"alarm": {...}, "already_acknowledged": bool} (an earlier
// acknowledgement is kept, and reported with true); 400 for a body that is
// not a JSON object with a non-empty string "by"; 404 for an unknown id.
Response AckResponse(sink::AlarmStore* store, const std::string& alarm_id, std::string_view body,
                     std::int64_t now_ns);

// GET /api/baselines?machine=ID: 200 with a JSON array of stored baselines
// (baseline::BaselineInfoJson: card, threshold, rule; every version, by
// machine then version; only `machine`'s if given). 400 for a bad parameter.
Response BaselinesResponse(sink::StoreReader& reader, const Params& params);

// GET /api/baselines/{machine}?version=V: 200 with the machine's active
// baseline (or version V) with its feature statistics
// (baseline::StoredBaselineJson); 404 if it has none (never learned, or
// reset) or no such version; 400 for a bad version.
Response BaselineResponse(sink::StoreReader& reader, const std::string& machine,
                          const Params& params);

// POST /api/baselines/{machine}/reset (no body): the machine has no active
// baseline any more and learns anew (versions kept). `store` nullptr: 403,
// baseline changes switched off. 200 {"machine", "was_active": bool,
// "previous_version": N or null}.
Response BaselineResetResponse(sink::BaselineStore* store, const std::string& machine);

// POST /api/baselines/{machine}/retrain with an optional JSON body {"from":
// T, "to": T} (T an RFC 3339 string or epoch milliseconds; both optional, as
// `machine-health baseline retrain`): trains a new active version from the
// machine's windows stored in `db_path` with `learn` (baseline::Retrain).
// 200 with the new baseline (StoredBaselineJson); 400 for a bad body or no
// usable window; 404 for a machine without stored windows; 403 when `store`
// is nullptr.
Response BaselineRetrainResponse(sink::BaselineStore* store, const std::string& db_path,
                                 const std::string& machine, std::string_view body,
                                 const score::LearnOptions& learn);

// Default and largest `limit` of /api/snapshots.
inline constexpr std::size_t kDefaultSnapshotLimit = 200;
inline constexpr std::size_t kLargestSnapshotLimit = 10000;

// GET /api/snapshots?machine=ID&from=T&to=T&limit=N: 200 with a JSON array
// of the machine's stored waveform snapshots, oldest first (the newest
// `limit` in [from, to); from/to as for /api/series, default all): {"id",
// "machine", "t" (epoch ms), "t_ns", "kind" ("periodic" or "alarm"),
// "alarm_id" (kind alarm), "score", "fs_hz", "samples", "bytes"}. 400 for a
// missing machine or a bad parameter.
Response SnapshotsResponse(sink::StoreReader& reader, const Params& params);

// GET /api/snapshots/{id}?view=spectrum|samples (default spectrum): 200
// with the snapshot's fields as listed above plus "channels" (names) and,
// for view=spectrum, "freq_hz" (bins 0..n/2), "amplitude" (per channel,
// single-sided amplitude of the window's spectrum, signal units) and
// "envelope": {"band_hz": [lo, hi], "amplitude": per channel}
// (features/snapshot_spectrum.h); for view=samples, "samples" per channel.
// 400 for a bad id or view; 404 for an unknown snapshot.
Response SnapshotResponse(sink::StoreReader& reader, const std::string& id, const Params& params);

// What GET /api/stream?since=T&last_event_id=ID asks for (docs/api.md,
// "Live stream"): the Last-Event-ID to resume after (the header, else the
// `last_event_id` parameter for clients that cannot set headers) and the
// event time to replay stored windows from (RFC 3339 or epoch ms).
struct StreamRequest {
  std::string last_event_id;
  std::optional<std::int64_t> since_ns;
};

// Parses the stream's parameters; a 400 response naming the parameter for a
// bad `since` or a repeated parameter.
Result<StreamRequest> ParseStreamRequest(const Params& params, const std::string& last_event_id);

// A static asset: "/" is "/index.html"; 404 for a path that is not embedded.
// Cache-Control "no-cache" (revalidate), `etag` a hash of the bytes and
// `gzip_body` the bytes gzipped at level 9; both are computed for every
// asset at the first call (DashboardServer::Start makes it, so a browser's
// first request does not wait for it).
Response StaticResponse(std::string_view path);

// 404 {"error": "not found: <path>"}.
Response NotFoundResponse(std::string_view path);

// Content-Type for a file name by extension ("application/octet-stream" if
// unknown); text types carry "; charset=utf-8".
std::string ContentTypeFor(std::string_view path);

}  // namespace mh::http

#endif  // MH_HTTP_API_H_
