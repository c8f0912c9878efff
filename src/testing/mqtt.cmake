# Test-only MQTT harness: a throw-away mosquitto broker (mosquitto_service.h).
mh_add_library(testing_mqtt SOURCES mosquitto_service.cc DEPS mh_testing mh_core)
