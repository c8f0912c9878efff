#include "testing/victoria_metrics_service.h"

#include <vector>

#include "core/strings.h"
#include "testing/test_pki.h"

namespace mh::testing {

Result<std::unique_ptr<VictoriaMetricsService>> VictoriaMetricsService::Launch(
    const VictoriaMetricsOptions& options) {
  std::unique_ptr<VictoriaMetricsService> service(new VictoriaMetricsService());
  service->options_ = options;
  MH_ASSIGN_OR_RETURN(service->server_,
                      ServerProcess::Create(
                          {"victoria-metrics", "victoria-metrics", "the InfluxDB v2 write tests"}));
  if (options.https) MH_RETURN_IF_ERROR(MakeTestPki(service->dir() + "/pki"));
  MH_RETURN_IF_ERROR(service->Start());
  return service;
}

std::string VictoriaMetricsService::url() const {
  return options_.https ? "https://127.0.0.1:" + std::to_string(port()) : server_->url();
}

Status VictoriaMetricsService::Start() {
  std::vector<std::string> args = {"-httpListenAddr=127.0.0.1:" + std::to_string(port()),
                                   "-storageDataPath=" + dir() + "/data",
                                   "-retentionPeriod=100y",
                                   "-search.latencyOffset=0s",
                                   "-search.disableCache",
                                   "-loggerLevel=WARN"};
  if (options_.https) {
    args.push_back("-tls");
    args.push_back("-tlsCertFile=" + dir() + "/pki/server.crt");
    args.push_back("-tlsKeyFile=" + dir() + "/pki/server.key");
  }
  return server_->Start(args, [this] {
    Result<HttpAnswer> health = CurlGet(url() + "/health", ca_file());
    return health.ok() && health->status == 200;
  });
}

Result<std::string> VictoriaMetricsService::Export(const std::string& match) {
  MH_ASSIGN_OR_RETURN(HttpAnswer flush, CurlGet(url() + "/internal/force_flush", ca_file()));
  if (flush.status != 200) {
    return Status::Internal("force_flush: HTTP " + std::to_string(flush.status));
  }
  MH_ASSIGN_OR_RETURN(
      HttpAnswer answer,
      CurlGet(url() + "/api/v1/export?match%5B%5D=" + PercentEncode(match), ca_file()));
  if (answer.status != 200) {
    return Status::InvalidArgument("export " + match + ": HTTP " + std::to_string(answer.status) +
                                   " " + answer.body);
  }
  return answer.body;
}

}  // namespace mh::testing
