# Parquet reader fuzz target (corpus: fuzz/corpus/parquet/, small files written
# by our writer and by DuckDB with v2 encodings).
mh_add_fuzzer(parquet DEPS mh_parquet)
