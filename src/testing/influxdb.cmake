# Test-only harness for real InfluxDB 1.x (influxd) and VictoriaMetrics servers.
mh_add_library(testing_influxdb
  SOURCES influxdb_service.cc victoria_metrics_service.cc
  DEPS mh_testing mh_core CURL::libcurl)
# Test-only harness for a real Prometheus (scrapes GET /metrics).
mh_add_library(testing_prometheus
  SOURCES prometheus_service.cc
  DEPS mh_testing_influxdb mh_testing mh_core nlohmann_json::nlohmann_json)
