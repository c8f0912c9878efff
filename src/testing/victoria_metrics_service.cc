#include "testing/victoria_metrics_service.h"

#include "core/strings.h"

namespace mh::testing {

Result<std::unique_ptr<VictoriaMetricsService>> VictoriaMetricsService::Launch() {
  std::unique_ptr<VictoriaMetricsService> service(new VictoriaMetricsService());
  MH_ASSIGN_OR_RETURN(service->server_,
                      ServerProcess::Create(
                          {"victoria-metrics", "victoria-metrics", "the InfluxDB v2 write tests"}));
  MH_RETURN_IF_ERROR(service->Start());
  return service;
}

Status VictoriaMetricsService::Start() {
  return server_->Start({"-httpListenAddr=127.0.0.1:" + std::to_string(port()),
                         "-storageDataPath=" + dir() + "/data", "-retentionPeriod=100y",
                         "-search.latencyOffset=0s", "-search.disableCache", "-loggerLevel=WARN"},
                        [this] {
                          Result<HttpAnswer> health = CurlGet(url() + "/health");
                          return health.ok() && health->status == 200;
                        });
}

Result<std::string> VictoriaMetricsService::Export(const std::string& match) {
  MH_ASSIGN_OR_RETURN(HttpAnswer flush, CurlGet(url() + "/internal/force_flush"));
  if (flush.status != 200) {
    return Status::Internal("force_flush: HTTP " + std::to_string(flush.status));
  }
  MH_ASSIGN_OR_RETURN(HttpAnswer answer,
                      CurlGet(url() + "/api/v1/export?match%5B%5D=" + PercentEncode(match)));
  if (answer.status != 200) {
    return Status::InvalidArgument("export " + match + ": HTTP " + std::to_string(answer.status) +
                                   " " + answer.body);
  }
  return answer.body;
}

}  // namespace mh::testing
