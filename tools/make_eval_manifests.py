#!/usr/bin/python3
"""Writes the evaluation manifests eval/*.csv from the shared recordings'
index.csv and README files (../shared/data), for `machine-health evaluate`.

    /usr/bin/python3 tools/make_eval_manifests.py [--data ../shared/data] [--out eval]

Rules (docs/evaluation.md):
- FEMTO: one machine per run; snapshots in the first 25 % of life learn, the
  rest are watched; truth is `fault` from the degradation onset snapshot the
  README's onset table gives (the number after the first "≈" of the run's
  row), `normal` before.
- CWRU (48 kHz drive end only: the 12 kHz fault files have no normal record
  at that rate): the normal record's first half learns, its second half is
  watched as normal, every fault file is watched as fault.
- HIT-SM: Normal_900's first half learns, its second half is watched as
  normal; every inner- and outer-race file is watched as fault.
- IMS test 1: one machine per bearing (its x and y channels); the first
  snapshot learns, the others are watched as normal.
"""
import argparse
import csv
import os
import re
import sys

COLUMNS = ["file", "machine", "seq", "fs_hz", "channels", "rpm", "bearing", "sample_range",
           "role", "truth"]


def read_index(data, name):
    with open(os.path.join(data, name, "index.csv"), newline="") as f:
        return list(csv.DictReader(f))


def write(out, name, rows, data):
    path = os.path.join(out, name)
    rel = os.path.relpath(data, out)
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, COLUMNS, lineterminator="\n")
        w.writeheader()
        for r in rows:
            r = dict(r)
            r["file"] = os.path.join(rel, r["file"]).replace(os.sep, "/")
            w.writerow(r)
    print(f"{path}: {len(rows)} rows")


def femto_onsets(data):
    """{run: onset snapshot} from the README's degradation-onset table."""
    onsets = {}
    with open(os.path.join(data, "femto", "README.md"), encoding="utf-8") as f:
        text = f.read()
    section = text.split("### Degradation onset", 1)[1]
    for line in section.splitlines():
        m = re.match(r"\|\s*(Bearing\d_\d)\s*\|[^|]*\|\s*≈\s*(\d+)", line)
        if m:
            onsets[m.group(1)] = int(m.group(2))
    return onsets


def femto(data):
    onsets = femto_onsets(data)
    rows = []
    for r in read_index(data, "femto"):
        run = r["bearing"]
        if run not in onsets:
            sys.exit(f"femto/README.md: no onset for {run}")
        snap = int(r["snapshot"])
        rows.append({
            "file": "femto/" + r["file"], "machine": run, "seq": snap, "fs_hz": r["fs_hz"],
            "channels": "acc_horizontal_g;acc_vertical_g", "rpm": r["rpm"], "bearing": "femto",
            "sample_range": "",
            "role": "learn" if float(r["life_fraction"]) < 0.25 else "watch",
            "truth": "fault" if snap >= onsets[run] else "normal"})
    rows.sort(key=lambda x: (x["machine"], x["seq"]))
    return rows


def halves(data, name, normal_match, fault_ok, machine, channel, bearing, rpm_key):
    index = read_index(data, name)
    rows = []
    for r in index:
        if not normal_match(r):
            continue
        n = int(r["rows"])
        for seq, (rng, role) in enumerate([(f"0:{n // 2}", "learn"), (f"{n // 2}:{n}", "watch")]):
            rows.append({"file": f"{name}/" + r["file"], "machine": machine, "seq": seq + 1,
                         "fs_hz": r["fs_hz"], "channels": channel, "rpm": r[rpm_key],
                         "bearing": bearing, "sample_range": rng, "role": role,
                         "truth": "normal"})
    if len(rows) != 2:
        sys.exit(f"{name}/index.csv: expected one normal record")
    seq = 3
    for r in index:
        if r["label"] == "fault" and fault_ok(r):
            rows.append({"file": f"{name}/" + r["file"], "machine": machine, "seq": seq,
                         "fs_hz": r["fs_hz"], "channels": channel, "rpm": r[rpm_key],
                         "bearing": bearing, "sample_range": "", "role": "watch",
                         "truth": "fault"})
            seq += 1
    return rows


def ims(data):
    rows = []
    test1 = [r for r in read_index(data, "ims") if r["test"] == "1"]
    test1.sort(key=lambda r: r["timestamp"])
    for b in range(1, 5):
        for seq, r in enumerate(test1, start=1):
            rows.append({"file": "ims/" + r["file"], "machine": f"ims-test1-bearing{b}", "seq": seq,
                         "fs_hz": r["fs_hz"], "channels": f"bearing{b}_x;bearing{b}_y",
                         "rpm": 2000, "bearing": "za2115", "sample_range": "",
                         "role": "learn" if seq == 1 else "watch", "truth": "normal"})
    return rows


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=os.path.join(here, "..", "..", "shared", "data"))
    p.add_argument("--out", default=os.path.join(here, "..", "eval"))
    a = p.parse_args()
    data = os.path.abspath(a.data)
    if not os.path.isdir(data):
        sys.exit(f"{data}: not found (the shared recordings, ../shared/data)")
    os.makedirs(a.out, exist_ok=True)
    write(a.out, "femto.csv", femto(data), data)
    write(a.out, "cwru.csv",
          halves(data, "cwru", lambda r: r["label"] == "normal" and r["fs_hz"] == "48000",
                 lambda r: r["fs_hz"] == "48000", "cwru-de-48k", "DE_accel", "6205",
                 "rpm_nominal"), data)
    write(a.out, "hit-sm.csv",
          halves(data, "hit-sm", lambda r: r["label"] == "normal" and r["rpm"] == "900",
                 lambda r: r["fault_location"] in ("inner_race", "outer_race"), "hit-sm-900",
                 "accel", "6205", "rpm"), data)
    write(a.out, "ims.csv", ims(data), data)


if __name__ == "__main__":
    main()
