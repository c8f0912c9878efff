#include "testing/prometheus_service.h"

#include <fstream>

#include <nlohmann/json.hpp>

#include "core/strings.h"
#include "testing/influxdb_service.h"

namespace mh::testing {

Result<std::unique_ptr<PrometheusService>> PrometheusService::Launch(
    const std::vector<std::string>& targets) {
  std::unique_ptr<PrometheusService> service(new PrometheusService());
  MH_ASSIGN_OR_RETURN(service->server_,
                      ServerProcess::Create(
                          {"prometheus", "prometheus", "the Prometheus scrape tests of /metrics"}));
  const std::string config = service->dir() + "/prometheus.yml";
  {
    std::ofstream out(config);
    out << "global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}\n"
        << "scrape_configs:\n"
        << "  - job_name: machine-health\n"
        << "    metrics_path: /metrics\n"
        << "    static_configs:\n"
        << "      - targets: [";
    for (std::size_t i = 0; i < targets.size(); ++i) {
      out << (i > 0 ? ", " : "") << "'" << targets[i] << "'";
    }
    out << "]\n";
    if (!out) return Status::IOError(config + ": cannot be written");
  }
  const std::string url = service->url();
  MH_RETURN_IF_ERROR(service->server_->Start(
      {"--config.file=" + config, "--storage.tsdb.path=" + service->dir() + "/tsdb",
       "--web.listen-address=127.0.0.1:" + std::to_string(service->server_->port()),
       "--log.level=warn"},
      [url] {
        Result<HttpAnswer> ready = CurlGet(url + "/-/ready");
        return ready.ok() && ready->status == 200;
      }));
  return service;
}

Result<std::vector<PromSample>> PrometheusService::Query(const std::string& promql) {
  MH_ASSIGN_OR_RETURN(HttpAnswer answer,
                      CurlGet(url() + "/api/v1/query?query=" + PercentEncode(promql)));
  nlohmann::json j = nlohmann::json::parse(answer.body, nullptr, /*allow_exceptions=*/false);
  if (answer.status != 200 || j.is_discarded() || j.value("status", "") != "success") {
    return Status::InvalidArgument("query " + promql + ": HTTP " + std::to_string(answer.status) +
                                   " " + answer.body);
  }
  const nlohmann::json& data = j["data"];
  if (data.value("resultType", "") != "vector") {
    return Status::InvalidArgument("query " + promql + ": not a vector: " + answer.body);
  }
  std::vector<PromSample> out;
  for (const auto& r : data["result"]) {
    PromSample s;
    for (const auto& [k, v] : r["metric"].items()) s.labels[k] = v.get<std::string>();
    auto value = ParseDouble(r["value"][1].get<std::string>());
    if (!value.ok())
      return Status::InvalidArgument("query " + promql + ": bad value " + answer.body);
    s.value = *value;
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace mh::testing
