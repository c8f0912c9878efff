# Isolation Forest: scoring latency and throughput, training time.
mh_add_bench(iforest_bench SOURCES iforest_bench.cc DEPS mh_iforest)
