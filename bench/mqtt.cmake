# MQTT transport: QoS 1 publish and session-drain receive throughput against a
# throw-away mosquitto broker (needs the test-only harness mh_testing_mqtt).
if(TARGET mh_testing_mqtt)
  mh_add_bench(mqtt_bench SOURCES mqtt_bench.cc DEPS mh_transport_mqtt mh_testing_mqtt)
endif()

# live-pub: waveform events of N sensors published in real time
# (tools/live_bench.sh). Not a Google Benchmark: a load generator.
add_executable(live-pub live_pub.cc)
target_compile_options(live-pub PRIVATE ${MH_WARNINGS})
target_link_libraries(live-pub PRIVATE mh_transport_mqtt mh_codec mh_replay mh_core)
