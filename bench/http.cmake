# The dashboard server's live stream: one poll's cost at fleet size.
mh_add_bench(http_bench SOURCES http_bench.cc DEPS mh_http mh_sink_sqlite)
