// Cost of the alarm stage on one core. items_per_second = windows per second.
//   BM_Observe:           AlarmTracker::Observe on a stream whose anomaly
//                         probability changes in regimes (alarms open/close).
//   BM_ObserveAndEncode:  the same plus Save + EncodeTrackerState after every
//                         window (a pipeline persisting the state each time).
//   BM_Explain:           Explain of one peak window of 3 channels x 26
//                         features (full set, orders, envelope) against a
//                         baseline, plus its JSON.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <benchmark/benchmark.h>

#include "alarm/alarm_state.h"
#include "alarm/alarm_tracker.h"
#include "alarm/explain.h"
#include "core/check.h"
#include "core/random.h"
#include "features/window_features.h"

namespace {

using mh::alarm::AlarmTracker;
using mh::alarm::ScoredWindow;

std::vector<ScoredWindow> Stream(std::size_t n) {
  mh::Xoshiro256StarStar rng(3);
  std::vector<ScoredWindow> w;
  double p = 0.05;
  for (std::size_t i = 0; i < n; ++i) {
    if (i % 500 == 0) p = rng.Uniform() < 0.5 ? 0.05 : 0.8;
    const bool bad = rng.Uniform() < p;
    w.push_back({static_cast<std::int64_t>(i) * 100'000'000, bad ? -0.1 : 0.1, bad});
  }
  return w;
}

void BM_Observe(benchmark::State& state) {
  const std::vector<ScoredWindow> w = Stream(1 << 16);
  auto t = AlarmTracker::Create("m1", {});
  MH_CHECK(t.ok());
  std::size_t i = 0;
  std::int64_t offset = 0;
  for (auto _ : state) {
    ScoredWindow x = w[i];
    x.window_start_ns += offset;
    auto u = t->Observe(x);
    benchmark::DoNotOptimize(u);
    if (++i == w.size()) {
      i = 0;
      offset += static_cast<std::int64_t>(w.size()) * 100'000'000;
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Observe);

void BM_ObserveAndEncode(benchmark::State& state) {
  const std::vector<ScoredWindow> w = Stream(1 << 16);
  auto t = AlarmTracker::Create("m1", {});
  MH_CHECK(t.ok());
  std::size_t i = 0;
  std::int64_t offset = 0;
  for (auto _ : state) {
    ScoredWindow x = w[i];
    x.window_start_ns += offset;
    auto u = t->Observe(x);
    std::string s = mh::alarm::EncodeTrackerState(t->Save());
    benchmark::DoNotOptimize(s.data());
    if (++i == w.size()) {
      i = 0;
      offset += static_cast<std::int64_t>(w.size()) * 100'000'000;
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ObserveAndEncode);

void BM_Explain(benchmark::State& state) {
  std::vector<std::string> names;
  for (const char* ch : {"ax", "ay", "az"}) {
    for (int f = 0; f < 18; ++f) names.push_back("f" + std::to_string(f) + "_" + ch);
    names.push_back(std::string(mh::features::kVelocityRmsFeature) + "_" + ch);
    for (std::string_view e : mh::features::kEnvelopeFeatures) {
      names.push_back(std::string(e) + "_" + ch);
    }
  }
  mh::Xoshiro256StarStar rng(5);
  mh::score::FeatureStats b;
  b.names = names;
  std::vector<std::vector<double>> rows(1);
  for (std::size_t i = 0; i < names.size(); ++i) {
    b.mean.push_back(1 + rng.Uniform());
    b.std.push_back(0.1 + rng.Uniform());
    rows[0].push_back(1 + 4 * rng.Uniform());
  }
  for (auto _ : state) {
    auto e = mh::alarm::Explain(names, rows, b);
    MH_CHECK(e.ok());
    std::string j = mh::alarm::ExplanationJson(*e);
    benchmark::DoNotOptimize(j.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Explain);

}  // namespace

BENCHMARK_MAIN();
