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
// With options.https, Launch first makes a throw-away PKI in <dir>/pki
// (testing/test_pki.h) and serves HTTPS only (-tls) with its server
// certificate (valid for 127.0.0.1 and localhost); clients verify it with
// ca_file(). No system trust store trusts that CA.
//
// When victoria-metrics (or, for https, openssl) is not installed, Launch
// returns NotFound with an install hint: tests must fail on it, not skip.
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

struct VictoriaMetricsOptions {
  // Serve HTTPS (and no plain HTTP) with a certificate of a throw-away CA.
  bool https = false;
};

class VictoriaMetricsService {
 public:
  static Result<std::unique_ptr<VictoriaMetricsService>> Launch(
      const VictoriaMetricsOptions& options);
  static Result<std::unique_ptr<VictoriaMetricsService>> Launch() {
    return Launch(VictoriaMetricsOptions());
  }
  ~VictoriaMetricsService() = default;
  VictoriaMetricsService(const VictoriaMetricsService&) = delete;
  VictoriaMetricsService& operator=(const VictoriaMetricsService&) = delete;

  int port() const { return server_->port(); }
  // "http://127.0.0.1:PORT", or "https://127.0.0.1:PORT" with https.
  std::string url() const;
  const std::string& dir() const { return server_->dir(); }
  // With https: the CA certificate (PEM) that signed the server's; "" without.
  std::string ca_file() const { return options_.https ? dir() + "/pki/ca.crt" : ""; }

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

  VictoriaMetricsOptions options_;
  std::unique_ptr<ServerProcess> server_;
};

}  // namespace mh::testing

#endif  // MH_TESTING_VICTORIA_METRICS_SERVICE_H_
