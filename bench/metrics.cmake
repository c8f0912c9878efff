mh_add_bench(metrics_bench SOURCES metrics_bench.cc DEPS mh_metrics benchmark::benchmark_main)
