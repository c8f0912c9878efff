# InfluxDB sink: line-protocol encoding, and write throughput against a real
# influxd started by the test harness (batches vs one request per point).
if(TARGET mh_testing_influxdb)
  mh_add_bench(influxdb_bench SOURCES influxdb_bench.cc
    DEPS mh_sink_influxdb mh_testing_influxdb ZLIB::ZLIB)
endif()
