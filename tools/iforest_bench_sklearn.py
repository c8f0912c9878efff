#!/usr/bin/python3
"""Times scikit-learn's IsolationForest on the shapes of bench/iforest_bench.cc
(100 trees, 6 features): single-row decision_function latency, batch
score_samples throughput on 10000 rows, and fit on 1e5 x 6 rows.

usage: iforest_bench_sklearn.py
"""
import time

import numpy as np
from sklearn.ensemble import IsolationForest


def best_of(fn, repeat):
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(100000, 6))
    t_fit = best_of(lambda: IsolationForest(n_estimators=100, random_state=0).fit(x), 3)
    model = IsolationForest(n_estimators=100, random_state=0).fit(x[:10000])
    row = x[:1]
    t_row = best_of(lambda: model.decision_function(row), 50)
    batch = x[:10000]
    t_batch = best_of(lambda: model.score_samples(batch), 5)
    print("sklearn fit 1e5x6, 100 trees:        %.1f ms" % (t_fit * 1e3))
    print("sklearn decision_function, 1 row:    %.1f us" % (t_row * 1e6))
    print("sklearn score_samples, 10000 rows:   %.0f rows/s" % (10000 / t_batch))


if __name__ == "__main__":
    main()
