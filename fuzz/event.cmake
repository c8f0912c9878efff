# Streaming event decoder (JSON events from Kafka/MQTT).
mh_add_fuzzer(event DEPS mh_pipeline)
# The binary waveform payload through the same decoder.
mh_add_fuzzer(waveform_binary DEPS mh_pipeline mh_codec)
