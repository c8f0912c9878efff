// The cost of metrics on the hot path and of a scrape (src/metrics/).
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "metrics/metrics.h"
#include "metrics/process_metrics.h"

namespace mh::metrics {
namespace {

void BM_CounterAdd(benchmark::State& state) {
  Registry r;
  Counter* c = r.AddCounter("bench_total", "B.", {"source"}).With({"s"});
  for (auto _ : state) c->Add();
  benchmark::DoNotOptimize(c->value());
}
BENCHMARK(BM_CounterAdd)->Threads(1)->Threads(2);

void BM_HistogramObserve(benchmark::State& state) {
  Registry r;
  Histogram* h = r.AddHistogram("bench_seconds", "B.", LatencyBuckets(), {"source"}).With({"s"});
  double v = 0.0001;
  for (auto _ : state) {
    h->Observe(v);
    v = v < 5 ? v * 1.7 : 0.0001;
  }
  benchmark::DoNotOptimize(h->count());
}
BENCHMARK(BM_HistogramObserve)->Threads(1)->Threads(2);

// A scrape of run's size with `range(0)` sources: per source 9 series of
// counters and gauges, a 16-bucket histogram, 7 sink series; and the process.
void BM_Expose(benchmark::State& state) {
  Registry r;
  AddProcessCollector(r);
  auto& h = r.AddHistogram("machine_health_scoring_duration_seconds", "Latency.", LatencyBuckets(),
                           {"source"});
  for (int i = 0; i < state.range(0); ++i) h.With({"mqtt://h/" + std::to_string(i)})->Observe(0.01);
  r.AddCollector([n = state.range(0)](Collection& c) {
    for (int i = 0; i < n; ++i) {
      const Labels l{{"source", "mqtt://h/" + std::to_string(i)}};
      for (const char* name :
           {"machine_health_events_received_total", "machine_health_windows_total",
            "machine_health_windows_scored_total", "machine_health_source_batches_total",
            "machine_health_sink_windows_written_total", "machine_health_sink_write_retries_total",
            "machine_health_alarms_opened_total"}) {
        c.Counter(name, "Help.", l, 12345);
      }
      c.Gauge("machine_health_source_up", "Up.", l, 1);
      c.Gauge("machine_health_sink_queue_depth", "Depth.", l, 0);
    }
  });
  std::size_t bytes = 0;
  for (auto _ : state) bytes = r.Expose().size();
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_Expose)->Arg(1)->Arg(10)->Arg(100);

}  // namespace
}  // namespace mh::metrics
