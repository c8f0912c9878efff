# InfluxDB sink. Unit: line protocol, configuration, writer and sink against an
# in-process fake HTTP server. Integration: real influxd 1.x and
# VictoriaMetrics started by the test (src/testing/influxdb_service.h); the
# retention and rollup files of deploy/influxdb/ against the real influxd.
mh_add_test(influxdb_sink_test
  SOURCES influxdb_line_protocol_test.cc influxdb_config_test.cc influxdb_writer_test.cc
    influxdb_gzip_body_test.cc
  DEPS mh_sink_influxdb PkgConfig::HTTPLIB ZLIB::ZLIB Threads::Threads
  LABELS unit influxdb)
mh_add_test(influxdb_integration_test
  SOURCES influxdb_integration_test.cc influxdb_rollup_test.cc influxdb_grafana_test.cc
  DEPS mh_sink_influxdb mh_testing_influxdb nlohmann_json::nlohmann_json
  LABELS integration influxdb)
# The dashboard over InfluxDB (serve --influx): the reader and the API against
# a real influxd 1.x.
mh_add_test(influxdb_reader_test
  SOURCES influxdb_reader_test.cc
  DEPS mh_app mh_sink_influxdb mh_http mh_testing_influxdb nlohmann_json::nlohmann_json
  LABELS integration influxdb)
