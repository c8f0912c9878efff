#!/bin/sh
# Whole-process `machine-health score` against scikit-learn's in-process
# score_samples on the same rows (issue 14's speed target):
#   tools/score_bench.sh [BUILD_DIR] [ROWS]
# Makes a 200,000 x 6 feature table (17-significant-digit doubles, window_start
# and machine_id key columns) as CSV and as Parquet (machine-health cat --out),
# fits a 200-tree IsolationForest on it (.joblib), times sklearn's
# score_samples in this run (model load excluded, best of 2, one core), then
# `machine-health score` as a whole process with hyperfine (model load, read,
# score, write: everything) for CSV input and for Parquet input (CSV and
# Parquet output; all cores, and Parquet -> CSV on one thread), prints the
# ratios, and the split between reading, scoring and writing (score --timings).
set -eu
build="${1:-build}"
rows="${2:-200000}"
bin="$(cd "$build" && pwd)/machine-health"
root="$(cd "$(dirname "$0")/.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

echo "== $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== input: $rows rows x 6 features; sklearn score_samples (200 trees, in-process)"
sk="$(/usr/bin/python3 "$root/tools/score_bench.py" "$tmp" "$rows" 2 | tail -1)"
echo "$sk"
sk_s="${sk#sklearn_seconds=}"
sk_s="${sk_s%% *}"
sk_cpu="${sk##*cpu_seconds=}"
"$bin" cat "$tmp/features.csv" --out "$tmp/features.parquet"

# The last case is the Parquet -> CSV run on one thread (--threads 1): what
# the threads (score, Parquet decoding, key columns, CSV rendering) bring.
for case in csv:csv:0 parquet:csv:0 parquet:parquet:0 parquet:csv:1; do
  fmt="${case%%:*}"
  rest="${case#*:}"
  out="${rest%%:*}"
  threads="${rest##*:}"
  echo "== machine-health score, $fmt input, $out output, --threads $threads (0 = all $(nproc) cores; whole process)"
  hyperfine --warmup 2 --runs 10 --export-json "$tmp/h-$fmt.json" \
    "$bin score --model $tmp/model.joblib --input $tmp/features.$fmt --out $tmp/scores.$out --threads $threads" \
    >/dev/null 2>&1
  mean="$(/usr/bin/python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['results'][0]; print('%.4f %.4f %.4f %.4f' % (r['mean'], r['stddev'], r['min'], r['user'] + r['system']))" "$tmp/h-$fmt.json")"
  set -- $mean
  echo "load average $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "whole process: mean $1 s (sd $2, min $3), CPU (user+sys) $4 s"
  /usr/bin/python3 -c "import sys; sk=float(sys.argv[1]); m=float(sys.argv[2]); n=int(sys.argv[4]); print('rows/s %.0f; sklearn %.0f rows/s; ratio %.1fx (mean), %.1fx (best); CPU ratio %.1fx' % (n/m, n/sk, sk/m, sk/float(sys.argv[3]), float(sys.argv[5])/float(sys.argv[6])))" "$sk_s" "$1" "$3" "$rows" "$sk_cpu" "$4"
  for i in 1 2 3; do
    "$bin" score --model "$tmp/model.joblib" --input "$tmp/features.$fmt" --out "$tmp/scores.$out" \
      --threads "$threads" --timings 2>&1 | grep timings
  done
done

"$bin" score --model "$tmp/model.joblib" --input "$tmp/features.csv" --out "$tmp/scores.csv"
echo "== exactness: machine-health score_samples against sklearn's (max abs difference)"
/usr/bin/python3 -c "
import sys, numpy as np
a = np.load(sys.argv[1])
b = np.genfromtxt(sys.argv[2], delimiter=',', names=True, dtype=None, encoding='utf-8')['score_samples']
print('max |diff| = %.3g over %d rows' % (np.max(np.abs(a - b)), len(a)))
" "$tmp/sklearn_score_samples.npy" "$tmp/scores.csv"
