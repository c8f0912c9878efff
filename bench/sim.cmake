mh_add_bench(sim_bench SOURCES sim_bench.cc DEPS mh_sim)
