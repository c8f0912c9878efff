// PlantPipeline: the embedded pipeline of `machine-health run`, in one
// process: simulated machines -> the pipeline core of each machine
// (MachinePipeline: windows -> features -> per-machine baseline -> alarm
// rule) -> sink.
//
// Threads: `threads` workers each own a fixed subset of the machines and do
// simulation and the pipeline core for them (also applying the baseline
// changes a poller thread hands them, see poll_baselines); one writer thread takes scored
// windows from a bounded queue and writes them to the sink in batches (one
// transaction each). A full queue blocks the workers (backpressure), so a
// slow sink slows the simulation instead of losing windows. Stop drains the
// queue before the sink is closed. See docs/architecture.md.
//
// Thread safety: RequestStop() and stats() may be called from any thread;
// Start() and Wait() from the owning thread only.
#ifndef MH_PIPELINE_PLANT_PIPELINE_H_
#define MH_PIPELINE_PLANT_PIPELINE_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "core/result.h"
#include "features/window_features.h"
#include "iforest/model.h"
#include "pipeline/machine_pipeline.h"
#include "sim/plant.h"
#include "sink/running_sink.h"
#include "sink/sink.h"

namespace mh::pipeline {

struct PlantPipelineOptions {
  // --- what is simulated
  sim::PlantOptions plant;
  // Simulated seconds per wall-clock second; 0 = as fast as possible.
  double speed = 1.0;
  // Simulated time after which the pipeline stops by itself; 0 = never.
  std::chrono::nanoseconds duration{0};
  // Event time of the first sample, ns since the epoch; 0 = wall clock at Start().
  std::int64_t start_ns = 0;

  // --- the pipeline core of every machine: window, features, learning,
  // threshold and alarm rule
  PipelineOptions pipeline;
  // A trained model used for every machine (no learning); null = learn per machine.
  std::shared_ptr<const iforest::Model> model;

  // Called from the worker threads (must be thread-safe) with every alarm
  // event (opened with its explanation, closed) and every baseline fitted.
  // An error stops the pipeline. Optional.
  std::function<Status(const sink::AlarmEvent&)> on_alarm_event;
  std::function<Status(const std::shared_ptr<const score::Baseline>&)> on_new_baseline;
  // Called once per machine before its core is made: a stored baseline
  // resumes it (no relearning) and the store says its next version.
  std::function<void(MachineSpec*)> configure_machine;
  // Baseline changes made elsewhere (`baseline reset` / `assign` /
  // `retrain`, the HTTP API): one poller thread calls it every
  // `baseline_poll_interval` and hands each update to the machine's slot;
  // the worker owning the machine applies it at the start of its next pass
  // (MachinePipeline::ApplyBaseline), and the alarm it closes goes to
  // on_alarm_event. A failing poll or a refused update is logged. Optional.
  BaselinePoll poll_baselines;
  std::chrono::milliseconds baseline_poll_interval{1000};

  // --- performance
  int threads = 1;                    // worker threads (machines are split among them)
  std::size_t queue_capacity = 8192;  // scored windows waiting for the writer
  std::size_t batch_max = 4096;       // windows per sink transaction
  // After the first window of a batch the writer waits up to this long for
  // batch_max windows: fewer, larger store transactions (each costs the
  // rollup merge and the retention checks) for at most this much latency.
  std::chrono::milliseconds batch_linger{250};
  // The sink's name in logs and metrics (sink::RunningSink, which retries
  // its writes), e.g. "sqlite:machine-health.db".
  std::string sink_name = "sink";
};

struct PipelineStats {
  std::int64_t windows = 0;          // windows scored and queued
  std::int64_t windows_written = 0;  // windows the sink accepted (sink.records)
  double simulated_seconds = 0;      // simulated time covered by every machine
  double wall_seconds = 0;           // since Start()
  std::int64_t batches = 0;          // sink transactions (sink.batches)
  std::int64_t write_retries = 0;    // failed writes retried (sink.retries)
  std::size_t queue_depth = 0;       // windows waiting for the writer now
  std::size_t queue_high_water = 0;
  sink::SinkMetrics sink;       // the sink's own counts (sink::RunningSink)
  std::int64_t lagging_ms = 0;  // how far the slowest worker is behind real time
  // CPU time the simulators took (MachineSimulator::Generate, summed over
  // the workers; estimated from every 8th pass): `run` without a simulator,
  // fed by real sensors, would need the process CPU minus this.
  double simulator_cpu_seconds = 0;
};

class PlantPipeline {
 public:
  // Validates options (InvalidArgument naming the option) and builds the
  // plant and every machine's pipeline core. Takes ownership of `sink`.
  static Result<std::unique_ptr<PlantPipeline>> Create(const PlantPipelineOptions& options,
                                                       std::unique_ptr<sink::Sink> sink);
  ~PlantPipeline();

  // The names of the features computed per window, and of those scored.
  const std::vector<std::string>& feature_names() const;
  const std::vector<std::string>& model_feature_names() const;
  const std::vector<sim::MachineConfig>& machines() const;

  // Starts the worker and writer threads.
  Status Start();
  // Asks every thread to finish: workers stop after their current window,
  // the writer drains the queue. Safe from any thread; idempotent.
  void RequestStop();
  // True once the pipeline finished (duration reached, stop, or error).
  bool Done() const;
  // Joins all threads, closes the sink, and returns the first error.
  Status Wait();
  PipelineStats stats() const;
  // options.sink_name.
  const std::string& sink_name() const;

  struct Impl;

 private:
  explicit PlantPipeline(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mh::pipeline

#endif  // MH_PIPELINE_PLANT_PIPELINE_H_
