# Test-only Kafka mock cluster: the mh-kafka-mock executable (librdkafka's
# mock cluster in its own process) and mh_testing_kafka, the RAII harness
# that starts it (testing/kafka_mock.h). Included when MH_WITH_KAFKA is on.
add_executable(mh-kafka-mock kafka_mock_main.cc)
target_compile_options(mh-kafka-mock PRIVATE ${MH_WARNINGS})
target_link_libraries(mh-kafka-mock PRIVATE PkgConfig::RDKAFKA)

mh_add_library(testing_kafka SOURCES kafka_mock.cc DEPS mh_testing mh_core)
target_compile_definitions(mh_testing_kafka
  PRIVATE MH_KAFKA_MOCK_PATH="$<TARGET_FILE:mh-kafka-mock>")
add_dependencies(mh_testing_kafka mh-kafka-mock)
