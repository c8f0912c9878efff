# MQTT transport: address parsing and factory errors (unit), the spool on
# plain files (unit), and the real thing against a mosquitto broker started
# by the test (integration).
mh_add_test(mqtt_transport_test
  SOURCES mqtt_transport_test.cc
  DEPS mh_transport_mqtt
  LABELS unit mqtt)
mh_add_test(mqtt_spool_test
  SOURCES mqtt_spool_test.cc
  DEPS mh_transport_mqtt
  LABELS unit mqtt)
mh_add_test(mqtt_integration_test
  SOURCES mqtt_integration_test.cc
  DEPS mh_transport_mqtt mh_testing_mqtt Threads::Threads
  LABELS integration mqtt)
