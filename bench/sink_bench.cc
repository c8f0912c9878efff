// SQLite sink benchmarks.
//
// BM_WriteOneSecond: one Write() of the records a plant produces in one
// second: 100 machines x 10 windows/s x 40 features (40k feature values +
// 1000 score rows), into a database that already holds `state.range(0)`
// seconds of data. The time per iteration is the fraction of one core the
// sink needs at that rate (target: well under 30 %, i.e. < 300 ms).
//
// BM_ReadSeries: SqliteReader::GetSeries over 10 minutes of one machine
// (6000 windows) decimated to 600 points, for "score" (arg 0) and for a
// feature (arg 1).
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "sink/sqlite/sqlite_reader.h"
#include "sink/sqlite/sqlite_sink.h"

namespace mh::sink {
namespace {

constexpr int kMachines = 100;
constexpr int kWindowsPerSecond = 10;
constexpr int kFeatures = 40;
constexpr std::int64_t kT0Ns = 1'790'000'000'000'000'000;

std::shared_ptr<const std::vector<std::string>> FeatureNames() {
  auto names = std::make_shared<std::vector<std::string>>();
  const char* stats[] = {"rms",   "kurtosis", "crest", "peak",  "skew",  "std",  "band1",
                         "band2", "band3",    "band4", "band5", "band6", "band7"};
  for (int i = 0; names->size() < kFeatures; ++i) {
    names->push_back(std::string(stats[i % 13]) + "_" + "xyz"[i / 13 % 3] +
                     (i >= 39 ? "_extra" : ""));
  }
  return names;
}

// The batch of second `second`: every machine's windows of that second.
std::vector<WindowRecord> OneSecond(int second,
                                    const std::shared_ptr<const std::vector<std::string>>& names,
                                    int machines = kMachines) {
  std::vector<WindowRecord> batch;
  batch.reserve(kMachines * kWindowsPerSecond);
  for (int w = 0; w < kWindowsPerSecond; ++w) {
    for (int m = 0; m < machines; ++m) {
      WindowRecord r;
      r.machine_id = "m" + std::to_string(m + 1);
      r.window_start_ns = kT0Ns + (std::int64_t{second} * kWindowsPerSecond + w) *
                                      (1'000'000'000 / kWindowsPerSecond);
      r.feature_names = names;
      r.features.resize(kFeatures);
      for (int f = 0; f < kFeatures; ++f) r.features[f] = 0.001 * (second + w + m + f);
      r.rms = 0.3 + 0.001 * w;
      r.score = 0.05 - 0.0001 * m;
      r.score_samples = -0.45;
      r.state = MachineState::kNormal;
      r.state_score = r.score;
      batch.push_back(std::move(r));
    }
  }
  return batch;
}

std::string FreshDir() {
  std::string tmpl = "/tmp/mh-sink-bench-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) return "";
  return tmpl;
}

void BM_WriteOneSecond(benchmark::State& state) {
  const std::string dir = FreshDir();
  auto names = FeatureNames();
  auto sink = OpenSqliteSink({dir + "/bench.db"});
  if (!sink.ok()) {
    state.SkipWithError(sink.status().ToString().c_str());
    return;
  }
  int second = 0;
  for (; second < state.range(0); ++second) {
    if (!(*sink)->Write(OneSecond(second, names)).ok()) {
      state.SkipWithError("prefill failed");
      return;
    }
  }
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<WindowRecord> batch = OneSecond(second++, names);
    state.ResumeTiming();
    Status s = (*sink)->Write(batch);
    if (!s.ok()) state.SkipWithError(s.ToString().c_str());
  }
  state.counters["feature_values/s"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * kMachines * kWindowsPerSecond * kFeatures,
      benchmark::Counter::kIsRate);
  (void)(*sink)->Close();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_WriteOneSecond)->Arg(0)->Arg(600)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_ReadSeries(benchmark::State& state) {
  const std::string dir = FreshDir();
  auto names = FeatureNames();
  {
    auto sink = OpenSqliteSink({dir + "/bench.db"});
    if (!sink.ok()) {
      state.SkipWithError(sink.status().ToString().c_str());
      return;
    }
    // 10 minutes of 10 machines: a machine's rows are what the query reads.
    for (int second = 0; second < 600; ++second) {
      (void)(*sink)->Write(OneSecond(second, names, 10));
    }
    (void)(*sink)->Close();
  }
  auto reader = SqliteReader::Open(dir + "/bench.db");
  if (!reader.ok()) {
    state.SkipWithError(reader.status().ToString().c_str());
    return;
  }
  const std::string metric = state.range(0) == 0 ? "score" : (*names)[5];
  for (auto _ : state) {
    auto s = (*reader)->GetSeries("m5", metric, kT0Ns, kT0Ns + 600'000'000'000LL, 600);
    if (!s.ok() || s->t_ns.size() != 600) state.SkipWithError("bad series");
    benchmark::DoNotOptimize(s);
  }
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_ReadSeries)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace mh::sink

BENCHMARK_MAIN();
