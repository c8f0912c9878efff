// Isolation Forest benchmarks: single-row DecisionFunction latency and batch
// throughput (100 trees, 6 features, max_samples 256), and training time for
// 1e5 x 6 rows with 100 trees. tools/iforest_bench_sklearn.py times
// scikit-learn on the same shapes for comparison.
#include <random>
#include <vector>

#include <benchmark/benchmark.h>

#include "iforest/model_io.h"
#include "iforest/scorer.h"
#include "iforest/train.h"

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

const Model& TrainedModel() {
  static const Model model = [] {
    TrainOptions o;
    o.n_estimators = 100;
    Result<Model> m = Train(Data(10000, 1), {"a", "b", "c", "d", "e", "f"}, o);
    MH_CHECK(m.ok());
    return std::move(m).value();
  }();
  return model;
}

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

void BM_ScoreSamplesBatch(benchmark::State& state) {
  Scorer scorer(TrainedModel());
  const Matrix rows = Data(static_cast<std::size_t>(state.range(0)), 3);
  std::vector<double> out(rows.rows);
  for (auto _ : state) {
    scorer.ScoreSamplesBatch(rows, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_ScoreSamplesBatch)->Arg(10000);

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

void BM_LoadModel(benchmark::State& state) {
  const std::string bytes = SerializeModel(TrainedModel());
  for (auto _ : state) {
    Result<Model> m = ParseModel(bytes, "bench");
    benchmark::DoNotOptimize(m.ok());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(bytes.size()));
}
BENCHMARK(BM_LoadModel);

}  // namespace
}  // namespace mh::iforest

BENCHMARK_MAIN();
