mh_add_bench(pipeline_bench SOURCES pipeline_bench.cc DEPS mh_pipeline mh_codec mh_replay)
