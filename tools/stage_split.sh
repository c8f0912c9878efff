#!/bin/sh
# Where `run` spends its CPU time, by pipeline stage, from a perf profile with
# DWARF call graphs (inclusive time of each stage's entry function).
#   tools/stage_split.sh [BUILD_DIR] [RUN OPTIONS...]
# Default run: 20 machines, 1 worker thread, 20 s simulated (5 s learning, so
# that the scores, alarms and the end of learning are in the profile), basic
# set, store on, no HTTP. Needs perf (Debian: linux-perf); prints a note and
# exits 0 without it. Shares are of the whole process's CPU samples.
set -eu
build="${1:-build}"
[ $# -gt 0 ] && shift
bin="$build/machine-health"
if ! command -v perf >/dev/null 2>&1; then
  echo "stage split: perf not installed (apt-get install linux-perf), skipped"
  exit 0
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
if [ $# -eq 0 ]; then
  set -- --machines 20 --threads 1 --duration 20s --learning 5s --set basic
fi
if ! perf record -q --call-graph dwarf,16384 -F 1000 -o "$tmp/perf.data" \
  "$bin" run --speed 0 --http off --db "$tmp/split.db" --quiet "$@" >"$tmp/run.txt" 2>&1; then
  echo "stage split: perf record failed (perf_event_paranoid?):"
  cat "$tmp/run.txt"
  exit 0
fi
tail -1 "$tmp/run.txt"
perf report -i "$tmp/perf.data" --children --sort sym -g none 2>/dev/null |
  awk '
  # Lines: "  57.11%  0.20%  [.] symbol"; keep the first (largest) inclusive
  # share per exact symbol.
  /%/ && $3 == "[.]" {
    sym = $0; sub(/^[^]]*\] /, "", sym); sub(/[ \t]+$/, "", sym)
    v = $1; sub(/%/, "", v)
    if (!(sym in t)) t[sym] = v + 0
    # The output callback of the worker (hand-off of a window result to the writer).
    if (index(sym, "std::_Function_handler<mh::Status (mh::pipeline::WindowResult&), mh::pipeline::PlantPipeline::Impl::WorkerLoop") == 1 && v + 0 > out)
      out = v + 0
  }
  function g(s) { return (s in t) ? t[s] : 0 }
  END {
    p = "mh::pipeline::"
    worker = g(p "PlantPipeline::Impl::WorkerLoop")
    writer = g(p "PlantPipeline::Impl::WriterLoop")
    sim = g("mh::sim::MachineSimulator::Generate")
    win = g("mh::window::Windower::Add")
    onw = g(p "MachinePipeline::OnWindow")
    feat = g("mh::features::WindowFeatureExtractor::Compute")
    fft = g("mh::features::RealFft::Forward")
    # Forward tail-calls its backend (features/real_fft.h): count those too.
    be = g("mh::features::RealFft::FftwImpl::Forward") + g("mh::features::RealFft::KissImpl::Forward")
    if (be > fft) fft = be
    sa = g(p "MachinePipeline::ScoreAndAlarm")
    obs = g("mh::score::MachineScorer::Observe")
    learn = g("mh::score::MachineScorer::FinishLearning")
    store = g("mh::sink::(anonymous namespace)::SqliteSink::Write")
    printf "%-44s %6s\n", "stage (share of the process CPU samples)", "%"
    printf "%-44s %6.1f\n", "simulator", sim
    printf "%-44s %6.1f\n", "windowing", win - onw
    printf "%-44s %6.1f\n", "features (all)", feat
    printf "%-44s %6.1f\n", "  of which the real FFT", fft
    printf "%-44s %6.1f\n", "scoring (per window)", obs - learn
    printf "%-44s %6.1f\n", "learning (train + calibration, once)", learn
    printf "%-44s %6.1f\n", "alarm", sa - obs - out
    printf "%-44s %6.1f\n", "pipeline glue (feature row, result)", onw - feat - sa
    printf "%-44s %6.1f\n", "worker hand-off (output, queue)", worker - sim - win + out
    printf "%-44s %6.1f\n", "store (SqliteSink::Write)", store
    printf "%-44s %6.1f\n", "writer hand-off (queue, retry)", writer - store
    printf "%-44s %6.1f\n", "other (main thread, start-up, kernel)", 100 - worker - writer
  }'
