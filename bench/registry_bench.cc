// Registry::Lookup of known machines (a shared lock and a hash lookup) from
// 1..8 threads, registration on first sight, and Parse of a file of 1000
// machines.
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "registry/registry.h"

namespace {

constexpr int kMachines = 1000;

std::string PlantFile() {
  std::string text = "[defaults]\nfs_hz = 25600\nchannels = [\"ax\", \"ay\", \"az\"]\n";
  for (int i = 0; i < kMachines; ++i) {
    text += "[machines.m" + std::to_string(i) + "]\nname = \"Machine " + std::to_string(i) +
            "\"\nrpm = 1797\nbearing = \"6205\"\nalarm = { k = 3, n = 5 }\n";
  }
  return text;
}

mh::registry::Registry& Shared() {
  static auto* r = [] {
    auto loaded = mh::registry::Registry::Parse(PlantFile(), "plant.toml");
    return loaded.ok() ? loaded->release() : mh::registry::Registry::BuiltIn().release();
  }();
  return *r;
}

void BM_LookupKnown(benchmark::State& state) {
  mh::registry::Registry& r = Shared();
  std::vector<std::string> ids;
  for (int i = 0; i < kMachines; ++i) ids.push_back("m" + std::to_string(i));
  std::size_t i = static_cast<std::size_t>(state.thread_index()) * 97;
  for (auto _ : state) {
    benchmark::DoNotOptimize(r.Lookup(ids[i % ids.size()], 1));
    ++i;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_LookupKnown)->ThreadRange(1, 8)->UseRealTime();

void BM_RegisterFirstSight(benchmark::State& state) {
  std::vector<std::string> ids;
  for (int i = 0; i < 10000; ++i) ids.push_back("s" + std::to_string(i));
  for (auto _ : state) {
    auto r = mh::registry::Registry::BuiltIn();
    for (const std::string& id : ids) benchmark::DoNotOptimize(r->Lookup(id, 1));
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(ids.size()));
}
BENCHMARK(BM_RegisterFirstSight);

void BM_ParsePlantFile(benchmark::State& state) {
  const std::string text = PlantFile();
  for (auto _ : state) {
    auto r = mh::registry::Registry::Parse(text, "plant.toml");
    if (!r.ok()) state.SkipWithError("parse failed");
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(text.size()));
  state.counters["machines"] = kMachines;
}
BENCHMARK(BM_ParsePlantFile)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
