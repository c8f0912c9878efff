// Simulator speed: samples per second per machine (one sample = x, y and z),
// and how many 25.6 kHz machines one core keeps up with in real time.
#include <vector>

#include <benchmark/benchmark.h>

#include "sim/machine_simulator.h"
#include "sim/plant.h"
#include "sim/recording.h"

namespace mh::sim {
namespace {

void BM_Generate(benchmark::State& state) {
  MachineConfig config;
  config.machine_id = "m1";
  config.sensor_id = "m1-de";
  config.fault.kind = static_cast<FaultKind>(state.range(0));
  config.fault.ramp_s = 0;  // full severity from the start
  MachineSimulator sim(config);
  constexpr std::size_t kWindow = 2560;  // the pipeline's window
  std::vector<double> x(kWindow), y(kWindow), z(kWindow);
  for (auto _ : state) {
    sim.Generate(kWindow, x.data(), y.data(), z.data());
    benchmark::DoNotOptimize(x.data());
    benchmark::DoNotOptimize(y.data());
    benchmark::DoNotOptimize(z.data());
  }
  const double samples = static_cast<double>(state.iterations()) * kWindow;
  state.SetItemsProcessed(static_cast<std::int64_t>(samples));
  state.SetLabel(FaultKindName(config.fault.kind));
  state.counters["ns_per_sample_axis"] =
      benchmark::Counter(samples * 3, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["realtime_machines"] =
      benchmark::Counter(samples / config.sample_rate_hz, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Generate)->DenseRange(0, 5);

// The CSV of `simulate`: rows (one machine, one instant) per second.
void BM_WriteDataCsv(benchmark::State& state) {
  PlantOptions options;
  auto plant = MakePlant(options);
  constexpr std::int64_t kSamples = 25600;
  std::size_t bytes = 0;
  for (auto _ : state) {
    Status s = WriteDataCsv(*plant, 0, kSamples, [&bytes](std::string_view chunk) {
      bytes += chunk.size();
      return Status::OK();
    });
    benchmark::DoNotOptimize(s);
  }
  state.SetItemsProcessed(state.iterations() * kSamples * options.machines);
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}
BENCHMARK(BM_WriteDataCsv)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace mh::sim

BENCHMARK_MAIN();
