#include "pipeline/plant_pipeline.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <mutex>
#include <thread>
#include <utility>

#include "core/time_util.h"
#include "log/log.h"
#include "pipeline/bounded_queue.h"
#include "sim/machine_simulator.h"

namespace mh::pipeline {

bool IsDefaultModelFeature(const std::string& name) {
  for (const char* prefix :
       {"rms_a", "peak_to_peak_", "crest_factor_", "skewness_", "kurtosis_", "band_rms_"}) {
    if (name.rfind(prefix, 0) == 0) return true;
  }
  return false;
}

namespace {

// One simulated machine and everything the worker keeps for it.
struct MachineSlot {
  std::unique_ptr<sim::MachineSimulator> simulator;
  std::unique_ptr<MachineMonitor> monitor;
  std::atomic<std::int64_t> windows_done{0};  // written by its worker only
};

}  // namespace

struct PlantPipeline::Impl {
  PlantPipelineOptions options;
  std::unique_ptr<sink::Sink> sink;
  std::vector<sim::MachineConfig> configs;
  std::vector<std::unique_ptr<MachineSlot>> slots;
  std::shared_ptr<const std::vector<std::string>> feature_names;
  std::vector<std::string> model_feature_names;
  std::vector<std::size_t> model_columns;
  std::vector<std::size_t> rms_columns;  // rms_<channel> for the vector RMS
  std::int64_t max_windows = 0;          // per machine; 0 = unbounded
  double window_seconds = 0;

  BoundedQueue<sink::WindowRecord> queue;
  std::vector<std::thread> workers;
  std::thread writer;
  std::atomic<bool> stop{false};
  std::atomic<int> workers_running{0};
  std::atomic<bool> done{false};
  std::int64_t start_ns = 0;
  std::chrono::steady_clock::time_point wall_start;
  std::atomic<std::int64_t> windows{0};
  std::atomic<std::int64_t> windows_written{0};
  std::atomic<std::int64_t> batches{0};
  std::atomic<std::int64_t> retries{0};
  std::atomic<std::int64_t> lag_ms{0};
  std::atomic<std::int64_t> wall_elapsed_ns{-1};  // set when the last worker finishes

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
  impl->sink = std::move(sink);
  MH_ASSIGN_OR_RETURN(impl->configs, sim::MakePlant(options.plant));

  features::FeatureOptions fopts;
  fopts.sample_rate_hz = options.plant.sample_rate_hz;
  fopts.window_samples = options.window_samples;
  fopts.bands = options.bands;
  // Bands above the Nyquist frequency are clipped to it (a low --fs).
  const double nyquist = options.plant.sample_rate_hz / 2;
  for (auto& band : fopts.bands) band.hi_hz = std::min(band.hi_hz, nyquist);
  fopts.bands.erase(std::remove_if(fopts.bands.begin(), fopts.bands.end(),
                                   [](const features::Band& b) { return b.lo_hz >= b.hi_hz; }),
                    fopts.bands.end());
  MH_ASSIGN_OR_RETURN(auto extractor, features::WindowFeatureExtractor::Create(fopts));
  impl->feature_names = std::make_shared<const std::vector<std::string>>(extractor->names());
  const auto& names = *impl->feature_names;
  for (const char* channel : {"rms_ax", "rms_ay", "rms_az"}) {
    auto it = std::find(names.begin(), names.end(), channel);
    if (it == names.end()) return Status::Internal(std::string("no feature ") + channel);
    impl->rms_columns.push_back(static_cast<std::size_t>(it - names.begin()));
  }
  if (options.model) {
    // A given model scores the features it names, in its order.
    std::string missing;
    for (const auto& want : options.model->feature_names) {
      auto it = std::find(names.begin(), names.end(), want);
      if (it == names.end()) {
        missing += (missing.empty() ? "" : ", ") + want;
        continue;
      }
      impl->model_columns.push_back(static_cast<std::size_t>(it - names.begin()));
      impl->model_feature_names.push_back(want);
    }
    if (!missing.empty()) {
      return Status::InvalidArgument(
          "--model: the model needs features that run does not compute: " + missing);
    }
  } else {
    for (std::size_t i = 0; i < names.size(); ++i) {
      if (IsDefaultModelFeature(names[i])) {
        impl->model_columns.push_back(i);
        impl->model_feature_names.push_back(names[i]);
      }
    }
  }
  impl->window_seconds = static_cast<double>(options.window_samples) / options.plant.sample_rate_hz;
  if (options.duration.count() > 0) {
    impl->max_windows = static_cast<std::int64_t>(std::floor(
        static_cast<double>(options.duration.count()) * 1e-9 / impl->window_seconds + 1e-9));
    if (impl->max_windows < 1) {
      return Status::InvalidArgument("--duration: shorter than one window");
    }
  }
  for (const auto& config : impl->configs) {
    auto slot = std::make_unique<MachineSlot>();
    slot->simulator = std::make_unique<sim::MachineSimulator>(config);
    slot->monitor = std::make_unique<MachineMonitor>(options.monitor, impl->model_columns,
                                                     impl->model_feature_names, options.model);
    impl->slots.push_back(std::move(slot));
  }
  return std::unique_ptr<PlantPipeline>(new PlantPipeline(std::move(impl)));
}

PlantPipeline::PlantPipeline(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

PlantPipeline::~PlantPipeline() {
  if (impl_->writer.joinable() || !impl_->workers.empty()) {
    RequestStop();
    (void)Wait();
  }
}

const std::vector<std::string>& PlantPipeline::feature_names() const {
  return *impl_->feature_names;
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
  for (std::size_t w = 0; w < n_workers; ++w) {
    s.workers.emplace_back([&s, w, n_workers] { s.WorkerLoop(w, n_workers); });
  }
  return Status::OK();
}

void PlantPipeline::Impl::WorkerLoop(std::size_t worker, std::size_t worker_count) {
  const std::size_t window = options.window_samples;
  const double fs = options.plant.sample_rate_hz;
  auto extractor_or = [&] {
    features::FeatureOptions fopts;
    fopts.sample_rate_hz = fs;
    fopts.window_samples = window;
    fopts.bands = options.bands;
    const double nyquist = fs / 2;
    for (auto& band : fopts.bands) band.hi_hz = std::min(band.hi_hz, nyquist);
    fopts.bands.erase(std::remove_if(fopts.bands.begin(), fopts.bands.end(),
                                     [](const features::Band& b) { return b.lo_hz >= b.hi_hz; }),
                      fopts.bands.end());
    return features::WindowFeatureExtractor::Create(fopts);
  }();
  if (!extractor_or.ok()) {
    Fail(extractor_or.status());
    return;
  }
  auto extractor = std::move(extractor_or).value();
  std::vector<double> ax(window), ay(window), az(window);
  const std::span<const double> channels[3] = {ax, ay, az};
  std::vector<std::size_t> mine;
  for (std::size_t m = worker; m < slots.size(); m += worker_count) mine.push_back(m);

  while (!stop.load(std::memory_order_relaxed)) {
    // How much simulated time may have passed by now.
    const double wall_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
    const double allowed_s = options.speed > 0 ? wall_s * options.speed : INFINITY;
    bool progressed = false;
    bool all_finished = true;
    double behind_s = 0;
    // One window per machine per pass keeps machines level with each other.
    for (std::size_t m : mine) {
      if (stop.load(std::memory_order_relaxed)) break;
      MachineSlot& slot = *slots[m];
      if (max_windows > 0 && slot.windows_done >= max_windows) continue;
      all_finished = false;
      const double window_end_s = static_cast<double>(slot.windows_done + 1) * window_seconds;
      if (window_end_s > allowed_s) continue;
      behind_s = std::max(behind_s, allowed_s - window_end_s);
      slot.simulator->Generate(window, ax.data(), ay.data(), az.data());
      sink::WindowRecord record;
      record.machine_id = configs[m].machine_id;
      record.window_start_ns = start_ns + static_cast<std::int64_t>(
                                              std::llround(static_cast<double>(slot.windows_done) *
                                                           static_cast<double>(window) * 1e9 / fs));
      record.feature_names = feature_names;
      record.features.resize(feature_names->size());
      Status st = extractor->Compute(channels, record.features);
      if (!st.ok()) {
        Fail(st.WithContext("features: machine " + record.machine_id));
        break;
      }
      double sum_sq = 0;
      for (std::size_t c : rms_columns) sum_sq += record.features[c] * record.features[c];
      record.rms = std::sqrt(sum_sq);
      st = slot.monitor->Observe(record.features, &record);
      if (!st.ok()) {
        Fail(st.WithContext("machine " + record.machine_id));
        break;
      }
      ++slot.windows_done;
      windows.fetch_add(1, std::memory_order_relaxed);
      if (!queue.Push(std::move(record))) break;
      progressed = true;
    }
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

void PlantPipeline::Impl::WriterLoop() {
  std::vector<sink::WindowRecord> batch;
  batch.reserve(options.batch_max);
  while (true) {
    batch.clear();
    const bool more = queue.PopBatch(&batch, options.batch_max, std::chrono::milliseconds(200));
    if (!batch.empty()) {
      // Unavailable is retried with backoff; anything else stops the pipeline.
      int attempt = 0;
      while (true) {
        Status st = sink->Write(batch);
        if (st.ok()) {
          batches.fetch_add(1);
          windows_written.fetch_add(static_cast<std::int64_t>(batch.size()));
          break;
        }
        if (st.IsUnavailable() && attempt < 8) {
          retries.fetch_add(1);
          std::this_thread::sleep_for(std::chrono::milliseconds(50 << attempt));
          ++attempt;
          continue;
        }
        Fail(st.WithContext("sink"));
        break;
      }
    }
    if (!more) break;
  }
  done.store(true);
}

void PlantPipeline::RequestStop() { impl_->stop.store(true); }

bool PlantPipeline::Done() const { return impl_->done.load(); }

Status PlantPipeline::Wait() {
  Impl& s = *impl_;
  for (auto& t : s.workers) t.join();
  s.workers.clear();
  s.queue.Close();
  if (s.writer.joinable()) s.writer.join();
  Status close = s.sink->Close();
  std::lock_guard<std::mutex> lock(s.error_mu);
  if (!s.first_error.ok()) return s.first_error;
  return close;
}

PipelineStats PlantPipeline::stats() const {
  const Impl& s = *impl_;
  PipelineStats out;
  out.windows = s.windows.load();
  out.windows_written = s.windows_written.load();
  out.batches = s.batches.load();
  out.write_retries = s.retries.load();
  out.queue_high_water = s.queue.high_water();
  out.lagging_ms = s.lag_ms.load();
  std::int64_t min_done = s.slots.empty() ? 0 : INT64_MAX;
  for (const auto& slot : s.slots) min_done = std::min(min_done, slot->windows_done.load());
  out.simulated_seconds = static_cast<double>(min_done) * s.window_seconds;
  const std::int64_t elapsed = s.wall_elapsed_ns.load();
  out.wall_seconds =
      elapsed >= 0
          ? static_cast<double>(elapsed) * 1e-9
          : std::chrono::duration<double>(std::chrono::steady_clock::now() - s.wall_start).count();
  return out;
}

}  // namespace mh::pipeline
