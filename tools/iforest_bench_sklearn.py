#!/usr/bin/python3
"""Times scikit-learn's IsolationForest on the shapes of bench/iforest_bench.cc
(6 features, max_samples 256): batch score_samples throughput on 10000 rows
with 100 and 200 trees (one core), one-row decision_function latency (the
prototype's per-event pattern; p50/p99 over many calls), and fitting
Pipeline(StandardScaler, IsolationForest(200 trees)) on 1e6 x 6 rows with
n_jobs=-1 (all cores), plus the fit of 1e5 x 6 with 100 trees.

The batch figure is the best of 5 runs (wall) and the median of 5 runs of
process CPU time (the fair figure on a shared machine; compare it with the
benchmark's CPU time). --scoring-only stops after the batch scoring.

usage: iforest_bench_sklearn.py [--quick] [--scoring-only]
"""
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one core for scoring, before numpy loads

import numpy as np  # noqa: E402
from sklearn.ensemble import IsolationForest  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402


def best_of(fn, repeat):
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main():
    quick = "--quick" in sys.argv
    rng = np.random.default_rng(1)
    x = rng.normal(size=(1000000, 6))
    batch = x[:10000]
    for trees in (100, 200):
        model = IsolationForest(n_estimators=trees, random_state=0).fit(x[:10000])
        t_batch = best_of(lambda: model.score_samples(batch), 5)
        cpus = []
        for _ in range(5):
            t0 = time.process_time()
            model.score_samples(batch)
            cpus.append(time.process_time() - t0)
        cpu = sorted(cpus)[len(cpus) // 2]
        print("sklearn score_samples, 10000 rows, %d trees: %.0f rows/s wall, %.0f rows/s cpu" %
              (trees, 10000 / t_batch, 10000 / cpu))
        if "--scoring-only" in sys.argv:
            continue
        lat = []
        for i in range(50 if quick else 300):
            row = x[i:i + 1]
            t = time.perf_counter()
            model.decision_function(row)
            lat.append(time.perf_counter() - t)
        lat.sort()
        print("sklearn decision_function 1 row, %d trees: p50 %.0f us, p99 %.0f us" %
              (trees, lat[len(lat) // 2] * 1e6, lat[len(lat) * 99 // 100] * 1e6))
    if "--scoring-only" in sys.argv:
        return
    t_fit = best_of(lambda: IsolationForest(n_estimators=100, random_state=0).fit(x[:100000]), 1 if quick else 3)
    print("sklearn fit 1e5x6, 100 trees: %.1f ms" % (t_fit * 1e3))
    t_fit = best_of(lambda: make_pipeline(StandardScaler(), IsolationForest(
        n_estimators=200, random_state=0, n_jobs=-1)).fit(x), 1 if quick else 2)
    print("sklearn Pipeline fit 1e6x6, 200 trees, n_jobs=-1 (%d cores): %.1f ms" %
          (os.cpu_count(), t_fit * 1e3))


if __name__ == "__main__":
    main()
