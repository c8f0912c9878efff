# Feature extractor throughput (samples/s on one core).
mh_add_bench(features_bench SOURCES features_bench.cc DEPS mh_features)
