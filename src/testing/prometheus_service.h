// Test-only: a real Prometheus server (`prometheus`, Debian package
// prometheus) that scrapes GET /metrics of the given loopback targets every
// second; read back with Query() (the HTTP API's instant query).
//
// Lifecycle (see testing/server_process.h): Launch picks a free 127.0.0.1
// port and a fresh temp dir, writes prometheus.yml (scrape_interval 1s, job
// "machine-health", the targets) and its TSDB there, runs it and waits for
// /-/ready. Prometheus applies new targets only every 5 s: the first scrape
// comes about 6 s after start, so wait on Query's result with a deadline of
// at least 20 s. The destructor stops it and removes the dir (kept when
// MH_KEEP_TEST_DIRS is set).
//
// When prometheus is not installed, Launch returns NotFound with an install
// hint: tests must fail on it, not skip.
//
// Thread safety: one thread per object.
#ifndef MH_TESTING_PROMETHEUS_SERVICE_H_
#define MH_TESTING_PROMETHEUS_SERVICE_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "testing/server_process.h"

namespace mh::testing {

// One element of an instant vector: its labels and value.
struct PromSample {
  std::map<std::string, std::string> labels;
  double value = 0;
};

class PrometheusService {
 public:
  // `targets`: "127.0.0.1:PORT" each.
  static Result<std::unique_ptr<PrometheusService>> Launch(const std::vector<std::string>& targets);
  ~PrometheusService() = default;
  PrometheusService(const PrometheusService&) = delete;
  PrometheusService& operator=(const PrometheusService&) = delete;

  // "http://127.0.0.1:PORT".
  std::string url() const { return server_->url(); }
  const std::string& dir() const { return server_->dir(); }

  // GET /api/v1/query?query=PROMQL: the instant vector (empty when nothing
  // matches yet). InvalidArgument with Prometheus' error for a bad query or
  // a result that is not a vector; Unavailable when it does not answer.
  Result<std::vector<PromSample>> Query(const std::string& promql);

  std::string LogText() const { return server_->LogText(); }

 private:
  PrometheusService() = default;
  std::unique_ptr<ServerProcess> server_;
};

}  // namespace mh::testing

#endif  // MH_TESTING_PROMETHEUS_SERVICE_H_
