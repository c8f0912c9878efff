// The per-window work of `run` for one machine, split into its stages:
// simulate 2560 tri-axial samples, compute the window's features, score them.
// One window is 0.1 s of a 25.6 kHz machine, so windows/s / 10 = machines one
// core keeps up with (before storage; tools/bench.sh measures the whole run).
// And the streaming scorer's first step: decoding one event's JSON.
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "codec/waveform_binary.h"
#include "features/feature_stage.h"
#include "features/window_features.h"
#include "iforest/scorer.h"
#include "iforest/train.h"
#include "pipeline/event_decoder.h"
#include "pipeline/plant_pipeline.h"
#include "replay/event_json.h"
#include "sim/machine_simulator.h"
#include "sim/plant.h"
#include "waveform_event.h"

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

// The window `run` computes by default (512 samples = 20 ms at 25.6 kHz, the
// default bands): range(0) = 0 the basic set, 1 the full set (shape,
// spectral shape, envelope, velocity).
void BM_RunWindowFeatures(benchmark::State& state) {
  sim::PlantOptions plant;
  plant.machines = 1;
  sim::MachineSimulator sim((*sim::MakePlant(plant))[0]);
  constexpr std::size_t kRunWindow = 512;
  std::vector<double> ax(kRunWindow), ay(kRunWindow), az(kRunWindow);
  sim.Generate(kRunWindow, ax.data(), ay.data(), az.data());
  features::FeatureOptions fopts;
  fopts.window_samples = kRunWindow;
  fopts.bands = {{0, 200}, {200, 1000}, {1000, 5000}, {5000, 12800}};
  fopts.set = state.range(0) == 0 ? features::FeatureSet::kBasic : features::FeatureSet::kFull;
  auto extractor = std::move(features::WindowFeatureExtractor::Create(fopts)).value();
  std::vector<double> out(extractor->names().size());
  const std::span<const double> ch[3] = {ax, ay, az};
  for (auto _ : state) {
    if (!extractor->Compute(ch, out).ok()) std::abort();
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RunWindowFeatures)->Arg(0)->Arg(1);

void BM_ScoreWindow(benchmark::State& state) {
  Stage s;
  std::vector<features::ModelFeatureSource> cols;
  for (const std::string& n : features::DefaultModelFeatures(s.extractor->names())) {
    cols.push_back(*features::ResolveModelFeature(n, s.extractor->names()));
  }
  iforest::Matrix x;
  x.rows = 300;
  x.cols = cols.size();
  for (std::size_t r = 0; r < x.rows; ++r) {
    s.Simulate();
    s.Features();
    for (const auto& c : cols) x.data.push_back(features::ModelFeatureValue(c, s.features));
  }
  std::vector<std::string> names(cols.size(), "f");
  for (std::size_t i = 0; i < names.size(); ++i) names[i] += std::to_string(i);
  iforest::TrainOptions topts;
  topts.threads = 1;
  auto model = std::move(iforest::Train(x, names, topts)).value();
  std::vector<double> row(x.Row(0).begin(), x.Row(0).end());
  // range(0) forests, each with its own copy of the trees, scored in turn as
  // `run` scores its machines: with 1 the forest stays in cache; with 100
  // (100 machines) most node loads miss it.
  std::vector<std::unique_ptr<iforest::Scorer>> scorers;
  for (int64_t i = 0; i < state.range(0); ++i) {
    scorers.push_back(std::make_unique<iforest::Scorer>(model));
  }
  std::size_t next = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(scorers[next]->DecisionFunction(row));
    if (++next == scorers.size()) next = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ScoreWindow)->Arg(1)->Arg(100);

// One raw tri-axial waveform event as stream-bench publishes it (3 x 2560
// samples of a 50 Hz sine plus noise): range(0) < 0 prints the samples as
// full doubles (17 significant digits), else rounded to range(0) decimals.
std::string WaveformEventJson(int decimals) {
  const std::vector<std::string> channels = {"ax", "ay", "az"};
  std::vector<std::vector<double>> samples(3, std::vector<double>(kWindow));
  std::mt19937_64 rng(3);
  bench::FillWaveform(rng, decimals, samples);
  std::string out;
  replay::AppendWaveformEventJson({"m1", 1761519890.0, 25600, channels, samples}, &out);
  return out;
}

// range(1) = 1: the payload has spare capacity behind it, as a received
// message's has (transport::kPayloadPadding), and is parsed in place; 0: it
// is copied into the parser's padded buffer first.
void BM_DecodeWaveformEvent(benchmark::State& state) {
  std::string json = WaveformEventJson(static_cast<int>(state.range(0)));
  json.reserve(json.size() + pipeline::kDecodePadding);
  const std::size_t readable = state.range(1) == 1 ? json.capacity() : 0;
  pipeline::EventDecoder decoder;
  for (auto _ : state) {
    if (!decoder.Decode(json, readable).ok()) std::abort();
    benchmark::DoNotOptimize(decoder.event().channels[2].data());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(json.size()));
  state.counters["samples"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * 3 * static_cast<double>(kWindow),
                         benchmark::Counter::kIsRate);
}
BENCHMARK(BM_DecodeWaveformEvent)->ArgsProduct({{-1, 3}, {0, 1}});

// The same tri-axial event (3 x 2560 samples, full doubles) as a binary
// payload (codec/waveform_binary.h): range(0) is the sample type, 1 int16
// (scale 1/4096 g), 2 float32, 3 float64.
void BM_DecodeBinaryWaveform(benchmark::State& state) {
  const std::vector<std::string> channels = {"ax", "ay", "az"};
  std::vector<std::vector<double>> samples(3, std::vector<double>(kWindow));
  std::mt19937_64 rng(3);
  bench::FillWaveform(rng, -1, samples);
  codec::WaveformHeader h;
  h.sensor_id = "m1";
  h.has_timestamp = true;
  h.timestamp_ns = 1761519890000000000;
  h.fs_hz = 25600;
  h.type = static_cast<codec::SampleType>(state.range(0));
  h.scale = h.type == codec::SampleType::kInt16 ? 1.0 / 4096 : 1.0;
  std::string payload;
  if (!codec::AppendWaveformBinary(h, channels, samples, pipeline::kMaxSamplesPerChannel, &payload)
           .ok()) {
    std::abort();
  }
  pipeline::EventDecoder decoder;
  for (auto _ : state) {
    if (!decoder.Decode(payload).ok()) std::abort();
    benchmark::DoNotOptimize(decoder.event().channels[2].data());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(payload.size()));
  state.counters["samples"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * 3 * static_cast<double>(kWindow),
                         benchmark::Counter::kIsRate);
}
BENCHMARK(BM_DecodeBinaryWaveform)->Arg(1)->Arg(2)->Arg(3);

void BM_DecodeFeatureEvent(benchmark::State& state) {
  // The prototype's feature event: 12 features.
  std::vector<std::string> keys;
  std::vector<double> values;
  for (int i = 1; i <= 12; ++i) {
    keys.push_back("feature_" + std::to_string(i));
    values.push_back(0.1 * i + 1.0 / (3 + i));
  }
  std::string json;
  replay::AppendFeatureEventJson({"sim-1", 1761519890.5, keys, values}, &json);
  pipeline::EventDecoder decoder;
  for (auto _ : state) {
    if (!decoder.Decode(json).ok()) std::abort();
    benchmark::DoNotOptimize(decoder.event().feature_values.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DecodeFeatureEvent);

}  // namespace
}  // namespace mh

BENCHMARK_MAIN();
