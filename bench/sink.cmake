# SQLite sink write throughput and reader query latency.
mh_add_bench(sink_bench SOURCES sink_bench.cc DEPS mh_sink_sqlite)
