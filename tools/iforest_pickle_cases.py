#!/usr/bin/python3
"""Reference data for the pickle import tests (run by tests/iforest with /usr/bin/python3).

Fits scikit-learn models (Debian's sklearn) in several configurations, saves
them with joblib.dump (pickle protocols 2-5) or pickle.dump in every shape
machine-health imports (bare IsolationForest, Pipeline, the prototype's dict
shapes), and writes OUT_DIR/cases.json:

  {"sklearn_version": ..., "cases": [{"name", "file", "features" (expected
   names), "threshold" (or null), "rows", "score_samples",
   "decision_function", "predict"}, ...]}

where the scores are sklearn's own on fresh rows (including rows placed on
split thresholds and rows exactly on the offset), and
  "compressed": [{"name", "file", "of" (the case saved), "compress" (joblib's
   argument, as text), "score_samples" (of the file loaded back by joblib)}]
the second case saved again with every compression joblib offers without
extra packages (zlib, gzip, bz2, lzma, xz; by argument and by file name).
With --small, writes only a few tiny models (for the fuzz corpus).

usage: iforest_pickle_cases.py OUT_DIR [--small]
"""
import json
import os
import pickle
import sys
import warnings

import joblib
import numpy as np
import pandas as pd
import sklearn
from sklearn.ensemble import IsolationForest
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from iforest_sklearn_export import make_data, test_rows, threshold_rows  # noqa: E402

# name, n, d, IsolationForest kwargs, shape, how to save, data kind
CASES = [
    ("bare_auto_p4", 600, 6, dict(n_estimators=60), "bare", "joblib4", "gauss"),
    ("pipeline_c003_p4", 500, 6, dict(n_estimators=50, contamination=0.03), "pipeline", "joblib4",
     "gauss"),
    ("dict_pipeline_features_threshold", 400, 6, dict(n_estimators=40, contamination=0.05),
     "dict_pipeline", "joblib4", "gauss"),
    ("dict_model_pipeline_p2", 300, 5, dict(n_estimators=30, max_samples=0.5), "dict_model",
     "joblib2", "gauss"),
    ("dict_model_bare_p3", 300, 4, dict(n_estimators=30, max_samples=100), "dict_model_bare",
     "joblib3", "gauss"),
    ("dict_scaler_clf_p5", 400, 8, dict(n_estimators=40, max_features=0.5, bootstrap=True),
     "dict_scaler_clf", "joblib5", "gauss"),
    ("dataframe_names_p4", 400, 3, dict(n_estimators=30, contamination=0.03), "pipeline_df",
     "joblib4", "gauss"),
    ("pickle_p2_bare", 300, 3, dict(n_estimators=20, max_features=2), "bare", "pickle2", "gauss"),
    ("pickle_p5_pipeline", 300, 4, dict(n_estimators=20), "pipeline", "pickle5", "gauss"),
    ("random_state_object", 300, 2, dict(n_estimators=20), "bare_rs", "joblib4", "gauss"),
    ("d40_all_options", 600, 40,
     dict(n_estimators=30, max_features=0.3, contamination=0.03, bootstrap=True, max_samples=200),
     "pipeline", "joblib4", "gauss"),
    ("one_feature", 200, 1, dict(n_estimators=20), "bare", "joblib4", "gauss"),
    ("discrete_constant_column", 400, 4, dict(n_estimators=30, max_samples=64), "dict_pipeline",
     "joblib4", "discrete"),
]

SMALL = [
    ("small_bare_p4", 40, 2, dict(n_estimators=2, max_samples=8), "bare", "joblib4", "gauss"),
    ("small_dict_p2", 40, 2, dict(n_estimators=2, max_samples=8), "dict_pipeline", "joblib2",
     "gauss"),
    ("small_scaler_clf_p5", 40, 3, dict(n_estimators=2, max_samples=8, max_features=2),
     "dict_scaler_clf", "joblib5", "gauss"),
    ("small_pickle_p2", 40, 2, dict(n_estimators=1, max_samples=4), "bare", "pickle2", "gauss"),
    ("small_pickle_p5_df", 40, 2, dict(n_estimators=1, max_samples=4), "pipeline_df", "pickle5",
     "gauss"),
]


def build(seed, n, d, kwargs, shape, kind):
    rng = np.random.default_rng(seed)
    x, scales, centers = make_data(rng, n, d, kind)
    names = ["f%d" % j for j in range(d)]
    random_state = np.random.RandomState(seed) if shape == "bare_rs" else seed
    forest = IsolationForest(random_state=random_state, **kwargs)
    scaler = None
    threshold = None
    expected_names = ["feature_%d" % (j + 1) for j in range(d)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if shape in ("bare", "bare_rs", "dict_model_bare"):
            model = forest.fit(x)
            obj = {"model": model} if shape == "dict_model_bare" else model
        elif shape == "dict_scaler_clf":
            scaler = StandardScaler().fit(x)
            forest.fit(scaler.transform(x))
            model = make_pipeline(scaler, forest)
            obj = {"scaler": scaler, "clf": forest}
        elif shape == "pipeline_df":
            model = Pipeline([("scaler", StandardScaler()), ("iforest", forest)])
            model.fit(pd.DataFrame(x, columns=["col_%d" % j for j in range(d)]))
            scaler = model[0]
            obj = model
            expected_names = ["col_%d" % j for j in range(d)]
        else:
            model = Pipeline([("scaler", StandardScaler()), ("iforest", forest)]).fit(x)
            scaler = model[0]
            obj = model
            if shape == "dict_model":
                obj = {"model": model}
            elif shape == "dict_pipeline":
                threshold = np.percentile(-model.score_samples(x), 95)
                obj = {"pipeline": model, "features": names, "threshold": threshold}
                expected_names = names
    rows = test_rows(rng, 100, d, scales, centers, kind)
    rows = np.vstack([rows, threshold_rows(rng, forest, scaler, rows, 15)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        train_dec = model.decision_function(pd.DataFrame(x, columns=expected_names)
                                            if shape == "pipeline_df" else x)
        rows = np.vstack([rows, x[train_dec == 0.0]])
        feed = pd.DataFrame(rows, columns=expected_names) if shape == "pipeline_df" else rows
        ss = model.score_samples(feed)
        df = model.decision_function(feed)
        pred = model.predict(feed)
    return obj, expected_names, threshold, rows, ss, df, pred


def save(obj, path, how):
    if how.startswith("joblib"):
        joblib.dump(obj, path, protocol=int(how[-1]))
    else:
        with open(path, "wb") as f:
            pickle.dump(obj, f, protocol=int(how[-1]))


# joblib.dump's compress argument (None: chosen by the file name's extension),
# file name suffix.
COMPRESSIONS = [
    (3, "_zlib3.joblib"),
    (("zlib", 9), "_zlib9.joblib"),
    (("gzip", 3), "_gzip3.joblib"),
    (("bz2", 3), "_bz2_3.joblib"),
    (("lzma", 3), "_lzma3.joblib"),
    (("xz", 3), "_xz3.joblib"),
    (None, ".joblib.gz"),
    (None, ".joblib.bz2"),
    (None, ".joblib.xz"),
    (None, ".joblib.lzma"),
    (None, ".joblib.z"),
]


def save_compressed(obj, out_dir, name, rows):
    entries = []
    for compress, suffix in COMPRESSIONS:
        path = os.path.join(out_dir, name + suffix)
        if compress is None:
            joblib.dump(obj, path)
        else:
            joblib.dump(obj, path, compress=compress)
        loaded = joblib.load(path)
        if isinstance(loaded, dict):
            loaded = loaded.get("pipeline", loaded.get("model", loaded))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ss = loaded.score_samples(rows)
        entries.append({"name": name + suffix, "file": path, "of": name,
                        "compress": repr(compress), "score_samples": ss.tolist()})
    return entries


def main():
    if len(sys.argv) not in (2, 3) or (len(sys.argv) == 3 and sys.argv[2] != "--small"):
        sys.exit(__doc__)
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    cases = []
    compressed = []
    for i, (name, n, d, kwargs, shape, how, kind) in enumerate(SMALL if len(sys.argv) == 3 else CASES):
        obj, names, threshold, rows, ss, df, pred = build(2000 + i, n, d, kwargs, shape, kind)
        path = os.path.join(out_dir, name + ".joblib")
        save(obj, path, how)
        cases.append({
            "name": name, "file": path, "features": names,
            "threshold": None if threshold is None else float(threshold),
            "rows": rows.tolist(), "score_samples": ss.tolist(),
            "decision_function": df.tolist(), "predict": pred.tolist(),
        })
        if i == 1:  # a Pipeline (a dict of one with --small)
            compressed = save_compressed(obj, out_dir, name, rows)
    with open(os.path.join(out_dir, "cases.json"), "w") as f:
        json.dump({"sklearn_version": sklearn.__version__, "cases": cases,
                   "compressed": compressed}, f)


if __name__ == "__main__":
    main()
