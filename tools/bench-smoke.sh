#!/bin/sh
# Runs every benchmark binary briefly so that CI notices a broken benchmark.
# Real figures are taken with tools/bench.sh.
set -eu
build="${1:-build}"
for b in "$build"/bench/*_bench; do
  [ -x "$b" ] || continue
  echo "bench-smoke: $b"
  "$b" --benchmark_min_time=0.01 >/dev/null
done
echo "bench-smoke: ok"
