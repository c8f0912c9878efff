// MetricsServer: GET /metrics, /healthz and /readyz alone, for a command
// without a dashboard (`score --from ... --metrics-listen HOST:PORT`). The
// same endpoints as DashboardServer's (docs/api.md), without a
// database: /metrics is the registry's exposition, /readyz asks `readiness`;
// any other path is 404.
//
// Thread safety: Start() returns a server already serving from background
// threads; port(), url() and Stop() may be called from any thread.
#ifndef MH_HTTP_METRICS_SERVER_H_
#define MH_HTTP_METRICS_SERVER_H_

#include <functional>
#include <memory>
#include <string>

#include "core/result.h"
#include "metrics/metrics.h"

namespace mh::http {

struct MetricsServerOptions {
  std::string host = "127.0.0.1";
  int port = 9464;  // 0: a free ephemeral port
  // Exposed by GET /metrics; must not be null. Shared with its owner.
  std::shared_ptr<const metrics::Registry> metrics;
  // GET /readyz: 503 with the returned reason when it is not empty, else
  // 200. Called on a server thread: thread-safe and quick. Optional (ready).
  std::function<std::string()> readiness;
};

class MetricsServer {
 public:
  // Binds and starts serving. InvalidArgument for a port outside
  // [0, 65535] or no registry; IOError "cannot listen on HOST:PORT: REASON".
  static Result<std::unique_ptr<MetricsServer>> Start(const MetricsServerOptions& options);
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;
  // Stops serving (as Stop()).
  ~MetricsServer();

  int port() const;
  // "http://HOST:PORT/".
  std::string url() const;
  // Stops accepting, finishes in-flight requests, joins the threads. Idempotent.
  void Stop();

 private:
  struct Impl;
  explicit MetricsServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mh::http

#endif  // MH_HTTP_METRICS_SERVER_H_
