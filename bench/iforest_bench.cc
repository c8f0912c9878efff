// Isolation Forest benchmarks: single-row DecisionFunction latency (mean, and
// a per-call distribution with p50/p99) and batch throughput (100 and 200
// trees, 6 features, max_samples 256, one core; each batch kernel forced in
// turn, see docs/models.md), training time for 1e5 and
// 1e6 x 6 rows, model file load and scikit-learn pickle import.
// tools/iforest_bench_sklearn.py times scikit-learn on the same shapes.
#include <algorithm>
#include <chrono>
#include <random>
#include <vector>

#include <benchmark/benchmark.h>

#include "iforest/model_io.h"
#include "iforest/scorer.h"
#include "iforest/sklearn_import.h"
#include "iforest/train.h"
#include "testing/test_paths.h"

namespace mh::iforest {
namespace {

constexpr std::size_t kFeatures = 6;

Matrix Data(std::size_t n, std::uint32_t seed) {
  std::mt19937_64 gen(seed);
  std::normal_distribution<double> normal;
  Matrix x{n, kFeatures, std::vector<double>(n * kFeatures)};
  for (double& v : x.data) v = normal(gen);
  return x;
}

Model MakeModel(int trees) {
  TrainOptions o;
  o.n_estimators = trees;
  Result<Model> m = Train(Data(10000, 1), {"a", "b", "c", "d", "e", "f"}, o);
  MH_CHECK(m.ok());
  return std::move(m).value();
}

const Model& TrainedModel(int trees = 100) {
  static const Model model100 = MakeModel(100);
  static const Model model200 = MakeModel(200);
  return trees == 200 ? model200 : model100;
}

// One event at a time, each call timed on its own: counters p50_us, p99_us
// (Arg: trees).
void BM_DecisionFunctionLatency(benchmark::State& state) {
  Scorer scorer(TrainedModel(static_cast<int>(state.range(0))));
  const Matrix rows = Data(4096, 2);
  std::vector<double> ns;
  ns.reserve(1 << 20);
  std::size_t i = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    benchmark::DoNotOptimize(scorer.DecisionFunction(rows.Row(i)));
    const auto t1 = std::chrono::steady_clock::now();
    if (ns.size() < ns.capacity()) {
      ns.push_back(static_cast<double>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count()));
    }
    i = (i + 1) & 4095;
  }
  std::sort(ns.begin(), ns.end());
  if (!ns.empty()) {
    state.counters["p50_us"] = ns[ns.size() / 2] / 1e3;
    state.counters["p99_us"] = ns[ns.size() * 99 / 100] / 1e3;
    state.counters["max_us"] = ns.back() / 1e3;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DecisionFunctionLatency)->Arg(100)->Arg(200);

void BM_DecisionFunctionSingleRow(benchmark::State& state) {
  Scorer scorer(TrainedModel());
  const Matrix rows = Data(4096, 2);
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(scorer.DecisionFunction(rows.Row(i)));
    i = (i + 1) & 4095;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DecisionFunctionSingleRow);

// Args: rows, trees, kernel (ScorerKernel: 0 auto, 1 portable, 2 AVX2, 3
// AVX-512; a kernel the CPU lacks is skipped). One core.
void BM_ScoreSamplesBatch(benchmark::State& state) {
  const auto kernel = static_cast<ScorerKernel>(state.range(2));
  Scorer scorer(TrainedModel(static_cast<int>(state.range(1))), ScorerOptions{.kernel = kernel});
  if (kernel != ScorerKernel::kAuto && scorer.kernel() != kernel) {
    state.SkipWithError("kernel not available on this cpu");
    return;
  }
  const Matrix rows = Data(static_cast<std::size_t>(state.range(0)), 3);
  std::vector<double> out(rows.rows);
  for (auto _ : state) {
    scorer.ScoreSamplesBatch(rows, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_ScoreSamplesBatch)
    ->ArgNames({"rows", "trees", "kernel"})
    ->ArgsProduct({{10000}, {100, 200}, {0, 1, 2, 3}});

// Arg: threads (0 = all cores).
void BM_Train1e5x6(benchmark::State& state) {
  const Matrix x = Data(100000, 4);
  TrainOptions o;
  o.n_estimators = 100;
  o.threads = static_cast<int>(state.range(0));
  for (auto _ : state) {
    Result<Model> m = Train(x, {"a", "b", "c", "d", "e", "f"}, o);
    benchmark::DoNotOptimize(m.ok());
  }
  state.SetItemsProcessed(state.iterations() * 100000);
}
BENCHMARK(BM_Train1e5x6)->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond);

// The same with a contamination offset (scores all 1e5 training rows).
void BM_Train1e5x6Contamination(benchmark::State& state) {
  const Matrix x = Data(100000, 4);
  TrainOptions o;
  o.contamination = "0.01";
  o.threads = 1;
  for (auto _ : state) {
    Result<Model> m = Train(x, {"a", "b", "c", "d", "e", "f"}, o);
    benchmark::DoNotOptimize(m.ok());
  }
}
BENCHMARK(BM_Train1e5x6Contamination)->Unit(benchmark::kMillisecond);

// 1e6 x 6 rows, 200 trees, StandardScaler first (like sklearn's Pipeline).
// Arg: threads (0 = all cores).
void BM_Train1e6x6Trees200(benchmark::State& state) {
  const Matrix x = Data(1000000, 5);
  TrainOptions o;
  o.n_estimators = 200;
  o.threads = static_cast<int>(state.range(0));
  for (auto _ : state) {
    Result<Model> m = Train(x, {"a", "b", "c", "d", "e", "f"}, o);
    benchmark::DoNotOptimize(m.ok());
  }
  state.SetItemsProcessed(state.iterations() * 1000000);
}
BENCHMARK(BM_Train1e6x6Trees200)->Arg(0)->Unit(benchmark::kMillisecond)->Iterations(3);

// Import of the prototype's scikit-learn 1.7.2 joblib (100 trees), if present.
void BM_ImportSeedJoblib(benchmark::State& state) {
  const std::string path = mh::testing::SharedDir() + "/data/seed/iforest_final.joblib";
  for (auto _ : state) {
    Result<Model> m = ImportSklearnFile(path);
    if (!m.ok()) {
      state.SkipWithError(m.status().ToString().c_str());
      break;
    }
    benchmark::DoNotOptimize(m->trees.size());
  }
}
BENCHMARK(BM_ImportSeedJoblib)->Unit(benchmark::kMillisecond);

void BM_LoadModel(benchmark::State& state) {
  const std::string bytes = SerializeModel(TrainedModel(static_cast<int>(state.range(0))));
  for (auto _ : state) {
    Result<Model> m = ParseModel(bytes, "bench");
    benchmark::DoNotOptimize(m.ok());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(bytes.size()));
}
BENCHMARK(BM_LoadModel)->Arg(100)->Arg(200)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace mh::iforest

BENCHMARK_MAIN();
