// Test-only: a real VictoriaMetrics single-node server (`victoria-metrics`,
// Debian package victoria-metrics), which accepts InfluxDB line protocol on
// /write and /api/v2/write; read back with Export().
//
// Lifecycle (see testing/server_process.h): Launch picks a free 127.0.0.1 port and a fresh temp
// data dir and runs it with -retentionPeriod=100y (old event times are kept),
// -search.latencyOffset=0s and -search.disableCache (fresh samples readable
// at once), then waits for /health. Stop()/Start() restart it on the same
// port and data. The destructor stops it and removes the temp dir (kept when
// MH_KEEP_TEST_DIRS is set).
//
// When victoria-metrics is not installed, Launch returns NotFound with an
// install hint: tests must fail on it, not skip.
//
// Thread safety: one thread per object.
#ifndef MH_TESTING_VICTORIA_METRICS_SERVICE_H_
#define MH_TESTING_VICTORIA_METRICS_SERVICE_H_

#include <memory>
#include <string>

#include "core/result.h"
#include "testing/influxdb_service.h"
#include "testing/process.h"
#include "testing/server_process.h"

namespace mh::testing {

class VictoriaMetricsService {
 public:
  static Result<std::unique_ptr<VictoriaMetricsService>> Launch();
  ~VictoriaMetricsService() = default;
  VictoriaMetricsService(const VictoriaMetricsService&) = delete;
  VictoriaMetricsService& operator=(const VictoriaMetricsService&) = delete;

  int port() const { return server_->port(); }
  // "http://127.0.0.1:PORT".
  std::string url() const { return server_->url(); }
  const std::string& dir() const { return server_->dir(); }

  // GET /internal/force_flush, then GET /api/v1/export?match[]=<match>: JSON
  // lines, one per series ({"metric":{...},"values":[...],"timestamps":[ms]}).
  // A fresh write may need a moment to show: wait on the result with a
  // deadline.
  Result<std::string> Export(const std::string& match);

  Status Stop() { return server_->Stop(); }
  Status Start();
  std::string LogText() const { return server_->LogText(); }

 private:
  VictoriaMetricsService() = default;

  std::unique_ptr<ServerProcess> server_;
};

}  // namespace mh::testing

#endif  // MH_TESTING_VICTORIA_METRICS_SERVICE_H_
