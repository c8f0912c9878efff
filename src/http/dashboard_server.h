// DashboardServer: serves the web dashboard and its JSON API (docs/api.md)
// over a machine-health SQLite database, which it opens read-only (only an
// alarm acknowledgement and a baseline reset or retrain write, see
// ServerOptions::allow_ack and allow_baseline_changes); a pipeline may write
// the database at the same time.
//
// Thread safety: Start() returns a server already serving from background
// threads; port(), url() and Stop() may be called from any thread.
#ifndef MH_HTTP_DASHBOARD_SERVER_H_
#define MH_HTTP_DASHBOARD_SERVER_H_

#include <functional>
#include <memory>
#include <string>

#include "core/result.h"
#include "http/live_feed.h"
#include "metrics/metrics.h"
#include "registry/registry.h"
#include "score/baseline.h"

namespace mh::http {

struct ServerOptions {
  // Address to listen on (IPv4/IPv6 literal or host name).
  std::string host = "127.0.0.1";
  // TCP port; 0 picks a free ephemeral port (see DashboardServer::port()).
  int port = 8080;
  // The machine-health database to serve (see sink/sqlite/sqlite_reader.h).
  std::string db_path;
  // Another store to read instead of db_path (e.g. sink::InfluxdbReader for
  // `serve --influx`); acknowledgements and baseline changes are then off
  // (they write the embedded database).
  std::shared_ptr<sink::StoreReader> reader;
  // Whether POST /api/alarms/{id}/ack may acknowledge alarms. It is the
  // only request that writes: through a second, read-write connection
  // (sink::AlarmStore) opened on the first acknowledgement; everything else
  // reads through the read-only one.
  bool allow_ack = true;
  // Called (from a server thread) after an acknowledgement was stored, e.g.
  // notify::Dispatcher::Wake so the notification goes out at once.
  std::function<void()> on_alarm_event;
  // Whether POST /api/baselines/{machine}/reset and /retrain may change
  // baselines, through a read-write sink::BaselineStore opened on the first
  // such request. A running pipeline hears of the change by polling
  // BaselineStore::ChangesSince.
  bool allow_baseline_changes = true;
  // Forest, calibration and threshold rule of /retrain: the pipeline's
  // (pipeline::PipelineOptions::learn), so that a retrained baseline is
  // made as a learned one. learning_windows sizes the default range.
  score::LearnOptions learn;
  // Optional machine registry: GET /api/machines then shows each machine's
  // config ("registry"). Shared with its owner (e.g. the pipeline of `run`);
  // the server only reads it.
  std::shared_ptr<const registry::Registry> registry;
  // GET /metrics exposes this registry (Prometheus text format), to which
  // the server adds the database's gauges (AddDatabaseCollector) while it
  // runs. Null: the server makes its own with the process metrics
  // (metrics/process_metrics.h) and the database's gauges.
  std::shared_ptr<metrics::Registry> metrics;
  // GET /readyz: 503 with the returned reason when it is not empty (the
  // model not loaded, a source not connected, a sink failing), else 200.
  // Asked from a server thread, so it must be thread-safe and quick. Also
  // 503 when the database cannot be read. Optional.
  std::function<std::string()> readiness;
  // GET /api/stream (server-sent events): poll interval, keep-alive, queue
  // and history bounds, most streams open at once (live_feed.h).
  LiveOptions live;
};

class DashboardServer {
 public:
  // Opens the database, binds and starts serving in background threads.
  // Errors: those of SqliteReader::Open without options.reader (NotFound "<path>: no such
  // database", Corruption); InvalidArgument for a port outside [0, 65535];
  // IOError "cannot listen on 127.0.0.1:8080: address already in use" (the
  // system's reason) if binding fails.
  static Result<std::unique_ptr<DashboardServer>> Start(const ServerOptions& options);

  DashboardServer(const DashboardServer&) = delete;
  DashboardServer& operator=(const DashboardServer&) = delete;
  // Stops serving (as Stop()).
  ~DashboardServer();

  // The port actually bound (differs from options.port when that was 0).
  int port() const;
  // "http://HOST:PORT/" ("http://[::1]:PORT/" for IPv6 literals).
  std::string url() const;
  // Ends every live stream, stops accepting, finishes in-flight requests
  // and joins the threads. Idempotent.
  void Stop();

 private:
  struct Impl;
  explicit DashboardServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mh::http

#endif  // MH_HTTP_DASHBOARD_SERVER_H_
