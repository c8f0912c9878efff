#!/bin/sh
# Feature extraction speed against numpy, same machine, same run, one core.
#
#   tools/features_bench.sh [BUILD_DIR]     (default: build)
#
# Runs bench/features_bench (BM_BasicFeatures/2560, BM_FullFeatures/2560:
# 3 channels of 2560 samples at 25.6 kHz) and tools/features_bench_numpy.py
# (the vectorised numpy formulation: 256 windows as one 2-D array), both
# pinned to CPU 0 when taskset exists, and prints samples/s and the ratios.
# Aims (issue 3): basic >= 2x numpy, full >= 1x numpy.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
BENCH=$BUILD/bench/features_bench
PY=/usr/bin/python3
[ -x "$BENCH" ] || { echo "features_bench.sh: $BENCH not built" >&2; exit 1; }
PIN=""
command -v taskset >/dev/null 2>&1 && PIN="taskset -c 0"
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
$PIN "$BENCH" --benchmark_filter='BM_(Basic|Full)Features/2560$' --benchmark_repetitions=5 \
  --benchmark_format=json >"$TMP/ours.json"
$PIN $PY "$ROOT/tools/features_bench_numpy.py" >"$TMP/numpy.txt"
$PY - "$TMP/ours.json" "$TMP/numpy.txt" <<'PYEOF'
import json
import sys

ours = {}
for b in json.load(open(sys.argv[1]))["benchmarks"]:
    if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
        continue
    name = "basic" if "Basic" in b["name"] else "full"
    ours.setdefault(name, []).append(b["items_per_second"])
numpy = {}
for line in open(sys.argv[2]):
    key, value = line.split()
    numpy[key.replace("numpy_", "")] = float(value)
aims = {"basic": 2.0, "full": 1.0}
for name in ("basic", "full"):
    mine = max(ours[name])
    ratio = mine / numpy[name]
    verdict = "ok" if ratio >= aims[name] else "BELOW AIM"
    print(f"{name:5s}  ours {mine / 1e6:8.2f} M samples/s  numpy {numpy[name] / 1e6:8.2f} M samples/s"
          f"  ratio {ratio:5.2f}  (aim >= {aims[name]:.0f}x: {verdict})")
PYEOF
