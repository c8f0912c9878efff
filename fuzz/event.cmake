# Streaming event decoder (JSON events from Kafka/MQTT).
mh_add_fuzzer(event DEPS mh_pipeline)
