// Throughput of the window feature extractor: the basic feature set on
// 3-channel windows, one core. items_per_second = samples per second (all
// channels). Compare with tools/features_numpy_bench.py (numpy formulation).
#include <random>
#include <span>
#include <vector>

#include <benchmark/benchmark.h>

#include "core/check.h"
#include "features/window_features.h"

namespace {

void BM_BasicFeatures(benchmark::State& state) {
  mh::features::FeatureOptions o;
  o.window_samples = static_cast<std::size_t>(state.range(0));
  o.sample_rate_hz = 25600;
  o.bands = {{0, 200}, {200, 1000}, {1000, 5000}};
  auto ex = mh::features::WindowFeatureExtractor::Create(o);
  MH_CHECK(ex.ok());
  std::mt19937_64 rng(1);
  std::normal_distribution<double> dist(0.0, 0.5);
  std::vector<std::vector<double>> data(o.channels.size(), std::vector<double>(o.window_samples));
  for (auto& ch : data) {
    for (double& v : ch) v = dist(rng);
  }
  std::vector<std::span<const double>> spans(data.begin(), data.end());
  std::vector<double> out((*ex)->names().size());
  for (auto _ : state) {
    mh::Status s = (*ex)->Compute(spans, out);
    benchmark::DoNotOptimize(out.data());
    if (!s.ok()) state.SkipWithError(s.ToString().c_str());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(o.window_samples) *
                          static_cast<std::int64_t>(o.channels.size()));
  state.counters["windows_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_BasicFeatures)->Arg(2560)->Arg(1000)->Arg(4096)->Arg(1001);

}  // namespace

BENCHMARK_MAIN();
