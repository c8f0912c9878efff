#!/usr/bin/python3
"""The plain approach of issue 15, as a yardstick for `machine-health evaluate`:
numpy time features (rms, peak, crest, kurtosis, skewness per channel) and
log band energies (0-200, 200-1000, 1000-5000, 5000-fs/2 Hz, Hann window),
one scikit-learn StandardScaler + IsolationForest (100 trees, seed 0) per
machine fitted on its learn rows, threshold at the 0.5th percentile of the
training scores, alarm when 3 of the last 5 windows are anomalous, cleared
after 5 normal ones. Reads the same manifests (eval/*.csv) and prints the
figures evaluate prints, as a markdown table.

    /usr/bin/python3 tools/eval_plain_reference.py [--window 2560] eval/femto.csv ...
"""
import argparse
import csv
import os

import numpy as np
import pandas as pd
from sklearn.ensemble import IsolationForest
from sklearn.preprocessing import StandardScaler


def features(x, fs, window):
    rows = []
    f = np.fft.rfftfreq(window, 1 / fs)
    bands = [(0, 200), (200, 1000), (1000, 5000), (5000, fs / 2)]
    for s in range(0, x.shape[0] - window + 1, window):
        w = x[s:s + window]
        row = []
        for c in range(w.shape[1]):
            v = w[:, c]
            d = v - v.mean()
            m2 = (d * d).mean()
            rms = np.sqrt((v * v).mean())
            peak = np.abs(v).max()
            row += [rms, peak, peak / rms, (d ** 4).mean() / m2 ** 2, (d ** 3).mean() / m2 ** 1.5]
            p = np.abs(np.fft.rfft(d * np.hanning(window))) ** 2
            row += [np.log(p[(f >= lo) & (f < hi)].sum() + 1e-12) for lo, hi in bands]
        rows.append(row)
    return np.array(rows)


def evaluate(manifest, window):
    base = os.path.dirname(manifest)
    with open(manifest, newline="") as fh:
        rows = list(csv.DictReader(fh))
    out = []
    for machine in dict.fromkeys(r["machine"] for r in rows):
        mine = sorted((r for r in rows if r["machine"] == machine), key=lambda r: int(r["seq"]))
        learn, watch = [], []
        for r in mine:
            x = pd.read_csv(os.path.join(base, r["file"]))[r["channels"].split(";")].values
            if r["sample_range"]:
                a, b = r["sample_range"].split(":")
                x = x[int(a or 0):int(b) if b else None]
            F = features(x, float(r["fs_hz"]), window)
            (learn if r["role"] == "learn" else watch).append((r, F))
        X = np.vstack([F for _, F in learn])
        sc = StandardScaler().fit(X)
        clf = IsolationForest(n_estimators=100, random_state=0).fit(sc.transform(X))
        thr = np.percentile(clf.score_samples(sc.transform(X)), 0.5)
        hist, alarm, normals = [], False, 0
        n_norm = n_norm_alarm = n_norm_flag = false_alarms = alarms = 0
        first = None
        for r, F in watch:
            for flag in clf.score_samples(sc.transform(F)) < thr:
                if not alarm:
                    hist = (hist + [flag])[-5:]
                    if sum(hist) >= 3:
                        alarm, normals, hist = True, 0, []
                        alarms += 1
                        false_alarms += r["truth"] == "normal"
                        first = first or r["seq"]
                else:
                    normals = 0 if flag else normals + 1
                    if normals >= 5:
                        alarm = False
                if r["truth"] == "normal":
                    n_norm += 1
                    n_norm_flag += flag
                    n_norm_alarm += alarm
        out.append((machine, n_norm_flag / max(n_norm, 1), n_norm_alarm / max(n_norm, 1),
                    false_alarms, alarms, first))
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--window", type=int, default=2560)
    p.add_argument("manifests", nargs="+")
    a = p.parse_args()
    print("| machine | normal flagged | normal in alarm | alarms on normal files | alarms | first alarm (seq) |")
    print("| --- | --- | --- | --- | --- | --- |")
    for m in a.manifests:
        for machine, nf, na, fa, al, first in evaluate(m, a.window):
            print(f"| {machine} | {nf:.1%} | {na:.1%} | {fa} | {al} | {first or '-'} |")


if __name__ == "__main__":
    main()
