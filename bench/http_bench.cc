// http benchmarks: the live stream (src/http/live_feed.h).
//
// BM_LiveFanOut: `state.range(0)` machines (500: the fleet) with 100
// stored windows each; every iteration writes one new window per machine in
// one transaction (the sink's Write, timed too) and waits until a subscriber
// has all of them as `window` events. The poll interval is 1 ms, so the time
// is what one poll costs (one query of the machines table, one range query
// per machine, JSON and fan-out) plus the write, not the 500 ms wait of the
// default interval. `events/s` is what one poller sustains.
//
// The dashboard's speed figures (issue 17), over one store filled once:
// 500 machines with 100 windows each, and machine "day" with a full day at
// 10 windows/s (864,000 windows, written by the SQLite sink, rollups and all).
// BM_Overview: GET /api/machines of the 500 (+1) machines (http::
// MachinesResponse, JSON included). BM_DaySeries: GET /api/series of "day"'s
// score over the whole day with max=2000 (the chart's downsampled request).
// MH_BENCH_DB=FILE keeps the store there (filled once, reused if present) for
// `machine-health serve --db FILE` and tools/dashboard_timing.js.
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "http/api.h"
#include "http/live_feed.h"
#include "sink/sqlite/sqlite_reader.h"
#include "sink/sqlite/sqlite_sink.h"

namespace mh::http {
namespace {

constexpr std::int64_t kT0Ns = 1'790'000'000'000'000'000;
constexpr std::int64_t kStepNs = 100'000'000;

sink::WindowRecord Window(int machine, int i,
                          const std::shared_ptr<const std::vector<std::string>>& names) {
  sink::WindowRecord r;
  r.machine_id = "m" + std::to_string(machine);
  r.window_start_ns = kT0Ns + i * kStepNs;
  r.feature_names = names;
  r.features = {1.0 * i, 0.5 * i};
  r.score = r.state_score = 0.1;
  r.score_samples = -0.5;
  r.rms = 1;
  r.state = sink::MachineState::kNormal;
  return r;
}

void BM_LiveFanOut(benchmark::State& state) {
  const int machines = static_cast<int>(state.range(0));
  const std::string dir = (std::filesystem::temp_directory_path() / "mh-live-bench").string();
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/b.db";
  auto names = std::make_shared<const std::vector<std::string>>(
      std::vector<std::string>{"crest_ax", "rms_ax"});
  auto sink = sink::OpenSqliteSink({path});
  if (!sink.ok()) return state.SkipWithError(sink.status().ToString().c_str());
  int next = 0;
  for (; next < 100; ++next) {
    std::vector<sink::WindowRecord> batch;
    for (int m = 0; m < machines; ++m) batch.push_back(Window(m, next, names));
    if (!(*sink)->Write(batch).ok()) return state.SkipWithError("write failed");
  }
  auto reader = sink::SqliteReader::Open(path);
  if (!reader.ok()) return state.SkipWithError(reader.status().ToString().c_str());
  LiveOptions options;
  options.poll_interval = std::chrono::milliseconds(1);
  options.client_queue_events = 100000;
  auto feed = LiveFeed::Start(reader->get(), options);
  if (!feed.ok()) return state.SkipWithError(feed.status().ToString().c_str());
  auto sub = (*feed)->Subscribe("", std::nullopt);
  if (!sub.ok()) return state.SkipWithError(sub.status().ToString().c_str());
  std::string text;
  (*sub)->Next(&text);  // the hello
  std::int64_t events = 0;
  for (auto _ : state) {
    std::vector<sink::WindowRecord> batch;
    for (int m = 0; m < machines; ++m) batch.push_back(Window(m, next, names));
    ++next;
    if (!(*sink)->Write(batch).ok()) return state.SkipWithError("write failed");
    int seen = 0;
    while (seen < machines) {
      if (!(*sub)->Next(&text)) return state.SkipWithError("stream ended");
      for (std::size_t p = text.find("event: window"); p != std::string::npos;
           p = text.find("event: window", p + 1)) {
        ++seen;
      }
    }
    events += seen;
  }
  state.counters["events/s"] =
      benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
  (*feed)->Stop();
  sub->reset();
  (void)(*sink)->Close();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_LiveFanOut)->Arg(500)->Unit(benchmark::kMillisecond)->UseRealTime();

// The store of BM_Overview, BM_DaySeries and BM_DenseSeries: its path, filled on first use.
constexpr std::int64_t kDayWindows = 864'000;

const std::string& DashboardDb() {
  static const std::string path = [] {
    const char* keep = std::getenv("MH_BENCH_DB");
    std::string p = keep && *keep
                        ? std::string(keep)
                        : (std::filesystem::temp_directory_path() / "mh-dash-bench.db").string();
    if (!(keep && *keep && std::filesystem::exists(p))) {
      for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(p + suffix);
      auto names = std::make_shared<const std::vector<std::string>>(
          std::vector<std::string>{"crest_ax", "rms_ax"});
      auto sink = sink::OpenSqliteSink({p});
      if (!sink.ok()) return std::string();
      for (int i = 0; i < 100; ++i) {
        std::vector<sink::WindowRecord> batch;
        for (int m = 0; m < 500; ++m) batch.push_back(Window(m, i, names));
        if (!(*sink)->Write(batch).ok()) return std::string();
      }
      std::vector<sink::WindowRecord> batch;
      for (std::int64_t i = 0; i < kDayWindows; ++i) {
        sink::WindowRecord r = Window(0, static_cast<int>(i), names);
        r.machine_id = "day";
        // A slow wave with a spike every 10,000 windows: min and max matter.
        r.score = r.state_score =
            0.1 * std::sin(static_cast<double>(i) / 5000.0) - (i % 10000 == 0 ? 0.5 : 0.0);
        r.rms = 1 + 0.001 * static_cast<double>(i % 1000);
        batch.push_back(std::move(r));
        if (batch.size() == 10000) {
          if (!(*sink)->Write(batch).ok()) return std::string();
          batch.clear();
        }
      }
      if (!(*sink)->Write(batch).ok() || !(*sink)->Close().ok()) return std::string();
    }
    return p;
  }();
  return path;
}

void BM_Overview(benchmark::State& state) {
  if (DashboardDb().empty()) return state.SkipWithError("filling the store failed");
  auto reader = sink::SqliteReader::Open(DashboardDb());
  if (!reader.ok()) return state.SkipWithError(reader.status().ToString().c_str());
  std::size_t bytes = 0;
  for (auto _ : state) {
    const Response r = MachinesResponse(**reader);
    if (r.status != 200) return state.SkipWithError(r.body.c_str());
    bytes = r.body.size();
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_Overview)->Unit(benchmark::kMillisecond)->UseRealTime();

// GET /api/series of `metric` over the first `windows` windows of "day" on
// `max` points, JSON included.
void SeriesBench(benchmark::State& state, const char* metric, std::int64_t windows, int max) {
  if (DashboardDb().empty()) return state.SkipWithError("filling the store failed");
  auto reader = sink::SqliteReader::Open(DashboardDb());
  if (!reader.ok()) return state.SkipWithError(reader.status().ToString().c_str());
  Params params;
  params.values = {{"machine", "day"},
                   {"metric", metric},
                   {"from", std::to_string(kT0Ns / 1'000'000)},
                   {"to", std::to_string((kT0Ns + windows * kStepNs) / 1'000'000)},
                   {"max", std::to_string(max)}};
  std::size_t bytes = 0;
  for (auto _ : state) {
    const Response r = SeriesResponse(**reader, params);
    if (r.status != 200) return state.SkipWithError(r.body.c_str());
    bytes = r.body.size();
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}

// The whole day on 2,000 points. 0: score (has rollups), 1: state_score (no
// rollups: read from the windows).
void BM_DaySeries(benchmark::State& state) {
  SeriesBench(state, state.range(0) == 0 ? "score" : "state_score", kDayWindows, 2000);
}
BENCHMARK(BM_DaySeries)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();

// 5 hours of "day" (180,000 windows, as an hour of a machine at 50
// windows/s) on 1,000 points: too fine for the 1-minute rollups (under 2
// minutes per pair of points), so every window is read and each stretch
// drawn by its minimum and maximum. 0: score, 1: a feature (crest_ax, from
// the windows' float32 blobs), 2: state_score.
void BM_DenseSeries(benchmark::State& state) {
  const char* metrics[] = {"score", "crest_ax", "state_score"};
  SeriesBench(state, metrics[state.range(0)], 180'000, 1000);
}
BENCHMARK(BM_DenseSeries)->DenseRange(0, 2)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace mh::http

BENCHMARK_MAIN();
