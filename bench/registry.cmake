# Machine registry: Lookup of a known machine (the pipeline's per-window
# question) from one and several threads, first-sight registration, and
# loading the documented machines file.
mh_add_bench(registry_bench SOURCES registry_bench.cc DEPS mh_registry)
