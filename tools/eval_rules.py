#!/usr/bin/python3
"""Compares threshold rules (and windows) with `machine-health evaluate` on
the manifests in eval/, against the floor of issue 15, and prints a markdown
table for docs/evaluation.md.

    /usr/bin/python3 tools/eval_rules.py [--binary build/machine-health] [--quick]

A configuration passes a machine when:
- FEMTO: no alarm opens on a file before the README's onset and the machine
  is never in alarm there; an alarm is open before the last snapshot and at
  the end;
- CWRU, HIT-SM: every fault file ends in alarm; the normal half is never in
  alarm;
- IMS: no alarm on the healthy test-1 snapshots.
"""
import argparse
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
MANIFESTS = ["femto", "cwru", "hit-sm", "ims"]


def run(binary, manifest, args):
    p = subprocess.run([binary, "evaluate", "--manifest", os.path.join(ROOT, "eval", manifest + ".csv"),
                        "--json", "-"] + args, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(p.stderr)
    return json.loads(p.stdout[p.stdout.index('{"machines"'):])


def judge(manifest, m):
    files = m["files"]
    if manifest == "femto":
        before_end = any(f["truth"] == "fault" and f["in_alarm_at_end"] for f in files[:-1])
        return (m["false_alarms"] == 0 and m["normal_alarm_share"] == 0 and before_end
                and files[-1]["in_alarm_at_end"])
    faults = [f for f in files if f["truth"] == "fault"]
    return all(f["in_alarm_at_end"] for f in faults) and m["normal_alarm_share"] == 0


def evaluate(binary, args):
    cells, passed, total = [], 0, 0
    for manifest in MANIFESTS:
        for m in run(binary, manifest, args)["machines"]:
            ok = judge(manifest, m)
            passed += ok
            total += 1
            first = m["first_alarm_seq"]
            cells.append(("ok" if ok else "**fail**") +
                         (f" {first}" if manifest == "femto" and first is not None else ""))
    return passed, total, cells


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--binary", default=os.path.join(ROOT, "build", "machine-health"))
    p.add_argument("--quick", action="store_true", help="only the default window")
    a = p.parse_args()
    rules = [["--threshold", "auto"],
             ["--threshold", "quantile", "--threshold-q", "0.005"],
             ["--threshold", "quantile-margin", "--threshold-margin", "0.01"],
             ["--threshold", "quantile-margin", "--threshold-margin", "0.02"],
             ["--threshold", "quantile-margin", "--threshold-margin", "0.03"],
             ["--threshold", "quantile-margin", "--threshold-margin", "0.05"],
             ["--threshold", "robust-z", "--threshold-z", "3"],
             ["--threshold", "robust-z", "--threshold-z", "4"]]
    windows = [["--window", "512"]] if a.quick else [["--window", "512"], ["--window", "1024"],
                                                      ["--window", "2560"]]
    configs = [w + r + c for w in windows for c in (["--calibration-folds", "5"],
                                                    ["--calibration-folds", "0"]) for r in rules]
    names = [m["machine"] for manifest in MANIFESTS
             for m in run(a.binary, manifest, [])["machines"]]
    print("| options | passed | " + " | ".join(names) + " |")
    print("| --- | --- | " + " | ".join("---" for _ in names) + " |")
    with ThreadPoolExecutor(2) as ex:
        for args, (passed, total, cells) in zip(configs, ex.map(lambda c: evaluate(a.binary, c),
                                                                 configs)):
            print(f"| `{' '.join(args)}` | {passed}/{total} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
