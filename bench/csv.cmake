# CSV reader and replay-encode throughput (rows/s) on a generated feature table.
mh_add_bench(csv_bench SOURCES csv_bench.cc DEPS mh_replay mh_tableio mh_csv)
