#include "testing/victoria_metrics_service.h"

#include <cstdlib>
#include <filesystem>

#include "testing/test_paths.h"

namespace mh::testing {

Result<std::unique_ptr<VictoriaMetricsService>> VictoriaMetricsService::Launch() {
  std::unique_ptr<VictoriaMetricsService> service(new VictoriaMetricsService());
  service->program_ = FindProgram("victoria-metrics");
  if (service->program_.empty()) {
    return Status::NotFound(
        "victoria-metrics is not installed (apt-get install victoria-metrics); the InfluxDB v2 "
        "write tests need it");
  }
  service->dir_ = MakeTempDir("mh-victoria");
  if (service->dir_.empty())
    return Status::IOError("cannot create a temp dir for victoria-metrics");
  service->port_ = FreeTcpPort();
  if (service->port_ == 0) return Status::IOError("no free TCP port for victoria-metrics");
  MH_RETURN_IF_ERROR(service->Start());
  return service;
}

VictoriaMetricsService::~VictoriaMetricsService() {
  if (process_ != nullptr) process_->Stop();
  process_.reset();
  if (!dir_.empty() && std::getenv("MH_KEEP_TEST_DIRS") == nullptr) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

std::string VictoriaMetricsService::url() const {
  return "http://127.0.0.1:" + std::to_string(port_);
}

Status VictoriaMetricsService::Start() {
  if (process_ != nullptr) return Status::OK();
  MH_ASSIGN_OR_RETURN(
      process_,
      ChildProcess::Start({program_, "-httpListenAddr=127.0.0.1:" + std::to_string(port_),
                           "-storageDataPath=" + dir_ + "/data", "-retentionPeriod=100y",
                           "-search.latencyOffset=0s", "-search.disableCache", "-loggerLevel=WARN"},
                          dir_ + "/victoria-metrics.log"));
  bool exited = false;
  const bool ready = WaitUntil(
      [&] {
        if (!process_->Running()) {
          exited = true;
          return true;
        }
        Result<HttpAnswer> health = CurlGet(url() + "/health");
        return health.ok() && health->status == 200;
      },
      std::chrono::seconds(30));
  if (!ready || exited) {
    process_.reset();
    std::string log = LogText();
    if (log.size() > 2000) log = "..." + log.substr(log.size() - 2000);
    return Status::Unavailable(std::string("victoria-metrics ") +
                               (exited ? "exited at start" : "not ready after 30 s") +
                               "; its log: " + log);
  }
  return Status::OK();
}

Status VictoriaMetricsService::Stop() {
  if (process_ == nullptr) return Status::OK();
  const int code = process_->Stop();
  process_.reset();
  if (code != 0 && code != 128 + 15) {
    return Status::Internal("victoria-metrics exited with " + std::to_string(code));
  }
  return Status::OK();
}

std::string VictoriaMetricsService::LogText() const {
  return ReadFileText(dir_ + "/victoria-metrics.log");
}

Result<std::string> VictoriaMetricsService::Export(const std::string& match) {
  MH_ASSIGN_OR_RETURN(HttpAnswer flush, CurlGet(url() + "/internal/force_flush"));
  if (flush.status != 200) {
    return Status::Internal("force_flush: HTTP " + std::to_string(flush.status));
  }
  MH_ASSIGN_OR_RETURN(HttpAnswer answer,
                      CurlGet(url() + "/api/v1/export?match%5B%5D=" + UrlEscape(match)));
  if (answer.status != 200) {
    return Status::InvalidArgument("export " + match + ": HTTP " + std::to_string(answer.status) +
                                   " " + answer.body);
  }
  return answer.body;
}

}  // namespace mh::testing
