#!/usr/bin/python3
"""Input and reference for tools/score_bench.sh: writes a feature table of
ROWS x 6 random doubles (17 significant digits, with window_start and
machine_id key columns) as CSV, fits a 200-tree IsolationForest on it and
saves it as .joblib, then times scikit-learn's in-process score_samples of
the same rows (model load excluded; best of REPEAT; one core).

usage: score_bench.py DIR [ROWS] [REPEAT]
Prints "sklearn_seconds=S rows=N cpu_seconds=C" on the last line (wall and
CPU time: on a loaded machine the CPU ratio is the fairer one).
"""
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import joblib  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.ensemble import IsolationForest  # noqa: E402


def main():
    out = sys.argv[1]
    rows = int(sys.argv[2]) if len(sys.argv) > 2 else 200000
    repeat = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    rng = np.random.default_rng(7)
    x = rng.normal(size=(rows, 6)) * np.array([1.0, 3.0, 0.5, 10.0, 1e-3, 2.0])
    x[::997] *= 6.0  # a few outliers
    names = ["rms_ax", "rms_ay", "rms_az", "kurtosis_ax", "crest_ax", "p2p_ax"]
    with open(os.path.join(out, "features.csv"), "w") as f:
        f.write("window_start,machine_id," + ",".join(names) + "\n")
        lines = []
        for i in range(rows):
            lines.append("%d,m%d,%s\n" % (2560 * i, i % 4, ",".join("%.17g" % v for v in x[i])))
        f.write("".join(lines))
    frame = pd.DataFrame(x, columns=names)
    model = IsolationForest(n_estimators=200, random_state=0).fit(frame[:20000])
    joblib.dump(model, os.path.join(out, "model.joblib"))
    best = float("inf")
    best_cpu = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        c = time.process_time()
        s = model.score_samples(frame)
        best = min(best, time.perf_counter() - t)
        best_cpu = min(best_cpu, time.process_time() - c)
    np.save(os.path.join(out, "sklearn_score_samples.npy"), s)
    print("sklearn_seconds=%.4f rows=%d cpu_seconds=%.4f" % (best, rows, best_cpu))


if __name__ == "__main__":
    main()
