#!/bin/sh
# Throughput and memory of the embedded pipeline, as reported in issue notes.
#   tools/bench.sh [BUILD_DIR]
# For 4 and 100 machines: `run` on ONE worker thread as fast as possible
# (--speed 0) for 60 simulated seconds with learning, storage and no HTTP.
# "machine-seconds per second" is how many 25.6 kHz tri-axial machines one
# core keeps up with in real time (run also prints it without the simulators'
# own CPU time: what real sensors would cost); the same with 2 threads and with the full
# feature set; the split of run's CPU time by stage (tools/stage_split.sh,
# needs perf). Then the Google Benchmark micro benchmarks,
# and batch `score` against scikit-learn (tools/score_bench.sh).
set -eu
build="${1:-build}"
bin="$build/machine-health"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# ---- dashboard speed (issue 17): `tools/bench.sh BUILD_DIR --dashboard` runs only this block.
# The three figures: /api/machines of 500 machines and one day's score series
# (864,000 windows at 10/s, max=2000) on the server (bench/http_bench), and the
# machine page in headless Chromium (tools/dashboard_timing.js) over the same store.
dashboard_bench() {
  echo "== dashboard: overview of 500 machines, a day of one machine's series (http_bench)"
  MH_BENCH_DB="$tmp/dash.db" "$build/bench/http_bench" \
    --benchmark_filter='BM_Overview|BM_DaySeries' --benchmark_min_time=1
  echo "== dashboard: machine page in headless Chromium (tools/dashboard_timing.js)"
  port=18$(( $$ % 900 + 100 ))
  "$bin" serve --db "$tmp/dash.db" --http "127.0.0.1:$port" >"$tmp/serve.log" 2>&1 &
  serve_pid=$!
  i=0
  until curl -sf "http://127.0.0.1:$port/healthz" >/dev/null; do
    i=$((i + 1)); [ "$i" -lt 100 ] || { kill "$serve_pid"; echo "serve did not start" >&2; return 1; }
    sleep 0.1
  done
  rc=0
  node "$(dirname "$0")/dashboard_timing.js" "http://127.0.0.1:$port/" day 24h 5 || rc=$?
  kill "$serve_pid"; wait "$serve_pid" 2>/dev/null || true
  return "$rc"
}
if [ "${2:-}" = "--dashboard" ]; then dashboard_bench; exit 0; fi
# ---- end of the dashboard block
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
