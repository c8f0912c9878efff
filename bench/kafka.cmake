# Kafka transport publish/consume throughput against the mock cluster
# (needs mh_testing_kafka, built with the tests).
if(TARGET mh_testing_kafka)
  mh_add_bench(kafka_bench SOURCES kafka_bench.cc DEPS mh_transport_kafka mh_testing_kafka)
endif()
