# MQTT transport: QoS 1 publish and session-drain receive throughput against a
# throw-away mosquitto broker (needs the test-only harness mh_testing_mqtt).
if(TARGET mh_testing_mqtt)
  mh_add_bench(mqtt_bench SOURCES mqtt_bench.cc DEPS mh_transport_mqtt mh_testing_mqtt)
endif()
