#!/usr/bin/python3
"""Reference for the iforest training-quality test (run by tests/iforest with /usr/bin/python3).

  iforest_sklearn_auc.py gen OUT.json SEED...
      For each seed: synthetic training data with planted outliers and a
      labelled test set (label 1 = planted outlier), and the ROC AUC of
      scikit-learn's Pipeline(StandardScaler, IsolationForest(n_estimators=300,
      random_state=seed))
      on the test set. Writes {"datasets": [{"seed", "train", "test",
      "labels", "sklearn_auc"}, ...]}.
  iforest_sklearn_auc.py auc IN.json
      IN.json: {"datasets": [{"labels": [...], "scores": [...]}, ...]} with
      score_samples-style scores (lower = more anomalous). Prints one ROC AUC
      (sklearn.metrics.roc_auc_score of -score) per line.
"""
import json
import sys

import numpy as np
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

D = 6
N_TREES = 300  # many trees: AUC spread between forests ~0.002, well below the 0.01 tolerance


def sample(rng, n_in, n_out, mix, scales, centers):
    inl = rng.normal(size=(n_in, D)) @ mix * scales + centers
    # Planted outliers: a wider cloud, so some overlap the inliers (AUC < 1).
    outl = rng.normal(size=(n_out, D)) @ mix * scales * 2.2 + centers
    x = np.vstack([inl, outl])
    y = np.concatenate([np.zeros(n_in), np.ones(n_out)])
    return x, y


def gen(out, seeds):
    datasets = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        mix = np.eye(D) + 0.5 * rng.normal(size=(D, D))
        scales = rng.uniform(0.5, 20.0, size=D)
        centers = rng.uniform(-50.0, 50.0, size=D)
        train, _ = sample(rng, 1940, 60, mix, scales, centers)
        test, labels = sample(rng, 1500, 100, mix, scales, centers)
        model = make_pipeline(StandardScaler(), IsolationForest(n_estimators=N_TREES, random_state=seed)).fit(train)
        auc = roc_auc_score(labels, -model.score_samples(test))
        datasets.append({"seed": seed, "train": train.tolist(), "test": test.tolist(),
                         "labels": labels.astype(int).tolist(), "sklearn_auc": float(auc)})
    with open(out, "w") as f:
        json.dump({"datasets": datasets}, f)


def auc(path):
    with open(path) as f:
        doc = json.load(f)
    for ds in doc["datasets"]:
        print(repr(float(roc_auc_score(ds["labels"], -np.asarray(ds["scores"], dtype=float)))))


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "gen":
        gen(sys.argv[2], [int(s) for s in sys.argv[3:]])
    elif len(sys.argv) == 3 and sys.argv[1] == "auc":
        auc(sys.argv[2])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
