#!/usr/bin/python3
"""Reference data for the iforest parity tests (run by tests/iforest with /usr/bin/python3).

Fits scikit-learn IsolationForest models (some behind a StandardScaler in a
Pipeline) on synthetic data for several configurations, and writes one JSON
document: {"sklearn_version": ..., "cases": [case, ...]}. Each case holds the
fitted model in the layout read by iforest/sklearn_json.h (feature_names,
scaler, max_samples, offset, estimators_features, trees) plus test rows
("rows") and sklearn's "score_samples", "decision_function" and "predict" for
them. "n_at_threshold" counts rows whose decision_function is exactly 0.

usage: iforest_sklearn_export.py OUT.json
"""
import json
import sys
import warnings

import numpy as np
import sklearn
from sklearn.ensemble import IsolationForest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def make_data(rng, n, d, kind):
    scales = rng.uniform(0.1, 50.0, size=d)
    centers = rng.uniform(-100.0, 100.0, size=d)
    x = rng.normal(size=(n, d)) * scales + centers
    if kind == "discrete":
        x = np.round(x / scales) * scales  # many ties: constant features at nodes
        x[:, 0] = 7.0                       # a constant column
    return x, scales, centers


def test_rows(rng, n, d, scales, centers, kind):
    inl = rng.normal(size=(n, d)) * scales + centers
    outl = rng.normal(size=(max(4, n // 10), d)) * scales * 6.0 + centers
    rows = np.vstack([inl, outl, centers[None, :] + 1e6, centers[None, :] - 1e6])
    if kind == "discrete":
        rows[: n // 2] = np.round(rows[: n // 2] / scales) * scales
        rows[: n // 4, 0] = 7.0
    return rows


def threshold_rows(rng, forest, scaler, rows, count):
    """Rows with one feature placed exactly on (and next to) split thresholds,
    where the float32 cast of the input decides the branch."""
    out = []
    for _ in range(count):
        t = int(rng.integers(len(forest.estimators_)))
        tree = forest.estimators_[t].tree_
        internal = np.flatnonzero(tree.children_left >= 0)
        if internal.size == 0:
            continue
        node = int(rng.choice(internal))
        local = int(tree.feature[node])
        feats = forest.estimators_features_[t]
        f = int(feats[local]) if forest._max_features != rows.shape[1] else local
        thr = float(tree.threshold[node])
        for v in (thr, float(np.float32(thr)), float(np.nextafter(np.float32(thr), np.float32(np.inf))),
                  float(np.nextafter(thr, -np.inf))):
            r = rows[int(rng.integers(len(rows)))].copy()
            r[f] = v * scaler.scale_[f] + scaler.mean_[f] if scaler is not None else v
            out.append(r)
    return np.array(out)


CONFIGS = [
    # name, n, d, IsolationForest kwargs, pipeline?, data kind
    ("auto_d6", 1000, 6, dict(n_estimators=100), False, "gauss"),
    ("contamination003_pipeline_d6", 301, 6, dict(n_estimators=60, contamination=0.03), True, "gauss"),
    ("max_samples_int_d3", 500, 3, dict(n_estimators=50, max_samples=100), False, "gauss"),
    ("max_samples_frac_pipeline_d10", 400, 10, dict(n_estimators=50, max_samples=0.5), True, "gauss"),
    ("max_features_frac_pipeline_d8", 600, 8, dict(n_estimators=60, max_features=0.5), True, "gauss"),
    ("bootstrap_d5", 500, 5, dict(n_estimators=50, bootstrap=True), False, "gauss"),
    ("one_feature", 300, 1, dict(n_estimators=40), False, "gauss"),
    ("d40_all_options", 800, 40,
     dict(n_estimators=40, max_features=0.3, contamination=0.03, bootstrap=True, max_samples=200),
     True, "gauss"),
    ("discrete_constant_column_d4", 500, 4, dict(n_estimators=50, max_samples=64), False, "discrete"),
    ("max_features_int_d6", 500, 6, dict(n_estimators=50, max_features=2), False, "gauss"),
    ("max_samples_above_n", 50, 3, dict(n_estimators=30, max_samples=1000, contamination=0.1), True,
     "gauss"),
]


def export_case(seed, name, n, d, kwargs, pipeline, kind):
    rng = np.random.default_rng(seed)
    x, scales, centers = make_data(rng, n, d, kind)
    forest = IsolationForest(random_state=seed, **kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if pipeline:
            model = make_pipeline(StandardScaler(), forest).fit(x)
            scaler = model[0]
        else:
            model = forest.fit(x)
            scaler = None
    rows = test_rows(rng, 200, d, scales, centers, kind)
    rows = np.vstack([rows, threshold_rows(rng, forest, scaler, rows, 25)])
    # Training rows that sit exactly on the contamination offset (decision 0).
    train_dec = model.decision_function(x)
    rows = np.vstack([rows, x[train_dec == 0.0]])
    sub = forest._max_features != d
    case = {
        "name": name,
        "feature_names": ["f%d" % j for j in range(d)],
        "scaler": None if scaler is None else {"mean": scaler.mean_.tolist(),
                                               "scale": scaler.scale_.tolist()},
        "max_samples": int(forest.max_samples_),
        "offset": float(forest.offset_),
        "estimators_features": [[int(f) for f in fs] for fs in forest.estimators_features_] if sub else [],
        "trees": [{
            "children_left": e.tree_.children_left.tolist(),
            "children_right": e.tree_.children_right.tolist(),
            "feature": e.tree_.feature.tolist(),
            "threshold": e.tree_.threshold.tolist(),
            "n_node_samples": e.tree_.n_node_samples.tolist(),
        } for e in forest.estimators_],
        "rows": rows.tolist(),
        "score_samples": model.score_samples(rows).tolist(),
        "decision_function": model.decision_function(rows).tolist(),
        "predict": model.predict(rows).tolist(),
    }
    case["n_at_threshold"] = int(np.sum(np.array(case["decision_function"]) == 0.0))
    return case


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    cases = [export_case(1000 + i, *c) for i, c in enumerate(CONFIGS)]
    with open(sys.argv[1], "w") as f:
        json.dump({"sklearn_version": sklearn.__version__, "cases": cases}, f)


if __name__ == "__main__":
    main()
