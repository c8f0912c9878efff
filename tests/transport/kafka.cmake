# Kafka / Event Hubs transport tests: address translation and client
# behaviour without a broker (unit), and against librdkafka's mock cluster in
# a child process (integration; mh-kafka-mock is built as a dependency).
mh_add_test(kafka_transport_test
  SOURCES kafka_config_test.cc kafka_transport_test.cc
  DEPS mh_transport_kafka PkgConfig::RDKAFKA
  LABELS unit kafka)
mh_add_test(kafka_integration_test
  SOURCES kafka_integration_test.cc
  DEPS mh_transport_kafka mh_testing_kafka
  LABELS integration kafka)
