// The per-window work of `run` for one machine, split into its stages:
// simulate 2560 tri-axial samples, compute the window's features, score them.
// One window is 0.1 s of a 25.6 kHz machine, so windows/s / 10 = machines one
// core keeps up with (before storage; tools/bench.sh measures the whole run).
#include <memory>
#include <vector>

#include <benchmark/benchmark.h>

#include "features/window_features.h"
#include "iforest/scorer.h"
#include "iforest/train.h"
#include "pipeline/plant_pipeline.h"
#include "sim/machine_simulator.h"
#include "sim/plant.h"

namespace mh {
namespace {

constexpr std::size_t kWindow = 2560;

struct Stage {
  std::unique_ptr<sim::MachineSimulator> sim;
  std::unique_ptr<features::WindowFeatureExtractor> extractor;
  std::vector<double> ax, ay, az, features;
  Stage() : ax(kWindow), ay(kWindow), az(kWindow) {
    sim::PlantOptions plant;
    plant.machines = 1;
    sim = std::make_unique<sim::MachineSimulator>((*sim::MakePlant(plant))[0]);
    features::FeatureOptions fopts;
    fopts.bands = {{0, 200}, {200, 1000}, {1000, 5000}, {5000, 12800}};
    extractor = std::move(features::WindowFeatureExtractor::Create(fopts)).value();
    features.resize(extractor->names().size());
  }
  void Simulate() { sim->Generate(kWindow, ax.data(), ay.data(), az.data()); }
  void Features() {
    const std::span<const double> ch[3] = {ax, ay, az};
    if (!extractor->Compute(ch, features).ok()) std::abort();
  }
};

void BM_SimulateWindow(benchmark::State& state) {
  Stage s;
  for (auto _ : state) {
    s.Simulate();
    benchmark::DoNotOptimize(s.ax.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["machines_realtime"] = benchmark::Counter(
      static_cast<double>(state.iterations()) / 10.0, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SimulateWindow);

void BM_FeaturesWindow(benchmark::State& state) {
  Stage s;
  s.Simulate();
  for (auto _ : state) {
    s.Features();
    benchmark::DoNotOptimize(s.features.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["machines_realtime"] = benchmark::Counter(
      static_cast<double>(state.iterations()) / 10.0, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_FeaturesWindow);

void BM_ScoreWindow(benchmark::State& state) {
  Stage s;
  std::vector<std::size_t> cols;
  for (std::size_t i = 0; i < s.extractor->names().size(); ++i) {
    if (pipeline::IsDefaultModelFeature(s.extractor->names()[i])) cols.push_back(i);
  }
  iforest::Matrix x;
  x.rows = 300;
  x.cols = cols.size();
  for (std::size_t r = 0; r < x.rows; ++r) {
    s.Simulate();
    s.Features();
    for (std::size_t c : cols) x.data.push_back(s.features[c]);
  }
  std::vector<std::string> names(cols.size(), "f");
  for (std::size_t i = 0; i < names.size(); ++i) names[i] += std::to_string(i);
  iforest::TrainOptions topts;
  topts.threads = 1;
  auto model = std::move(iforest::Train(x, names, topts)).value();
  iforest::Scorer scorer(model);
  std::vector<double> row(x.Row(0).begin(), x.Row(0).end());
  for (auto _ : state) {
    benchmark::DoNotOptimize(scorer.DecisionFunction(row));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ScoreWindow);

}  // namespace
}  // namespace mh

BENCHMARK_MAIN();
