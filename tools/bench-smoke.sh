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
# The end-to-end streaming bench (real mock Kafka, influxd, victoria-metrics),
# with tiny counts: ~40 s.
if [ -x "$build/bench/stream-bench" ]; then
  echo "bench-smoke: $build/bench/stream-bench"
  "$build/bench/stream-bench" --events 2000 --feature-rounds 2 --waveform-events 200 \
    --latency-seconds 1 --latency-rate 2000 --prototype-events 100 >/dev/null
fi
echo "bench-smoke: ok"
