# stream-bench: Kafka (mock cluster) -> score -> InfluxDB end to end, with real
# servers started by the test harness (so it needs the test libraries). Not a
# Google Benchmark: it runs scenarios and prints figures (docs/benchmarks.md).
if(MH_WITH_KAFKA AND MH_BUILD_TESTS)
  add_executable(stream-bench stream_bench.cc)
  target_compile_options(stream-bench PRIVATE ${MH_WARNINGS})
  target_link_libraries(stream-bench PRIVATE mh_testing_kafka mh_testing_influxdb mh_testing
                        mh_transport_kafka mh_sink_influxdb mh_replay mh_codec mh_core
                        nlohmann_json::nlohmann_json)
  target_compile_definitions(stream-bench PRIVATE
                             MH_BINARY_PATH="$<TARGET_FILE:machine-health>")
  add_dependencies(stream-bench machine-health)
endif()
