// SQLite sink benchmarks.
//
// BM_WriteOneSecond: one Write() of the records a plant produces in one
// second: 100 machines x 10 windows/s x `state.range(1)` features (40, or 78
// as `--set full`; schema 4 stores one `windows` row per window), into a
// database that already holds `state.range(0)` seconds of data. The time per
// iteration is the fraction of one core the sink needs at that rate (target:
// well under 30 %, i.e. < 300 ms); `windows/s` is what the store alone
// sustains, and `bytes/window` the file's used pages per stored window.
//
// BM_ReadSeries: SqliteReader::GetSeries over 10 minutes of one machine
// (6000 windows) decimated to 600 points, for "score" (arg 0) and for a
// feature (arg 1).
//
// BM_ThirtyDayChart / BM_PruneWindows: rollups and retention (see below).
//
// BM_BaselineSave / BM_BaselineLoadActive / BM_BaselineChangesPoll: the
// baseline store with 100 machines, each with one learned baseline (27
// features, 100 trees, 300 rows): saving one, loading every active one (what
// a restarted `run` does once), and the change poll a running pipeline
// makes (no change pending).
#include <chrono>
#include <cmath>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <sqlite3.h>

#include "score/baseline.h"
#include "sink/sqlite/baseline_store.h"
#include "sink/sqlite/sqlite_reader.h"
#include "sink/sqlite/sqlite_sink.h"

namespace mh::sink {
namespace {

constexpr int kMachines = 100;
constexpr int kWindowsPerSecond = 10;
constexpr int kFeatures = 40;
constexpr std::int64_t kT0Ns = 1'790'000'000'000'000'000;

std::shared_ptr<const std::vector<std::string>> FeatureNames(int count = kFeatures) {
  auto names = std::make_shared<std::vector<std::string>>();
  const char* stats[] = {"rms",   "kurtosis", "crest", "peak",  "skew",  "std",  "band1",
                         "band2", "band3",    "band4", "band5", "band6", "band7"};
  for (int i = 0; static_cast<int>(names->size()) < count; ++i) {
    names->push_back(std::string(stats[i % 13]) + "_" + "xyz"[i / 13 % 3] +
                     (i >= 39 ? "_extra" + std::to_string(i) : ""));
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
      r.features.resize(names->size());
      for (std::size_t f = 0; f < names->size(); ++f) {
        r.features[f] = 0.001 * (second + w + m + static_cast<int>(f));
      }
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

// Used bytes of the database per stored window ((page_count -
// freelist_count) x page_size / windows), after a checkpoint.
double BytesPerWindow(const std::string& path, double windows) {
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) return 0;
  sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", nullptr, nullptr, nullptr);
  double pages[3] = {0, 0, 0};
  const char* pragmas[3] = {"PRAGMA page_count", "PRAGMA freelist_count", "PRAGMA page_size"};
  for (int i = 0; i < 3; ++i) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db, pragmas[i], -1, &s, nullptr) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW) {
      pages[i] = static_cast<double>(sqlite3_column_int64(s, 0));
    }
    sqlite3_finalize(s);
  }
  sqlite3_close(db);
  return windows > 0 ? (pages[0] - pages[1]) * pages[2] / windows : 0;
}

void BM_WriteOneSecond(benchmark::State& state) {
  const std::string dir = FreshDir();
  const int features = static_cast<int>(state.range(1));
  auto names = FeatureNames(features);
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
  const double windows = static_cast<double>(state.iterations()) * kMachines * kWindowsPerSecond;
  state.counters["feature_values/s"] =
      benchmark::Counter(windows * features, benchmark::Counter::kIsRate);
  state.counters["windows/s"] = benchmark::Counter(windows, benchmark::Counter::kIsRate);
  (void)(*sink)->Close();
  state.counters["bytes/window"] = BytesPerWindow(
      dir + "/bench.db", static_cast<double>(second) * kMachines * kWindowsPerSecond);
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_WriteOneSecond)
    ->Args({0, kFeatures})
    ->Args({600, kFeatures})
    ->Args({600, 78})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

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

std::int64_t CountRows(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  std::int64_t n = -1;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW) {
      n = sqlite3_column_int64(s, 0);
    }
    sqlite3_finalize(s);
  }
  sqlite3_close(db);
  return n;
}

// One machine's 30 days, one window every 10 s (259,200 windows) with rollups.
std::string ThirtyDaysOfOneMachine(const std::string& dir,
                                   const std::shared_ptr<const std::vector<std::string>>& names) {
  const std::string path = dir + "/month.db";
  SqliteOptions o;
  o.path = path;
  o.window_retention = std::chrono::nanoseconds(0);
  auto sink = OpenSqliteSink(o);
  if (!sink.ok()) return "";
  std::vector<WindowRecord> batch;
  for (int i = 0; i < 30 * 8640; ++i) {
    WindowRecord r;
    r.machine_id = "m1";
    r.window_start_ns = kT0Ns + std::int64_t{i} * 10'000'000'000LL;
    r.feature_names = names;
    r.features.assign(kFeatures, 0.0);
    for (int f = 0; f < kFeatures; ++f) r.features[f] = std::sin(0.001 * i + f);
    r.rms = 0.3 + 0.1 * std::sin(0.0001 * i);
    r.score = 0.05 + 0.02 * std::cos(0.0003 * i);
    r.score_samples = -0.45;
    r.state = MachineState::kNormal;
    r.state_score = r.score;
    batch.push_back(std::move(r));
    if (batch.size() == 8640) {
      if (!(*sink)->Write(batch).ok()) return "";
      batch.clear();
    }
  }
  (void)(*sink)->Close();
  return path;
}

// BM_ThirtyDayChart: GetSeries over 30 days of one machine for the
// dashboard (1,000 points): score (arg 0) or a feature (arg 1). Answered from
// the 1-hour rollups (720 rows), min and max per bucket.
void BM_ThirtyDayChart(benchmark::State& state) {
  const std::string dir = FreshDir();
  auto names = FeatureNames();
  const std::string path = ThirtyDaysOfOneMachine(dir, names);
  auto reader = SqliteReader::Open(path);
  if (path.empty() || !reader.ok()) {
    state.SkipWithError("cannot write or open 30 days");
    return;
  }
  const std::string metric = state.range(0) == 0 ? "score" : (*names)[5];
  std::size_t points = 0;
  for (auto _ : state) {
    auto s = (*reader)->GetSeries("m1", metric, kT0Ns, kT0Ns + 30 * 86'400'000'000'000LL, 1000);
    if (!s.ok()) state.SkipWithError(s.status().ToString().c_str());
    points = s.ok() ? s->t_ns.size() : 0;
    benchmark::DoNotOptimize(s);
  }
  state.counters["points"] = static_cast<double>(points);
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_ThirtyDayChart)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

// BM_PruneWindows: what pruning costs per deleted window. 100 machines x
// 60 s x 10 windows are stored without retention; the sink is reopened with
// a 1-second window retention, and each iteration writes one record, after
// which the sink prunes up to 1,004 old windows (one transaction of 1,000
// and a last small one). items/s = windows deleted per second.
void BM_PruneWindows(benchmark::State& state) {
  const std::string dir = FreshDir();
  auto names = FeatureNames();
  SqliteOptions o;
  o.path = dir + "/prune.db";
  o.window_retention = std::chrono::nanoseconds(0);
  {
    auto sink = OpenSqliteSink(o);
    if (!sink.ok()) {
      state.SkipWithError(sink.status().ToString().c_str());
      return;
    }
    for (int second = 0; second < 60; ++second) (void)(*sink)->Write(OneSecond(second, names));
    (void)(*sink)->Close();
  }
  o.window_retention = std::chrono::seconds(1);
  auto sink = OpenSqliteSink(o);
  if (!sink.ok()) {
    state.SkipWithError(sink.status().ToString().c_str());
    return;
  }
  std::vector<WindowRecord> one = OneSecond(60, names, 1);
  one.resize(1);
  for (auto _ : state) {
    one[0].window_start_ns += 1000;  // a new window each time, same second
    Status s = (*sink)->Write(one);
    if (!s.ok()) state.SkipWithError(s.ToString().c_str());
  }
  (void)(*sink)->Close();
  const std::int64_t left = CountRows(o.path, "SELECT count(*) FROM windows");
  state.SetItemsProcessed(60 * kMachines * kWindowsPerSecond + state.iterations() - left);
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_PruneWindows)->Unit(benchmark::kMillisecond)->Iterations(50);

// A baseline learned from 300 rows of 27 features with the default forest.
std::shared_ptr<const score::Baseline> LearnedBaseline(const std::string& machine) {
  std::vector<std::string> names;
  for (int j = 0; j < 27; ++j) names.push_back("log_f" + std::to_string(j));
  score::LearnOptions learn;
  learn.learning_windows = 300;
  learn.train.threads = 1;
  score::MachineScorer scorer(machine, names, learn);
  std::mt19937_64 rng(7);
  std::normal_distribution<double> n(0, 1);
  std::vector<double> row(names.size());
  for (int i = 0; i < 300; ++i) {
    for (double& x : row) x = n(rng);
    if (!scorer.Observe(row, kT0Ns + i).ok()) return nullptr;
  }
  return scorer.baseline();
}

// A store of 100 machines with one baseline each (one learned model, saved
// under every machine id).
std::unique_ptr<BaselineStore> FilledStore(const std::string& dir,
                                           const std::shared_ptr<const score::Baseline>& b) {
  auto store = BaselineStore::Open({dir + "/bench.db"});
  if (!store.ok() || b == nullptr) return nullptr;
  for (int m = 0; m < kMachines; ++m) {
    score::Baseline copy = *b;
    copy.machine_id = "m" + std::to_string(m + 1);
    if (!(*store)->Save(copy).ok()) return nullptr;
  }
  return std::move(store).value();
}

void BM_BaselineSave(benchmark::State& state) {
  const std::string dir = FreshDir();
  auto b = LearnedBaseline("m1");
  auto store = FilledStore(dir, b);
  if (store == nullptr) {
    state.SkipWithError("cannot fill the store");
    return;
  }
  score::Baseline next = *b;
  next.version = 0;
  for (auto _ : state) {
    auto v = store->Save(next);
    if (!v.ok()) state.SkipWithError(v.status().ToString().c_str());
  }
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_BaselineSave)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_BaselineLoadActive(benchmark::State& state) {
  const std::string dir = FreshDir();
  auto store = FilledStore(dir, LearnedBaseline("m1"));
  if (store == nullptr) {
    state.SkipWithError("cannot fill the store");
    return;
  }
  for (auto _ : state) {
    auto all = store->LoadActive();
    if (!all.ok() || all->size() != kMachines) state.SkipWithError("bad load");
    benchmark::DoNotOptimize(all);
  }
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_BaselineLoadActive)->Unit(benchmark::kMillisecond);

void BM_BaselineChangesPoll(benchmark::State& state) {
  const std::string dir = FreshDir();
  auto store = FilledStore(dir, LearnedBaseline("m1"));
  if (store == nullptr) {
    state.SkipWithError("cannot fill the store");
    return;
  }
  const std::int64_t seq = *store->CurrentSeq();
  for (auto _ : state) {
    auto changes = store->ChangesSince(seq);
    if (!changes.ok() || !changes->empty()) state.SkipWithError("bad poll");
    benchmark::DoNotOptimize(changes);
  }
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_BaselineChangesPoll)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace mh::sink

BENCHMARK_MAIN();
