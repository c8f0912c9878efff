// Throughput of the window feature extractor on one core, 3-channel windows
// of Gaussian noise at 25.6 kHz with bands 0-200, 200-1000, 1000-5000 Hz.
// items_per_second = samples per second (all channels).
//   BM_BasicFeatures: the basic set (what the pipeline computes).
//   BM_FullFeatures:  the full set plus orders (1797 rpm) and the envelope
//                     features of bearing 6205.
// tools/features_bench.sh runs these next to tools/features_bench_numpy.py
// (the vectorised numpy formulation of the same sets) and prints the ratios.
#include <random>
#include <span>
#include <vector>

#include <benchmark/benchmark.h>

#include "core/check.h"
#include "features/bearing.h"
#include "features/real_fft.h"
#include "features/window_features.h"

namespace {

void RunExtractor(benchmark::State& state, const mh::features::FeatureOptions& o) {
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

mh::features::FeatureOptions Options(std::int64_t n) {
  mh::features::FeatureOptions o;
  o.window_samples = static_cast<std::size_t>(n);
  o.sample_rate_hz = 25600;
  o.bands = {{0, 200}, {200, 1000}, {1000, 5000}};
  return o;
}

void BM_BasicFeatures(benchmark::State& state) { RunExtractor(state, Options(state.range(0))); }
BENCHMARK(BM_BasicFeatures)->Arg(2560)->Arg(1000)->Arg(4096)->Arg(1001);

void BM_FullFeatures(benchmark::State& state) {
  mh::features::FeatureOptions o = Options(state.range(0));
  o.set = mh::features::FeatureSet::kFull;
  o.shaft_rpm = 1797;
  auto g = mh::features::LookupBearing("6205");
  MH_CHECK(g.ok());
  o.bearing = *g;
  RunExtractor(state, o);
}
BENCHMARK(BM_FullFeatures)->Arg(2560)->Arg(4096);

// The real FFT alone (one channel), for profiling.
void BM_RealFft(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  auto fft = mh::features::RealFft::Create(n);
  MH_CHECK(fft.ok());
  std::vector<double> x(n, 0.25);
  std::vector<std::complex<double>> out((*fft)->bins());
  for (auto _ : state) {
    (*fft)->Forward(x, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(n));
}
BENCHMARK(BM_RealFft)->Arg(2560);

}  // namespace

BENCHMARK_MAIN();
