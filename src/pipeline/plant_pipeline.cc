#include "pipeline/plant_pipeline.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <ctime>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include "core/time_util.h"
#include "log/log.h"
#include "pipeline/bounded_queue.h"
#include "sim/machine_simulator.h"
#include "sink/retry.h"

namespace mh::pipeline {

namespace {

// One simulated machine and everything the worker keeps for it.
struct MachineSlot {
  std::unique_ptr<sim::MachineSimulator> simulator;
  std::unique_ptr<MachinePipeline> core;
  std::atomic<std::int64_t> samples_done{0};  // written by its worker only
  // A baseline change for the worker to apply (the latest wins), from the
  // poller thread.
  std::mutex pending_mu;
  std::optional<BaselineUpdate> pending;  // guarded by pending_mu
  std::atomic<bool> has_pending{false};
};

}  // namespace

struct PlantPipeline::Impl {
  PlantPipelineOptions options;
  std::unique_ptr<sink::RunningSink> sink;
  std::vector<sim::MachineConfig> configs;
  std::vector<std::unique_ptr<MachineSlot>> slots;
  std::vector<std::string> feature_names;
  std::vector<std::string> model_feature_names;
  std::int64_t max_samples = 0;  // per machine; 0 = unbounded
  std::size_t chunk = 0;         // samples simulated per machine and pass (the hop)

  BoundedQueue<sink::WindowRecord> queue;
  std::vector<std::thread> workers;
  std::thread writer;
  std::thread poller;
  std::map<std::string, std::size_t> slot_of;  // machine id -> index in slots
  std::mutex poller_mu;
  std::condition_variable poller_cv;
  bool poller_stop = false;  // guarded by poller_mu
  std::atomic<bool> stop{false};
  std::atomic<int> workers_running{0};
  std::atomic<bool> done{false};
  std::int64_t start_ns = 0;
  std::chrono::steady_clock::time_point wall_start;
  std::atomic<std::int64_t> windows{0};
  std::atomic<std::int64_t> lag_ms{0};
  std::atomic<std::int64_t> wall_elapsed_ns{-1};  // set when the last worker finishes
  // The simulator's CPU time, sampled (see WorkerLoop): thread CPU ns of the
  // timed Generate calls, the samples they made, and all samples simulated.
  std::atomic<std::int64_t> sim_timed_ns{0};
  std::atomic<std::int64_t> sim_timed_samples{0};
  std::atomic<std::int64_t> sim_samples{0};

  std::mutex error_mu;
  Status first_error;  // guarded by error_mu

  explicit Impl(std::size_t capacity) : queue(capacity) {}

  void Fail(const Status& status) {
    {
      std::lock_guard<std::mutex> lock(error_mu);
      if (first_error.ok()) first_error = status;
    }
    stop.store(true);
  }

  void WorkerLoop(std::size_t worker, std::size_t worker_count);
  void WriterLoop();
  void PollerLoop();
  // The worker's part: applies the slot's pending baseline change, if any.
  Status ApplyPending(MachineSlot& slot);
};

Result<std::unique_ptr<PlantPipeline>> PlantPipeline::Create(const PlantPipelineOptions& options,
                                                             std::unique_ptr<sink::Sink> sink) {
  if (!(options.speed >= 0) || !std::isfinite(options.speed)) {
    return Status::InvalidArgument("--speed: expected a number >= 0");
  }
  if (options.threads < 1 || options.threads > 256) {
    return Status::InvalidArgument("--threads: expected 1..256");
  }
  if (options.duration.count() < 0) return Status::InvalidArgument("--duration: must be >= 0");
  if (sink == nullptr) return Status::InvalidArgument("pipeline: no sink");
  auto impl = std::make_unique<Impl>(std::max<std::size_t>(options.queue_capacity, 1));
  impl->options = options;
  // The one retry loop, with its counts (sink/running_sink.h); shorter
  // waits than a remote sink's, the database being local.
  impl->sink = std::make_unique<sink::RunningSink>(
      options.sink_name, std::move(sink),
      sink::RetryPolicy{std::chrono::milliseconds(50), std::chrono::milliseconds(5000)});
  MH_ASSIGN_OR_RETURN(impl->configs, sim::MakePlant(options.plant));
  std::shared_ptr<const score::Baseline> assigned;
  if (options.model) {
    auto b = std::make_shared<score::Baseline>();
    b->version = 1;
    b->model = options.model;
    b->rule.rule = score::ThresholdRule::kAuto;  // the model's own offset: decision < 0
    b->threshold = 0;
    b->rows = options.model->card.rows;
    b->origin = "--model";
    assigned = std::move(b);
  }
  const double fs = options.plant.sample_rate_hz;
  for (const auto& config : impl->configs) {
    MachineSpec spec;
    spec.machine_id = config.machine_id;
    spec.shape.fs_hz = fs;
    spec.shape.channels = {"ax", "ay", "az"};
    spec.baseline = assigned;
    if (options.configure_machine) options.configure_machine(&spec);
    auto core = MachinePipeline::Create(options.pipeline, std::move(spec));
    if (!core.ok()) {
      if (options.model && core.status().message().find("assigned model") != std::string::npos) {
        return Status::InvalidArgument("--model: " + core.status().message());
      }
      return core.status();
    }
    if (options.on_alarm_event) {
      for (const sink::AlarmEvent& e : (*core)->TakeResumeEvents()) {
        MH_RETURN_IF_ERROR(options.on_alarm_event(e));
      }
    }
    auto slot = std::make_unique<MachineSlot>();
    slot->simulator = std::make_unique<sim::MachineSimulator>(config);
    slot->core = std::move(*core);
    impl->slot_of[config.machine_id] = impl->slots.size();
    impl->slots.push_back(std::move(slot));
  }
  if (!impl->slots.empty()) {
    impl->feature_names = impl->slots[0]->core->feature_names();
    impl->model_feature_names = impl->slots[0]->core->model_feature_names();
  }
  const window::WindowOptions& w = options.pipeline.window;
  impl->chunk = w.hop_samples == 0 ? w.window_samples : w.hop_samples;
  if (options.duration.count() > 0) {
    impl->max_samples = static_cast<std::int64_t>(
        std::floor(static_cast<double>(options.duration.count()) * 1e-9 * fs + 1e-6));
    if (impl->max_samples < static_cast<std::int64_t>(w.window_samples)) {
      return Status::InvalidArgument("--duration: shorter than one window");
    }
  }
  return std::unique_ptr<PlantPipeline>(new PlantPipeline(std::move(impl)));
}

PlantPipeline::PlantPipeline(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

PlantPipeline::~PlantPipeline() {
  if (impl_->writer.joinable() || impl_->poller.joinable() || !impl_->workers.empty()) {
    RequestStop();
    (void)Wait();
  }
}

const std::vector<std::string>& PlantPipeline::feature_names() const {
  return impl_->feature_names;
}
const std::vector<std::string>& PlantPipeline::model_feature_names() const {
  return impl_->model_feature_names;
}
const std::vector<sim::MachineConfig>& PlantPipeline::machines() const { return impl_->configs; }

Status PlantPipeline::Start() {
  Impl& s = *impl_;
  s.start_ns = s.options.start_ns != 0 ? s.options.start_ns : WallNowNs() / 1000000 * 1000000;
  s.wall_start = std::chrono::steady_clock::now();
  const std::size_t n_workers =
      std::min<std::size_t>(static_cast<std::size_t>(s.options.threads), s.slots.size());
  s.workers_running.store(static_cast<int>(n_workers));
  s.writer = std::thread([&s] { s.WriterLoop(); });
  if (s.options.poll_baselines) s.poller = std::thread([&s] { s.PollerLoop(); });
  for (std::size_t w = 0; w < n_workers; ++w) {
    s.workers.emplace_back([&s, w, n_workers] { s.WorkerLoop(w, n_workers); });
  }
  return Status::OK();
}

namespace {

// CPU time of the calling thread, ns.
std::int64_t ThreadCpuNs() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<std::int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec;
}

// The simulator's CPU time is measured on every kSimTimingEvery-th pass of a
// worker (all its machines) and scaled by the samples: reading the thread
// CPU clock is a system call (~0.4 us), about 7 % of one chunk's simulation.
constexpr std::int64_t kSimTimingEvery = 8;

}  // namespace

void PlantPipeline::Impl::WorkerLoop(std::size_t worker, std::size_t worker_count) {
  const double fs = options.plant.sample_rate_hz;
  std::int64_t pass = 0;
  std::vector<double> ax(chunk), ay(chunk), az(chunk);
  const std::span<const double> channels[3] = {ax, ay, az};
  std::vector<std::size_t> mine;
  for (std::size_t m = worker; m < slots.size(); m += worker_count) mine.push_back(m);
  bool queue_closed = false;
  auto push = [&](const MachinePipeline& core, WindowResult& r) -> Status {
    if (options.on_alarm_event) {
      if (auto e = core.AlarmEventOf(r)) MH_RETURN_IF_ERROR(options.on_alarm_event(*e));
    }
    if (options.on_new_baseline && r.new_baseline != nullptr) {
      MH_RETURN_IF_ERROR(options.on_new_baseline(r.new_baseline));
    }
    windows.fetch_add(1, std::memory_order_relaxed);
    if (!queue.Push(std::move(r.record))) {
      queue_closed = true;
      return Status::Unavailable("pipeline stopped");
    }
    return Status::OK();
  };

  while (!stop.load(std::memory_order_relaxed) && !queue_closed) {
    // How much simulated time may have passed by now.
    const double wall_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
    const double allowed_s = options.speed > 0 ? wall_s * options.speed : INFINITY;
    bool progressed = false;
    bool all_finished = true;
    double behind_s = 0;
    const bool timed = pass++ % kSimTimingEvery == 0;
    std::int64_t timed_ns = 0, timed_samples = 0, samples = 0;
    // One chunk per machine per pass keeps machines level with each other.
    for (std::size_t m : mine) {
      if (stop.load(std::memory_order_relaxed) || queue_closed) break;
      MachineSlot& slot = *slots[m];
      if (slot.has_pending.load(std::memory_order_acquire)) {
        if (Status st = ApplyPending(slot); !st.ok()) {
          Fail(st);
          break;
        }
      }
      const std::int64_t done = slot.samples_done.load(std::memory_order_relaxed);
      if (max_samples > 0 && done >= max_samples) continue;
      all_finished = false;
      std::size_t n = chunk;
      if (max_samples > 0)
        n = std::min<std::size_t>(n, static_cast<std::size_t>(max_samples - done));
      const double chunk_end_s = static_cast<double>(done + static_cast<std::int64_t>(n)) / fs;
      if (chunk_end_s > allowed_s) continue;
      behind_s = std::max(behind_s, allowed_s - chunk_end_s);
      if (timed) {
        const std::int64_t t0 = ThreadCpuNs();
        slot.simulator->Generate(n, ax.data(), ay.data(), az.data());
        timed_ns += ThreadCpuNs() - t0;
        timed_samples += static_cast<std::int64_t>(n);
      } else {
        slot.simulator->Generate(n, ax.data(), ay.data(), az.data());
      }
      samples += static_cast<std::int64_t>(n);
      std::span<const double> views[3];
      for (int c = 0; c < 3; ++c) views[c] = channels[c].first(n);
      window::Block block;
      block.fs_hz = fs;
      block.channels = views;
      block.t0_ns =
          start_ns + static_cast<std::int64_t>(std::llround(static_cast<double>(done) * 1e9 / fs));
      MachinePipeline& core = *slot.core;
      Status st = core.Add(block, [&](WindowResult& r) { return push(core, r); });
      if (!st.ok()) {
        if (!queue_closed) Fail(st.WithContext("machine " + configs[m].machine_id));
        break;
      }
      slot.samples_done.store(done + static_cast<std::int64_t>(n), std::memory_order_relaxed);
      progressed = true;
    }
    sim_timed_ns.fetch_add(timed_ns, std::memory_order_relaxed);
    sim_timed_samples.fetch_add(timed_samples, std::memory_order_relaxed);
    sim_samples.fetch_add(samples, std::memory_order_relaxed);
    lag_ms.store(static_cast<std::int64_t>(behind_s / std::max(options.speed, 1e-9) * 1000),
                 std::memory_order_relaxed);
    if (all_finished) break;
    if (!progressed) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (workers_running.fetch_sub(1) == 1) {
    wall_elapsed_ns.store(std::chrono::duration_cast<std::chrono::nanoseconds>(
                              std::chrono::steady_clock::now() - wall_start)
                              .count());
    queue.Close();  // the last worker out lets the writer drain and finish
  }
}

Status PlantPipeline::Impl::ApplyPending(MachineSlot& slot) {
  std::optional<BaselineUpdate> update;
  {
    std::lock_guard lock(slot.pending_mu);
    update = std::move(slot.pending);
    slot.pending.reset();
    slot.has_pending.store(false, std::memory_order_release);
  }
  if (!update) return Status::OK();
  auto events = slot.core->ApplyBaseline(*update);
  if (!events.ok()) {
    log::Error("pipeline", events.status().message());
    return Status::OK();
  }
  if (options.on_alarm_event) {
    for (const sink::AlarmEvent& e : *events) MH_RETURN_IF_ERROR(options.on_alarm_event(e));
  }
  return Status::OK();
}

void PlantPipeline::Impl::PollerLoop() {
  std::unique_lock lock(poller_mu);
  while (!poller_stop) {
    poller_cv.wait_for(lock, options.baseline_poll_interval, [this] { return poller_stop; });
    if (poller_stop) break;
    lock.unlock();
    auto updates = options.poll_baselines();
    if (!updates.ok()) {
      log::Warn("pipeline", "baseline changes not read: " + updates.status().message());
    } else {
      for (BaselineUpdate& u : *updates) {
        auto it = slot_of.find(u.machine_id);
        if (it == slot_of.end()) continue;  // not one of the simulated machines
        MachineSlot& slot = *slots[it->second];
        std::lock_guard pending_lock(slot.pending_mu);
        slot.pending = std::move(u);
        slot.has_pending.store(true, std::memory_order_release);
      }
    }
    lock.lock();
  }
}

void PlantPipeline::Impl::WriterLoop() {
  std::vector<sink::WindowRecord> batch;
  batch.reserve(options.batch_max);
  while (true) {
    batch.clear();
    const bool more = queue.PopBatch(&batch, options.batch_max, std::chrono::milliseconds(200),
                                     options.batch_linger);
    if (!batch.empty()) {
      // RunningSink retries Unavailable and IOError with backoff while the
      // batch is kept; anything else, or a stop while the sink is still
      // down, stops the pipeline.
      Status st = sink->Write(batch, stop);
      if (!st.ok()) Fail(st);
    }
    if (!more) break;
  }
  done.store(true);
}

void PlantPipeline::RequestStop() {
  impl_->stop.store(true);
  {
    std::lock_guard lock(impl_->poller_mu);
    impl_->poller_stop = true;
  }
  impl_->poller_cv.notify_all();
}

bool PlantPipeline::Done() const { return impl_->done.load(); }

Status PlantPipeline::Wait() {
  Impl& s = *impl_;
  for (auto& t : s.workers) t.join();
  s.workers.clear();
  {
    std::lock_guard lock(s.poller_mu);
    s.poller_stop = true;
  }
  s.poller_cv.notify_all();
  if (s.poller.joinable()) s.poller.join();
  s.queue.Close();
  if (s.writer.joinable()) s.writer.join();
  Status close = s.sink->Close();
  std::lock_guard<std::mutex> lock(s.error_mu);
  if (!s.first_error.ok()) return s.first_error;
  return close;
}

const std::string& PlantPipeline::sink_name() const { return impl_->sink->name(); }

PipelineStats PlantPipeline::stats() const {
  const Impl& s = *impl_;
  PipelineStats out;
  out.windows = s.windows.load();
  out.sink = s.sink->metrics();
  out.windows_written = out.sink.records;
  out.batches = out.sink.batches;
  out.write_retries = out.sink.retries;
  out.queue_depth = s.queue.size();
  out.queue_high_water = s.queue.high_water();
  out.lagging_ms = s.lag_ms.load();
  const std::int64_t timed_samples = s.sim_timed_samples.load();
  if (timed_samples > 0) {
    out.simulator_cpu_seconds = static_cast<double>(s.sim_timed_ns.load()) * 1e-9 *
                                static_cast<double>(s.sim_samples.load()) /
                                static_cast<double>(timed_samples);
  }
  std::int64_t min_done = s.slots.empty() ? 0 : INT64_MAX;
  for (const auto& slot : s.slots) min_done = std::min(min_done, slot->samples_done.load());
  out.simulated_seconds = static_cast<double>(min_done) / s.options.plant.sample_rate_hz;
  const std::int64_t elapsed = s.wall_elapsed_ns.load();
  out.wall_seconds =
      elapsed >= 0
          ? static_cast<double>(elapsed) * 1e-9
          : std::chrono::duration<double>(std::chrono::steady_clock::now() - s.wall_start).count();
  return out;
}

}  // namespace mh::pipeline
