#!/bin/bash
# Does `run --from mqtt://` keep up with N live sensors in real time on one
# core? (issue 15; figures in docs/benchmarks.md, "Issue 15: the unified
# pipeline").
#
#   tools/live_bench.sh [BUILD_DIR] [FORM] [SECONDS] [-- extra run options]
#     FORM: json3 (default; 3 decimals, ~49 kB an event), json (full
#           doubles, ~150 kB), f64, f32, i16 (binary, codec/waveform_binary.h)
#   env: SENSORS (100), PORT (18930), RUN_CPU (1), PUB_CPU (0),
#        SPOOL (on: the subscriber's default spool, in the temp folder; off)
#
# Starts mosquitto on 127.0.0.1:PORT (pinned to PUB_CPU), then
#   machine-health run --from mqtt://127.0.0.1:PORT/plant/+/vib --http off
#     --db TMP/live.db --quiet [extra]            pinned to RUN_CPU (taskset)
# then build/bench/live-pub (pinned to PUB_CPU) publishes SENSORS tri-axial
# sensors in real time: 3 x 2560 samples at 25.6 kHz per sensor every 0.1 s
# (SENSORS x 10 events/s), QoS 1, for SECONDS (60). Once a second the script
# reads the database (sqlite3, pinned to PUB_CPU): windows stored, and the lag
# of the sensor furthest behind (now - the end of its newest stored window).
# After the publisher ends it waits until every window is stored (or 60 s
# pass without progress), stops run (SIGTERM) and prints: windows published
# (events x windows per event) vs stored, the lag while publishing (median,
# largest), the time to drain after the last event, and run's CPU seconds
# per wall second while publishing (1.0 = a whole core).
set -eu
build="${1:-build}"
form="${2:-json3}"
seconds="${3:-60}"
[ $# -ge 3 ] && shift 3 || shift $#
[ "${1:-}" = "--" ] && shift
sensors="${SENSORS:-100}"
port="${PORT:-18930}"
run_cpu="${RUN_CPU:-1}"
pub_cpu="${PUB_CPU:-0}"
spool="${SPOOL:-on}"
bin="$build/machine-health"
pub="$build/bench/live-pub"
for f in "$bin" "$pub"; do
  [ -x "$f" ] || { echo "live_bench: $f not built (cmake --build $build --target machine-health live-pub)" >&2; exit 2; }
done
command -v mosquitto >/dev/null || { echo "live_bench: mosquitto not installed (tools/install-deps.sh)" >&2; exit 2; }
command -v sqlite3 >/dev/null || { echo "live_bench: sqlite3 not installed" >&2; exit 2; }
if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
  echo "live_bench: port $port is taken (PORT=...)" >&2; exit 2
fi

tmp="$(mktemp -d)"
mosq_pid=""; run_pid=""
cleanup() {
  [ -n "$run_pid" ] && kill "$run_pid" 2>/dev/null || true
  [ -n "$mosq_pid" ] && kill "$mosq_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

cat >"$tmp/mosquitto.conf" <<EOF
user root
persistence false
max_queued_messages 100000
max_inflight_messages 100
set_tcp_nodelay true
log_dest stderr
listener $port 127.0.0.1
allow_anonymous true
EOF
taskset -c "$pub_cpu" mosquitto -c "$tmp/mosquitto.conf" >"$tmp/mosquitto.log" 2>&1 &
mosq_pid=$!
i=0
until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
  i=$((i + 1)); [ $i -lt 100 ] || { cat "$tmp/mosquitto.log" >&2; exit 1; }
  sleep 0.05
done

opts="spool=$tmp/spool"
[ "$spool" = off ] && opts="spool=off"
db="$tmp/live.db"
XDG_STATE_HOME="$tmp" taskset -c "$run_cpu" "$bin" run \
  --from "mqtt://127.0.0.1:$port/plant/+/vib?$opts" --http off --db "$db" --quiet "$@" \
  >"$tmp/run.out" 2>"$tmp/run.err" &
run_pid=$!
i=0
until grep -q watching "$tmp/run.out" 2>/dev/null; do
  i=$((i + 1))
  if [ $i -ge 200 ] || ! kill -0 "$run_pid" 2>/dev/null; then
    cat "$tmp/run.out" "$tmp/run.err" >&2; exit 1
  fi
  sleep 0.05
done

cpu_of() {  # utime + stime of pid $1 in clock ticks
  awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}
# windows stored, and the newest t_ns of the sensor furthest behind
stored() {
  taskset -c "$pub_cpu" sqlite3 -readonly "$db" \
    "SELECT (SELECT COUNT(*) FROM scores), COALESCE((SELECT MIN(m) FROM (SELECT MAX(t_ns) m FROM scores GROUP BY machine_id)), 0), (SELECT COUNT(DISTINCT machine_id) FROM scores);" 2>/dev/null || echo "0|0|0"
}

hz=$(getconf CLK_TCK)
cpu0=$(cpu_of "$run_pid")
t0=$(date +%s.%N)
taskset -c "$pub_cpu" "$pub" --to "mqtt://127.0.0.1:$port/plant/{key}/vib?qos=1" \
  --sensors "$sensors" --seconds "$seconds" --form "$form" >"$tmp/pub.out" 2>"$tmp/pub.err" &
pub_pid=$!
: >"$tmp/lags"
while kill -0 "$pub_pid" 2>/dev/null; do
  sleep 1
  now=$(date +%s%N)
  r=$(stored)
  echo "$now|$r" >>"$tmp/lags"
done
wait "$pub_pid" || { cat "$tmp/pub.err" >&2; exit 1; }
t1=$(date +%s.%N)
cpu1=$(cpu_of "$run_pid")
cat "$tmp/pub.out"
events=$(sed -n 's/^live-pub: \([0-9]*\) events.*/\1/p' "$tmp/pub.out")

# Drain: until no progress for 5 s (or 60 s in all).
last=-1; still=0; waited=0
while :; do
  n=$(stored | cut -d'|' -f1)
  if [ "$n" = "$last" ]; then still=$((still + 1)); else still=0; fi
  last=$n
  [ $still -ge 10 ] && break
  waited=$((waited + 1)); [ $waited -ge 120 ] && break
  sleep 0.5
done
t2=$(date +%s.%N)
cpu2=$(cpu_of "$run_pid")
final=$(stored)
kill -TERM "$run_pid"
wait "$run_pid" || true
run_pid=""
summary=$(grep 'stopped' "$tmp/run.out" || true)
[ -n "$summary" ] || { cat "$tmp/run.out" "$tmp/run.err" >&2; }

# windows per event from the run's window option (default 512) and hop
win=512; hop=0; prev=""
for a in "$@"; do
  [ "$prev" = "--window" ] && win=$a
  [ "$prev" = "--hop" ] && hop=$a
  prev=$a
done
[ "$hop" = 0 ] && hop=$win
awk -v events="$events" -v sensors="$sensors" -v win="$win" -v hop="$hop" \
    -v final="$final" -v t0="$t0" -v t1="$t1" -v t2="$t2" \
    -v c0="$cpu0" -v c1="$cpu1" -v c2="$cpu2" -v hz="$hz" -v summary="$summary" '
BEGIN { FS = "|" }
NR == 1 { first = $1 }
{ if ($3 > 0) { lag = ($1 - $3 - win / 25600 * 1e9) / 1e9; lags[n++] = lag; if (lag > worst) { worst = lag; worst_at = ($1 - first) / 1e9 + 1 } } }
END {
  per_event = int((2560 - win) / hop) + 1
  published = events * per_event
  split(final, f, "|")
  # sort lags
  for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (lags[j] < lags[i]) { t = lags[i]; lags[i] = lags[j]; lags[j] = t }
  printf "run: %s\n", summary
  printf "windows: %d published (%d events x %d), %d stored (%.2f%%), %d machines\n", published, events, per_event, f[1], 100 * f[1] / published, f[3]
  if (n > 0) printf "lag of the sensor furthest behind, sampled each second while publishing: median %.2f s, largest %.2f s, %.0f s after the start (%d samples)\n", lags[int(n / 2)], lags[n - 1], worst_at, n
  printf "after the last event: %.1f s until no more windows were stored\n", t2 - t1 - 5
  printf "run CPU while publishing: %.2f s in %.2f s wall = %.3f CPU-seconds per second; with the drain %.2f s\n", (c1 - c0) / hz, t1 - t0, (c1 - c0) / hz / (t1 - t0), (c2 - c0) / hz
}' "$tmp/lags"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
