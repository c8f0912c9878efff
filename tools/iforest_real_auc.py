#!/usr/bin/python3
"""Real-data reference for the iforest quality test (run by tests/iforest with /usr/bin/python3).

Builds two labelled anomaly-detection tasks from the recordings in
../shared/data, with window features computed here in numpy, and the ROC AUC
of scikit-learn's Pipeline(StandardScaler, IsolationForest(n_estimators=300,
random_state=seed)) for seeds 0..4:

* femto_bearing1_1: FEMTO/PRONOSTIA Bearing1_1 run to failure. Each snapshot
  (2560 samples, 2 channels) is cut into 10 windows of 256 samples; features
  per window: rms, kurtosis and peak-to-peak of each channel (6). Training:
  the windows of even-numbered healthy snapshots (life_fraction < 0.5). Test:
  the odd-numbered healthy snapshots (label 0) and the snapshots in the last
  2% of life (label 1). A harder variant, femto_bearing1_1_midlife, labels
  the snapshots between 50% and 98% of life instead.
* cwru_normal_vs_faults: CWRU drive-end accelerometer, windows of 1024
  samples; features: rms, kurtosis, crest factor, skewness, peak-to-peak,
  std (6). Training: the first 60% of the normal recording's windows. Test:
  the other normal windows (label 0) and every window of the fault
  recordings (label 1). A harder variant, cwru_shape_features_only, keeps
  only kurtosis and skewness.

  iforest_real_auc.py gen SHARED_DATA_DIR OUT.json
      Writes {"datasets": [{"name", "feature_names", "train", "test",
      "labels", "sklearn_auc": [5 AUCs]}]}. Scores for the test's own models
      are rated with iforest_sklearn_auc.py auc.
"""
import csv
import json
import os
import sys
import warnings

import numpy as np
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

SEEDS = [0, 1, 2, 3, 4]


def kurtosis(w):
    c = w - w.mean()
    v = np.mean(c * c)
    return float(np.mean(c ** 4) / (v * v)) if v > 0 else 0.0


def femto(data, positives=(0.98, 1.01)):
    base = os.path.join(data, "femto")
    with open(os.path.join(base, "index.csv")) as f:
        rows = [r for r in csv.DictReader(f) if r["bearing"] == "Bearing1_1"]
    train, test, labels = [], [], []
    for i, r in enumerate(rows):
        life = float(r["life_fraction"])
        x = np.genfromtxt(os.path.join(base, r["file"]), delimiter=",", skip_header=1)[:, 4:6]
        feats = []
        for k in range(10):
            w = x[k * 256:(k + 1) * 256]
            h, v = w[:, 0], w[:, 1]
            feats.append([np.sqrt(np.mean(h * h)), np.sqrt(np.mean(v * v)), kurtosis(h), kurtosis(v),
                          np.ptp(h), np.ptp(v)])
        if life < 0.5:
            (train if i % 2 == 0 else test).extend(feats)
            if i % 2 == 1:
                labels.extend([0] * len(feats))
        elif positives[0] <= life < positives[1]:
            test.extend(feats)
            labels.extend([1] * len(feats))
    names = ["rms_h", "rms_v", "kurtosis_h", "kurtosis_v", "p2p_h", "p2p_v"]
    return names, np.array(train), np.array(test), np.array(labels)


def cwru_windows(path, n=1024):
    x = np.genfromtxt(path, skip_header=1)
    out = []
    for k in range(len(x) // n):
        w = x[k * n:(k + 1) * n]
        rms = np.sqrt(np.mean(w * w))
        c = w - w.mean()
        sd = np.sqrt(np.mean(c * c))
        out.append([rms, kurtosis(w), np.max(np.abs(w)) / rms, float(np.mean(c ** 3) / sd ** 3),
                    np.ptp(w), sd])
    return out


def cwru(data):
    base = os.path.join(data, "cwru")
    normal = cwru_windows(os.path.join(base, "normal_1797rpm_48k_DE_0-120000.csv"))
    cut = int(len(normal) * 0.6)
    train, test = normal[:cut], list(normal[cut:])
    labels = [0] * len(test)
    for name in sorted(os.listdir(base)):
        if name.endswith(".csv") and not name.startswith(("normal", "index", "reference")):
            w = cwru_windows(os.path.join(base, name))
            test.extend(w)
            labels.extend([1] * len(w))
    names = ["rms", "kurtosis", "crest_factor", "skewness", "peak_to_peak", "std"]
    return names, np.array(train), np.array(test), np.array(labels)


def select(task, columns):
    names, train, test, labels = task
    return [names[c] for c in columns], train[:, columns], test[:, columns], labels


def main():
    if len(sys.argv) != 4 or sys.argv[1] != "gen":
        sys.exit(__doc__)
    data = sys.argv[2]
    out = []
    cw = cwru(data)
    tasks = [("femto_bearing1_1", femto(data)),
             ("femto_bearing1_1_midlife", femto(data, (0.5, 0.98))),
             ("cwru_normal_vs_faults", cw),
             ("cwru_shape_features_only", select(cw, [1, 3]))]
    for name, (names, train, test, labels) in tasks:
        aucs = []
        for seed in SEEDS:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = make_pipeline(StandardScaler(),
                                      IsolationForest(n_estimators=300, random_state=seed)).fit(train)
            aucs.append(float(roc_auc_score(labels, -model.score_samples(test))))
        out.append({"name": name, "feature_names": names, "train": train.tolist(),
                    "test": test.tolist(), "labels": labels.tolist(), "sklearn_auc": aucs})
    with open(sys.argv[3], "w") as f:
        json.dump({"datasets": out}, f)


if __name__ == "__main__":
    main()
