# Parquet reader throughput (rows/s, MB/s) on 1M rows x 8 DOUBLE, SNAPPY.
mh_add_bench(parquet_bench SOURCES parquet_bench.cc DEPS mh_parquet)
