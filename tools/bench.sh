#!/bin/sh
# Throughput and memory of the embedded pipeline, as reported in issue notes.
#   tools/bench.sh [BUILD_DIR]
# For 4 and 100 machines: `run` on ONE worker thread as fast as possible
# (--speed 0) for 60 simulated seconds with learning, storage and no HTTP.
# "machine-seconds per second" is how many 25.6 kHz tri-axial machines one
# core keeps up with in real time; the same with 2 threads and with the full
# feature set; the split of run's CPU time by stage (tools/stage_split.sh,
# needs perf). Then the Google Benchmark micro benchmarks,
# and batch `score` against scikit-learn (tools/score_bench.sh).
set -eu
build="${1:-build}"
bin="$build/machine-health"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
for n in 4 100; do
  echo "== run: $n machines, 1 thread, 60 s simulated, speed 0 (max)"
  "$bin" run --machines "$n" --threads 1 --speed 0 --duration 60s --http off \
    --db "$tmp/bench-$n.db" --quiet | tail -1
done
echo "== run: 100 machines, 2 threads, 60 s simulated, speed 0 (max)"
"$bin" run --machines 100 --threads 2 --speed 0 --duration 60s --http off \
  --db "$tmp/bench-100t2.db" --quiet | tail -1
echo "== run: 100 machines, full feature set, 1 thread, 60 s simulated, speed 0 (max)"
"$bin" run --machines 100 --threads 1 --set full --speed 0 --duration 60s --http off \
  --db "$tmp/bench-100full.db" --quiet | tail -1
echo "== run: split of the CPU time by stage (tools/stage_split.sh, perf)"
"$(dirname "$0")/stage_split.sh" "$build"
for b in "$build"/bench/*_bench; do
  [ -x "$b" ] || continue
  echo "== $(basename "$b")"
  "$b" --benchmark_min_time=0.2
done
echo "== score: whole process against scikit-learn (tools/score_bench.sh)"
"$(dirname "$0")/score_bench.sh" "$build"
