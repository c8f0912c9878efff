#!/usr/bin/python3
"""Independent reference scores for a scikit-learn IsolationForest pickle,
computed WITHOUT scikit-learn (run by tests/iforest with /usr/bin/python3).

The prototype's model (../shared/data/seed/iforest_final.joblib) was saved by
scikit-learn 1.7.2, which Debian does not ship. This script reads it with
joblib's NumpyUnpickler (joblib's inline numpy arrays), whose find_class maps
every scikit-learn class to an inert stub that only records its pickled state
(numpy._core.* is mapped to numpy.core.* for numpy 1.x). It then scores rows
straight from the tree arrays (nodes' left_child, right_child, feature,
threshold, n_node_samples), the way scikit-learn documents IsolationForest:

  x      = (x - scaler.mean_) / scaler.scale_ (if a StandardScaler step), then float32
  h_t(x) = depth of x's leaf in tree t + c(n_node_samples[leaf]),
           going left iff x[feature] <= threshold
  score_samples     = -2 ** (-mean_t h_t(x) / c(max_samples_))
  decision_function = score_samples - offset_;  anomaly iff decision < 0

with c(n) = 2 (ln(n - 1) + euler_gamma) - 2 (n - 1) / n (c(1) = 0, c(2) = 1).

  iforest_seed_reference.py info MODEL.joblib
      Prints JSON: features, threshold, offset, max_samples, n_estimators,
      contamination, sklearn_version, scaler mean/scale.
  iforest_seed_reference.py score MODEL.joblib INPUT.csv OUT.csv
      INPUT.csv has a header with the model's feature names; writes
      score,score_samples,anomaly per row (repr floats).
"""
import csv
import json
import sys

import numpy as np
from joblib.numpy_pickle import NumpyUnpickler


class Stub:
    """Stands in for any scikit-learn class: keeps constructor args and state."""

    def __init__(self, *args):
        self.args = args

    def __setstate__(self, state):
        self.state = state


class Unpickler(NumpyUnpickler):
    def find_class(self, module, name):
        if module.startswith("sklearn."):
            return type(name, (Stub,), {"qualname": module + "." + name})
        if module.startswith("numpy._core"):
            module = "numpy.core" + module[len("numpy._core"):]
        return super().find_class(module, name)


def load(path):
    with open(path, "rb") as f:
        obj = Unpickler(path, f).load()
    features, threshold = None, None
    if isinstance(obj, dict):
        features = obj.get("features")
        threshold = obj.get("threshold")
        obj = obj.get("pipeline", obj.get("model", obj))
    scaler, forest = None, obj
    if obj.qualname == "sklearn.pipeline.Pipeline":
        steps = [s for _, s in obj.state["steps"] if s not in (None, "passthrough")]
        scaler, forest = (steps[0], steps[1]) if len(steps) == 2 else (None, steps[0])
    assert forest.qualname == "sklearn.ensemble._iforest.IsolationForest", forest.qualname
    return scaler, forest, features, threshold


def c(n):
    n = np.asarray(n, dtype=np.float64)
    out = np.zeros_like(n)
    out[n == 2] = 1.0
    big = n > 2
    out[big] = 2.0 * (np.log(n[big] - 1.0) + np.euler_gamma) - 2.0 * (n[big] - 1.0) / n[big]
    return out


def score(scaler, forest, x):
    st = forest.state
    if scaler is not None:
        x = (x - scaler.state["mean_"]) / scaler.state["scale_"]
    x = x.astype(np.float32).astype(np.float64)
    d = x.shape[1]
    total = np.zeros(x.shape[0])
    for est, feats in zip(st["estimators_"], st["estimators_features_"]):
        nodes = est.state["tree_"].state["nodes"]
        left, right = nodes["left_child"], nodes["right_child"]
        feature, thr = nodes["feature"], nodes["threshold"]
        xt = x[:, feats] if st["_max_features"] != d else x
        node = np.zeros(x.shape[0], dtype=np.int64)
        depth = np.zeros(x.shape[0])
        while True:
            internal = left[node] >= 0
            if not internal.any():
                break
            idx = np.flatnonzero(internal)
            n = node[idx]
            go_left = xt[idx, feature[n]] <= thr[n]
            node[idx] = np.where(go_left, left[n], right[n])
            depth[idx] += 1.0
        total += depth + c(nodes["n_node_samples"][node])
    denom = len(st["estimators_"]) * c([st["max_samples_"]])[0]
    ss = -(2.0 ** (-total / denom)) if denom > 0 else np.full(x.shape[0], -0.5)
    dec = ss - float(st["offset_"])
    return ss, dec


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "info":
        scaler, forest, features, threshold = load(sys.argv[2])
        st = forest.state
        print(json.dumps({
            "features": list(features) if features is not None else None,
            "threshold": None if threshold is None else float(threshold),
            "offset": float(st["offset_"]),
            "max_samples": int(st["max_samples_"]),
            "n_estimators": len(st["estimators_"]),
            "contamination": st["contamination"],
            "sklearn_version": st.get("_sklearn_version"),
            "scaler_mean": None if scaler is None else scaler.state["mean_"].tolist(),
            "scaler_scale": None if scaler is None else scaler.state["scale_"].tolist(),
        }))
    elif len(sys.argv) == 5 and sys.argv[1] == "score":
        scaler, forest, features, _ = load(sys.argv[2])
        with open(sys.argv[3]) as f:
            rows = list(csv.DictReader(f))
        d = forest.state["n_features_in_"]
        names = list(features) if features is not None else ["feature_%d" % (j + 1) for j in range(d)]
        x = np.array([[float(r[n]) for n in names] for r in rows], dtype=np.float64).reshape(-1, d)
        ss, dec = score(scaler, forest, x)
        with open(sys.argv[4], "w") as f:
            f.write("score,score_samples,anomaly\n")
            for a, b in zip(dec, ss):
                f.write("%r,%r,%d\n" % (float(a), float(b), 1 if a < 0 else 0))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
