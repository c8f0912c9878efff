# SQLite sink write throughput, reader query latency and the baseline store.
mh_add_bench(sink_bench SOURCES sink_bench.cc DEPS mh_sink_sqlite mh_score SQLite::SQLite3)
