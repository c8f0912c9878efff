# Isolation Forest: scoring latency and throughput, training time, model load
# and scikit-learn pickle import (mh_testing locates ../shared for the seed model).
mh_add_bench(iforest_bench SOURCES iforest_bench.cc DEPS mh_iforest mh_testing)
