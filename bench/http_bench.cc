// http benchmarks: the live stream (src/http/live_feed.h).
//
// BM_LiveFanOut: `state.range(0)` machines (500: the fleet) with 100
// stored windows each; every iteration writes one new window per machine in
// one transaction (the sink's Write, timed too) and waits until a subscriber
// has all of them as `window` events. The poll interval is 1 ms, so the time
// is what one poll costs (one query of the machines table, one range query
// per machine, JSON and fan-out) plus the write, not the 500 ms wait of the
// default interval. `events/s` is what one poller sustains.
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

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

}  // namespace
}  // namespace mh::http

BENCHMARK_MAIN();
