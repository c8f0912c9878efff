// machine-health run: the whole pipeline in one process, no outside services.
// Machines -> the pipeline core of each (windows -> features -> per-machine
// baseline -> alarm rule) -> SQLite (windows, alarms) -> dashboard on
// http://127.0.0.1:8080/ and alarm notifications.
//
// Machines are simulated, or with --from URI (repeatable) real sensors:
// mqtt://, mqtts://, kafka://, eventhubs://, jsonl:PATH, - (stdin), dir:PATH
// (a folder where a data logger drops snapshot files). --machines-file
// describes them (registry/registry.h).
#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <mutex>
#include <ostream>
#include <sstream>
#include <thread>

#include <CLI/CLI.hpp>

#include "app/builtin_plugins.h"
#include "app/command.h"
#include "app/pipeline_options.h"
#include "app/run_support.h"
#include "blob/model_source.h"
#include "core/strings.h"
#include "core/time_util.h"
#include "core/uri.h"
#include "http/dashboard_server.h"
#include "iforest/model_io.h"
#include "iforest/sklearn_import.h"
#include "log/log.h"
#include "metrics/metrics.h"
#include "metrics/process_metrics.h"
#include "notify/dispatcher.h"
#include "pipeline/plant_pipeline.h"
#include "pipeline/registry_spec.h"
#include "pipeline/stream_scorer.h"
#include "registry/registry.h"
#include "sim/fault.h"
#include "sim/plant.h"
#include "sink/running_sink.h"
#include "sink/sqlite/alarm_store.h"
#include "sink/sqlite/baseline_store.h"
#include "sink/sqlite/sqlite_reader.h"
#include "sink/sqlite/sqlite_sink.h"

namespace mh::app {
namespace {

struct RunArgs {
  int machines = 4;
  double speed = 1.0;
  std::string duration;  // empty = until stopped
  std::string http = "127.0.0.1:8080";
  std::string db = "machine-health.db";
  std::string model;
  std::uint64_t seed = 1;
  double fs = 25600;
  int threads = 1;
  std::string learning = "30s";
  std::vector<std::string> faults;
  bool healthy = false;
  bool quiet = false;
  PipelineArgs pipeline;
  std::vector<std::string> from;    // live sources; empty = simulate
  std::string machines_file;        // registry
  std::vector<std::string> notify;  // alarm notification targets
  std::string dead_letter;          // live: where bad events go
  // Store retention and size budget (sink::SqliteOptions, docs/database.md).
  std::string retention = "7d";
  std::string rollup_retention = "90d,5y";
  std::string max_db_size = "20GB";
};

// The SQLite sink's options from --db, --retention, --rollup-retention and
// --max-db-size. InvalidArgument naming the option.
Result<sink::SqliteOptions> StoreOptions(const RunArgs& args) {
  sink::SqliteOptions o;
  o.path = args.db;
  auto window = ParseDuration(args.retention);
  if (!window.ok()) return window.status().WithContext("--retention");
  o.window_retention = *window;
  const std::vector<std::string> tiers = Split(args.rollup_retention, ',');
  if (tiers.size() != 2) {
    return Status::InvalidArgument("--rollup-retention: '" + args.rollup_retention +
                                   "' is not two durations (expected 1-MINUTE,1-HOUR, e.g. "
                                   "90d,5y)");
  }
  auto minute = ParseDuration(TrimSpace(tiers[0]));
  if (!minute.ok()) return minute.status().WithContext("--rollup-retention");
  auto hour = ParseDuration(TrimSpace(tiers[1]));
  if (!hour.ok()) return hour.status().WithContext("--rollup-retention");
  o.rollup_1m_retention = *minute;
  o.rollup_1h_retention = *hour;
  auto size = ParseByteSize(args.max_db_size);
  if (!size.ok()) return size.status().WithContext("--max-db-size");
  o.max_db_size = *size;
  return o;
}

// What both wirings share: the alarm store and its notifications.
struct AlarmOutput {
  std::unique_ptr<sink::AlarmStore> store;
  std::unique_ptr<notify::Dispatcher> dispatcher;
  Status Record(std::span<const sink::AlarmEvent> events) {
    MH_RETURN_IF_ERROR(store->Record(events));
    if (dispatcher) dispatcher->Wake();
    return Status::OK();
  }
};

// The machines' stored baselines: a restarted run resumes every machine with
// its active baseline (no relearning), and each baseline fitted is stored
// with its version (docs/baselines.md).
struct StoredBaselines {
  std::unique_ptr<sink::BaselineStore> store;
  std::map<std::string, std::shared_ptr<const score::Baseline>> active;
  std::int64_t start_seq = 0;  // the change sequence before `active` was read

  static Result<StoredBaselines> Open(const std::string& db) {
    StoredBaselines b;
    sink::BaselineStoreOptions o;
    o.path = db;
    MH_ASSIGN_OR_RETURN(b.store, sink::BaselineStore::Open(o));
    // Read before the baselines: a change in between is seen once more
    // (applying it again changes nothing), never missed.
    MH_ASSIGN_OR_RETURN(b.start_seq, b.store->CurrentSeq());
    MH_ASSIGN_OR_RETURN(auto all, b.store->LoadActive());
    for (auto& baseline : all) b.active[baseline->machine_id] = std::move(baseline);
    return b;
  }
  // The machine's stored baseline unless one is assigned, and the version
  // its next learned baseline gets. Thread-safe (the store is).
  // With `alarms`, a machine that resumes a baseline also gets the stored
  // windows its alarm stage replays (MachineSpec::alarm_resume).
  void Resume(pipeline::MachineSpec* spec, sink::AlarmStore* alarms) const {
    if (spec->baseline == nullptr) {
      auto it = active.find(spec->machine_id);
      if (it != active.end()) {
        spec->baseline = it->second;
        log::Info("run", "machine '" + spec->machine_id + "': resumes with its stored baseline v" +
                             std::to_string(it->second->version) + " (" +
                             std::to_string(it->second->rows) + " windows)");
      }
    }
    auto next = store->NextVersion(spec->machine_id);
    if (next.ok()) spec->first_version = *next;
    if (spec->baseline != nullptr && alarms != nullptr) {
      auto stored = alarms->ResumeWindows(spec->machine_id, alarm::kMaxAlarmWindows);
      if (!stored.ok()) {
        log::Warn("run", "machine '" + spec->machine_id +
                             "': alarm state not resumed: " + stored.status().message());
        return;
      }
      for (const sink::StoredScore& w : *stored) {
        spec->alarm_resume.push_back({w.t_ns, w.score, w.anomalous});
      }
    }
  }
  // A poll of the baseline changes made elsewhere with its own cursor
  // (one per driver): per changed machine its active baseline now and the
  // version its next learned baseline gets.
  pipeline::BaselinePoll Poller() const {
    auto seq = std::make_shared<std::int64_t>(start_seq);
    return [store = store.get(), seq]() -> Result<std::vector<pipeline::BaselineUpdate>> {
      MH_ASSIGN_OR_RETURN(auto changes, store->ChangesSince(*seq));
      std::vector<pipeline::BaselineUpdate> updates;
      for (const sink::BaselineChange& c : changes) {
        pipeline::BaselineUpdate u;
        u.machine_id = c.machine_id;
        MH_ASSIGN_OR_RETURN(u.baseline, store->LoadActive(c.machine_id));
        MH_ASSIGN_OR_RETURN(u.next_version, store->NextVersion(c.machine_id));
        updates.push_back(std::move(u));
        *seq = std::max(*seq, c.seq);
      }
      return updates;
    };
  }
  Status Save(const std::shared_ptr<const score::Baseline>& b) const {
    auto saved = store->Save(*b);
    if (!saved.ok()) return saved.status();
    log::Info("run", "machine '" + b->machine_id + "': baseline v" + std::to_string(b->version) +
                         " stored (" + std::to_string(b->rows) + " windows, threshold " +
                         FormatDouble(b->threshold) + ")");
    return Status::OK();
  }
};

Result<AlarmOutput> OpenAlarmOutput(const RunArgs& args) {
  AlarmOutput out;
  sink::AlarmStoreOptions so;
  so.path = args.db;
  MH_ASSIGN_OR_RETURN(out.store, sink::AlarmStore::Open(so));
  std::vector<std::unique_ptr<notify::Notifier>> notifiers;
  for (const std::string& text : args.notify) {
    auto uri = ParseUri(text);
    if (!uri.ok()) return Status(uri.status()).WithContext("--notify");
    auto n = OpenNotifier(*uri);
    if (!n.ok()) return Status(n.status()).WithContext("--notify");
    notifiers.push_back(std::move(*n));
  }
  if (!notifiers.empty()) {
    MH_ASSIGN_OR_RETURN(out.dispatcher,
                        notify::Dispatcher::Start(out.store.get(), std::move(notifiers), {}));
  }
  return out;
}

// Event time at which a run continues an existing database: after its latest
// window, so that a second run never overwrites the first one's rows.
std::int64_t ContinueAfter(const std::string& db_path) {
  std::error_code ec;
  if (!std::filesystem::exists(db_path, ec)) return 0;
  auto reader = sink::SqliteReader::Open(db_path);
  if (!reader.ok()) return 0;
  auto machines = (*reader)->Machines();
  if (!machines.ok()) return 0;
  std::int64_t latest = 0;
  for (const auto& m : *machines) latest = std::max(latest, m.updated_ns);
  return latest;
}

int RunPipeline(const RunArgs& args, CommandIo& io) {
  const std::string cmd = "run";
  pipeline::PlantPipelineOptions options;
  if (args.machines < 1 || args.machines > 10000) {
    return UsageError(io, cmd, "--machines: expected an integer in 1..10000");
  }
  if (!(args.speed >= 0) || !std::isfinite(args.speed)) {
    return UsageError(io, cmd, "--speed: expected a number >= 0 (0 = as fast as possible)");
  }
  if (!(args.fs > 0) || !std::isfinite(args.fs)) {
    return UsageError(io, cmd, "--fs: expected a sampling rate in Hz > 0");
  }
  if (args.threads < 1 || args.threads > 256) {
    return UsageError(io, cmd, "--threads: expected an integer in 1..256");
  }
  options.plant.machines = args.machines;
  options.plant.seed = args.seed;
  options.plant.sample_rate_hz = args.fs;
  options.speed = args.speed;
  options.threads = args.threads;
  if (!args.duration.empty()) {
    auto d = ParseDuration(args.duration);
    if (!d.ok()) return UsageError(io, cmd, "--duration: " + d.status().message());
    if (d->count() <= 0) return UsageError(io, cmd, "--duration: must be positive");
    options.duration = *d;
  }
  auto core = MakePipelineOptions(args.pipeline);
  if (!core.ok()) return UsageError(io, cmd, core.status().message());
  options.pipeline = *core;
  auto learning = ParseDuration(args.learning);
  if (!learning.ok()) return UsageError(io, cmd, "--learning: " + learning.status().message());
  // --learning is a stretch of time: that many window hops, at least 16.
  const window::WindowOptions& w = options.pipeline.window;
  const double hop_s =
      static_cast<double>(w.hop_samples == 0 ? w.window_samples : w.hop_samples) / args.fs;
  options.pipeline.learn.learning_windows = static_cast<std::size_t>(
      std::max(16.0, std::round(static_cast<double>(learning->count()) * 1e-9 / hop_s)));
  if (!args.faults.empty() && args.healthy) {
    return UsageError(io, cmd, "--fault and --healthy exclude each other");
  }
  if (!args.healthy) {
    if (args.faults.empty()) {
      for (const auto& f : sim::DemoFaults()) {
        if (f.machine <= args.machines) options.plant.faults.push_back(f);
      }
    }
    for (const auto& text : args.faults) {
      auto f = sim::ParseFaultSpec(text);
      if (!f.ok()) return UsageError(io, cmd, "--fault: " + f.status().message());
      options.plant.faults.push_back(*f);
    }
  }
  if (auto plant = sim::MakePlant(options.plant); !plant.ok()) {
    return UsageError(io, cmd, "--fault: " + plant.status().message());
  }
  std::optional<ListenAddress> listen;
  if (args.http != "off") {
    auto addr = ParseListenAddress("--http", args.http);
    if (!addr.ok()) return ReportOptionError(io, cmd, addr.status());
    listen = *addr;
  }
  if (!args.model.empty()) {
    auto model = blob::LoadModelSource(args.model);
    if (!model.ok()) {
      PrintError(io, "run", "--model: " + model.status().message());
      return kExitFailure;
    }
    options.model = std::make_shared<const iforest::Model>(std::move(model).value());
  }

  std::error_code ec;
  const bool db_existed = std::filesystem::exists(args.db, ec);
  const std::int64_t latest = ContinueAfter(args.db);
  const std::int64_t now_ns = WallNowNs() / 1000000 * 1000000;
  options.start_ns = std::max(now_ns, latest + 1000000000);

  auto store_options = StoreOptions(args);
  if (!store_options.ok()) return UsageError(io, cmd, store_options.status().message());
  auto sink = sink::OpenSqliteSink(*store_options);
  if (!sink.ok()) {
    PrintError(io, "run", "--db: " + sink.status().message());
    return kExitFailure;
  }
  auto alarms = OpenAlarmOutput(args);
  if (!alarms.ok()) return ReportOptionError(io, cmd, alarms.status());
  auto baselines = StoredBaselines::Open(args.db);
  if (!baselines.ok()) return ReportOptionError(io, cmd, baselines.status().WithContext("--db"));
  options.configure_machine = [&baselines, &alarms](pipeline::MachineSpec* spec) {
    baselines->Resume(spec, alarms->store.get());
  };
  options.on_new_baseline = [&baselines](const std::shared_ptr<const score::Baseline>& b) {
    return baselines->Save(b);
  };
  options.on_alarm_event = [&alarms](const sink::AlarmEvent& e) {
    return alarms->Record(std::span<const sink::AlarmEvent>(&e, 1));
  };
  options.poll_baselines = baselines->Poller();
  options.sink_name = "sqlite:" + args.db;
  auto created = pipeline::PlantPipeline::Create(options, std::move(sink).value());
  auto remove_new_db = [&] {
    if (db_existed) return;
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(args.db + suffix, ec);
  };
  if (!created.ok()) {
    remove_new_db();
    return ReportOptionError(io, cmd, created.status());
  }
  auto pipeline = std::move(created).value();

  // GET /metrics (docs/operations.md#metrics): the process, the simulated
  // machines' windows and the database sink, read from the pipeline's own
  // counts at each scrape.
  auto registry = std::make_shared<metrics::Registry>();
  metrics::AddProcessCollector(*registry);
  const int collector = registry->AddCollector([p = pipeline.get()](metrics::Collection& c) {
    const pipeline::PipelineStats st = p->stats();
    c.Counter("machine_health_windows_total",
              "Windows made from the source's events and handed to the sinks (learning ones "
              "included).",
              {{"source", "simulator"}}, static_cast<double>(st.windows));
    sink::ReportSinkMetrics(p->sink_name(), st.sink, static_cast<std::int64_t>(st.queue_depth), c);
  });
  std::atomic<bool> scoring_started{false};
  std::unique_ptr<http::DashboardServer> server;
  if (listen) {
    http::ServerOptions sopts;
    sopts.host = listen->host;
    sopts.port = listen->port;
    sopts.db_path = args.db;
    sopts.learn = options.pipeline.learn;
    sopts.metrics = registry;
    sopts.readiness = [&scoring_started, p = pipeline.get()]() -> std::string {
      if (!scoring_started.load()) return "starting";
      const pipeline::PipelineStats st = p->stats();
      if (st.sink.failing) return p->sink_name() + ": not writable: " + st.sink.last_error;
      if (p->Done()) return "stopped";
      return "";
    };
    if (alarms->dispatcher) sopts.on_alarm_event = [d = alarms->dispatcher.get()] { d->Wake(); };
    auto started = http::DashboardServer::Start(sopts);
    if (!started.ok()) {
      pipeline.reset();
      remove_new_db();
      PrintError(io, "run", "--http: " + started.status().message());
      return kExitFailure;
    }
    server = std::move(started).value();
  }

  InstallStopSignalHandlers();
  MH_CHECK(pipeline->Start().ok());
  scoring_started.store(true);
  io.out << "machine-health run: " << args.machines << " machines at " << args.fs << " Hz, speed "
         << args.speed << "x, database " << args.db << "\n";
  if (server) io.out << "dashboard: " << server->url() << "\n";
  io.out.flush();

  auto last_report = std::chrono::steady_clock::now();
  while (!pipeline->Done() && !StopRequested()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (!args.quiet && std::chrono::steady_clock::now() - last_report > std::chrono::seconds(10)) {
      last_report = std::chrono::steady_clock::now();
      auto st = pipeline->stats();
      std::ostringstream msg;
      msg << "simulated " << st.simulated_seconds << " s in " << st.wall_seconds << " s, "
          << st.windows_written << " windows stored, lag " << st.lagging_ms << " ms";
      log::Info("run", msg.str());
    }
  }
  pipeline->RequestStop();
  Status status = pipeline->Wait();
  const auto stats = pipeline->stats();
  if (server) server->Stop();
  registry->RemoveCollector(collector);
  if (alarms->dispatcher) alarms->dispatcher->Stop();
  const double realtime = stats.wall_seconds > 0 ? stats.simulated_seconds / stats.wall_seconds : 0;
  const double cpu = ProcessCpuSeconds();
  const double machine_seconds = stats.simulated_seconds * args.machines;
  // What the pipeline costs fed by real sensors: the simulators' own CPU
  // (PipelineStats::simulator_cpu_seconds) taken out.
  const double cpu_without_sim = cpu - stats.simulator_cpu_seconds;
  io.out << "machine-health run: stopped: " << stats.windows_written << " windows stored, "
         << stats.simulated_seconds << " s simulated in " << stats.wall_seconds << " s wall ("
         << realtime << "x real time), cpu " << cpu << " s, "
         << (cpu > 0 ? machine_seconds / cpu : 0) << " machine-seconds per cpu-second ("
         << (cpu_without_sim > 0 ? machine_seconds / cpu_without_sim : 0)
         << " without the simulator's " << stats.simulator_cpu_seconds << " s), "
         << "peak memory " << PeakRssBytes() / (1024 * 1024) << " MiB\n";
  if (!status.ok()) return ReportError(io, cmd, status);
  return kExitOk;
}

// run --from: live sensors. One streaming scorer (in learning mode) per
// source, each on its own thread with its own database connection; the
// registry says what it knows of each machine on first sight
// (pipeline::ApplyRegistryEntry).
int RunLive(const RunArgs& args, CommandIo& io) {
  const std::string cmd = "run";
  auto core = MakePipelineOptions(args.pipeline);
  if (!core.ok()) return UsageError(io, cmd, core.status().message());
  auto learning = ParseDuration(args.learning);
  if (!learning.ok()) return UsageError(io, cmd, "--learning: " + learning.status().message());
  if (args.machines != 4 || !args.faults.empty() || args.healthy) {
    return UsageError(io, cmd,
                      "--machines, --fault and --healthy are for simulated machines, "
                      "not with --from");
  }
  // The registry's base: the command line's pipeline options.
  registry::MachineConfig base;
  base.learning.in_windows = false;
  base.learning.duration = *learning;
  base.alarm = core->alarm;
  base.threshold = core->learn.threshold;
  base.model = args.model;
  std::shared_ptr<registry::Registry> machines;
  if (!args.machines_file.empty()) {
    auto r = registry::Registry::Load(args.machines_file, base);
    if (!r.ok()) return ReportOptionError(io, cmd, r.status().WithContext("--machines-file"));
    machines = std::move(*r);
  } else {
    machines = registry::Registry::BuiltIn(base);
  }
  // Models assigned by --model or the registry, loaded once per path.
  std::mutex models_mu;
  std::map<std::string, std::shared_ptr<const score::Baseline>> models;
  Status model_error;
  auto assigned = [&](const std::string& path) -> std::shared_ptr<const score::Baseline> {
    std::lock_guard lock(models_mu);
    auto it = models.find(path);
    if (it != models.end()) return it->second;
    auto m = blob::LoadModelSource(path);
    std::shared_ptr<score::Baseline> b;
    if (m.ok()) {
      b = std::make_shared<score::Baseline>();
      b->version = 1;
      b->model = std::make_shared<const iforest::Model>(std::move(*m));
      b->rule.rule = score::ThresholdRule::kAuto;
      b->origin = path;
    } else {
      log::Error(cmd, "model " + path + ": " + m.status().message() + " (the machine learns)");
    }
    models.emplace(path, b);
    return b;
  };
  if (!args.model.empty() && assigned(args.model) == nullptr) {
    return ReportError(io, cmd, Status::InvalidArgument("--model: cannot be read"));
  }

  struct Source {
    std::string address;
    std::unique_ptr<transport::Subscriber> subscriber;
    std::unique_ptr<transport::Publisher> dead;
    std::unique_ptr<sink::RunningSink> sink;
    std::unique_ptr<pipeline::StreamScorer> scorer;
    Status status;
  };
  std::vector<Source> sources(args.from.size());
  for (std::size_t i = 0; i < args.from.size(); ++i) {
    Source& src = sources[i];
    src.address = args.from[i];
    auto uri = ParseUri(args.from[i]);
    if (!uri.ok()) return ReportOptionError(io, cmd, uri.status().WithContext("--from"));
    auto sub = OpenSubscriber(*uri);
    if (!sub.ok())
      return ReportOptionError(io, cmd, sub.status().WithContext("--from " + src.address));
    src.subscriber = std::move(*sub);
    if (!args.dead_letter.empty()) {
      auto d = ParseUri(args.dead_letter);
      if (!d.ok()) return ReportOptionError(io, cmd, d.status().WithContext("--dead-letter"));
      auto p = OpenPublisher(*d, io.out);
      if (!p.ok()) return ReportOptionError(io, cmd, p.status().WithContext("--dead-letter"));
      src.dead = std::move(*p);
    }
    auto store_options = StoreOptions(args);
    if (!store_options.ok()) return UsageError(io, cmd, store_options.status().message());
    auto db = sink::OpenSqliteSink(*store_options);
    if (!db.ok()) return ReportOptionError(io, cmd, db.status().WithContext("--db"));
    src.sink = std::make_unique<sink::RunningSink>("sqlite:" + args.db, std::move(*db));
  }
  auto alarms = OpenAlarmOutput(args);
  if (!alarms.ok()) return ReportOptionError(io, cmd, alarms.status());
  std::mutex alarms_mu;
  auto baselines = StoredBaselines::Open(args.db);
  if (!baselines.ok()) return ReportOptionError(io, cmd, baselines.status().WithContext("--db"));

  pipeline::StreamScorerOptions so;
  so.pipeline = *core;
  so.configure_machine = [&](pipeline::MachineSpec* spec) {
    const registry::MachinePtr m = machines->Lookup(spec->machine_id);
    pipeline::ApplyRegistryEntry(*m, *core, spec);
    const score::LearnOptions& learn = *spec->learn;
    if (!m->model.empty()) spec->baseline = assigned(m->model);
    baselines->Resume(spec, alarms->store.get());
    log::Info(cmd, "machine '" + spec->machine_id +
                       "': " + (m->from_file ? "from the machines file" : "first seen, defaults") +
                       ", " + FormatDouble(spec->shape.fs_hz) + " hz, " +
                       (m->shaft.source == registry::ShaftSpeedSource::kEventField
                            ? "shaft speed from event field '" + m->shaft.field + "', "
                            : std::string()) +
                       (spec->baseline ? "baseline v" + std::to_string(spec->baseline->version) +
                                             " (" + spec->baseline->origin + ")"
                                       : "learns from " + std::to_string(learn.learning_windows) +
                                             " windows"));
  };
  so.on_new_baseline = [&baselines](const std::shared_ptr<const score::Baseline>& b) {
    return baselines->Save(b);
  };
  so.on_alarm_events = [&](std::span<const sink::AlarmEvent> events) {
    std::lock_guard lock(alarms_mu);
    return alarms->Record(events);
  };
  // GET /metrics (docs/operations.md#metrics): the process, and per source
  // its scorer's and sink's own counts, read at each scrape; the scoring
  // latency is observed by the scorers.
  auto registry = std::make_shared<metrics::Registry>();
  metrics::AddProcessCollector(*registry);
  auto& scoring = registry->AddHistogram(
      "machine_health_scoring_duration_seconds",
      "Seconds from a batch of events in hand to its windows ready for the sinks (decode, "
      "windows, features, scores, alarm rule).",
      metrics::LatencyBuckets(), {"source"});
  for (Source& src : sources) {
    so.poll_baselines = baselines->Poller();  // one cursor per scorer
    so.scoring_seconds = scoring.With({src.address});
    auto scorer = pipeline::StreamScorer::CreateLearning(*src.subscriber, {src.sink.get()},
                                                         src.dead.get(), so);
    if (!scorer.ok()) return ReportOptionError(io, cmd, scorer.status());
    src.scorer = std::move(*scorer);
  }

  // Every source writes the one database through a sink of its own: the
  // sink's series sums them (one series per sink name).
  const int collector = registry->AddCollector([&sources](metrics::Collection& c) {
    std::map<std::string, sink::SinkMetrics> sinks;
    for (const Source& src : sources) {
      pipeline::StreamScorer::Report(src.address, src.scorer->stats(), c);
      const sink::SinkMetrics m = src.sink->metrics();
      sink::SinkMetrics& sum = sinks[src.sink->name()];
      sum.batches += m.batches;
      sum.records += m.records;
      sum.attempts += m.attempts;
      sum.retries += m.retries;
      sum.failures += m.failures;
      sum.write_ns += m.write_ns;
      sum.pending += m.pending;
      sum.failing = sum.failing || m.failing;
    }
    for (const auto& [name, m] : sinks) sink::ReportSinkMetrics(name, m, 0, c);
  });
  std::atomic<bool> scoring_started{false};
  std::atomic<int> running{static_cast<int>(sources.size())};
  std::unique_ptr<http::DashboardServer> server;
  if (args.http != "off") {
    auto addr = ParseListenAddress("--http", args.http);
    if (!addr.ok()) return ReportOptionError(io, cmd, addr.status());
    http::ServerOptions sopts;
    sopts.host = addr->host;
    sopts.port = addr->port;
    sopts.db_path = args.db;
    sopts.registry = machines;
    sopts.learn = core->learn;
    sopts.metrics = registry;
    // Models and stored baselines are loaded before the server starts (a
    // model that cannot be read stops run); what remains is whether the
    // scorers run, reach their sources and can write.
    sopts.readiness = [&sources, &scoring_started, &running]() -> std::string {
      if (!scoring_started.load()) return "starting";
      if (running.load() < static_cast<int>(sources.size())) return "a source stopped";
      for (const Source& src : sources) {
        if (src.scorer->stats().source_down) return "source " + src.address + ": not reachable";
        const sink::SinkMetrics m = src.sink->metrics();
        if (m.failing) return src.sink->name() + ": not writable: " + m.last_error;
      }
      return "";
    };
    if (alarms->dispatcher) sopts.on_alarm_event = [d = alarms->dispatcher.get()] { d->Wake(); };
    auto started = http::DashboardServer::Start(sopts);
    if (!started.ok()) return ReportError(io, cmd, started.status().WithContext("--http"));
    server = std::move(*started);
  }

  InstallStopSignalHandlers();
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (Source& src : sources) {
    threads.emplace_back([&src, &stop, &running] {
      src.status = src.scorer->Run(stop);
      if (!src.status.ok()) stop.store(true);  // one source failing stops run
      running.fetch_sub(1);
    });
  }
  scoring_started.store(true);
  io.out << "machine-health run: watching";
  for (const Source& src : sources) io.out << " " << src.address;
  io.out << ", database " << args.db << "\n";
  if (server) io.out << "dashboard: " << server->url() << "\n";
  io.out.flush();
  auto last_report = std::chrono::steady_clock::now();
  while (running.load() > 0 && !StopRequested()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (!args.quiet && std::chrono::steady_clock::now() - last_report > std::chrono::seconds(10)) {
      last_report = std::chrono::steady_clock::now();
      for (const Source& src : sources) {
        const auto st = src.scorer->stats();
        log::Info(cmd, src.address + ": " + std::to_string(st.messages) + " events, " +
                           std::to_string(st.records) + " windows stored, " +
                           std::to_string(st.machines) + " machines, " +
                           std::to_string(st.alarms_opened) + " alarms, " +
                           std::to_string(st.dead_letters) + " dead letters");
      }
    }
  }
  stop.store(true);
  for (auto& t : threads) t.join();
  if (server) server->Stop();
  registry->RemoveCollector(collector);
  if (alarms->dispatcher) alarms->dispatcher->Stop();
  Status status;
  std::int64_t events = 0, windows = 0, dead = 0, opened = 0, machines_seen = 0;
  for (Source& src : sources) {
    const auto st = src.scorer->stats();
    events += st.messages;
    windows += st.records;
    dead += st.dead_letters;
    opened += st.alarms_opened;
    machines_seen += st.machines;
    Status c = src.subscriber->Close();
    Status k = src.sink->Close();
    if (src.dead) (void)src.dead->Close();
    if (status.ok() && !src.status.ok()) status = src.status.WithContext(src.address);
    if (status.ok() && !k.ok()) status = k;
    if (!c.ok()) log::Warn(cmd, src.address + ": closing: " + c.message());
  }
  io.out << "machine-health run: stopped: " << events << " events, " << windows
         << " windows stored, " << machines_seen << " machines, " << opened << " alarms opened, "
         << dead << " dead letters, cpu " << ProcessCpuSeconds() << " s\n";
  if (!status.ok()) return ReportError(io, cmd, status);
  return kExitOk;
}
}  // namespace

void AddRunCommand(CLI::App& root, CommandIo& io, Action& action) {
  auto args = std::make_shared<RunArgs>();
  CLI::App* sub = root.add_subcommand(
      "run",
      "Run the whole pipeline in one process: simulated machines, features, Isolation Forest "
      "scoring, SQLite storage and the dashboard.");
  sub->add_option("--machines", args->machines, "Number of simulated machines")
      ->capture_default_str();
  sub->add_option("--speed", args->speed,
                  "Simulated seconds per wall-clock second (0 = as fast as possible)")
      ->capture_default_str();
  sub->add_option("--duration", args->duration,
                  "Simulated time after which run stops by itself (e.g. 90s, 10m); "
                  "default: until Ctrl-C");
  sub->add_option("--http", args->http, "Dashboard listen address ADDR:PORT, or 'off'")
      ->capture_default_str();
  sub->add_option("--db", args->db, "SQLite database file (WAL); continued if it exists")
      ->capture_default_str();
  sub->add_option("--retention", args->retention,
                  "Per-window data (features, scores) kept for this long in event time, e.g. "
                  "7d, 36h (0 = until --max-db-size); rollups stay (docs/database.md)")
      ->capture_default_str();
  sub->add_option("--rollup-retention", args->rollup_retention,
                  "1-minute and 1-hour rollups kept for this long, e.g. 90d,5y")
      ->capture_default_str();
  sub->add_option("--max-db-size", args->max_db_size,
                  "Budget of the database file and its WAL, e.g. 20GB, 512MiB (0 = unbounded): "
                  "the oldest windows go first, then the oldest rollups; alarms and baselines stay")
      ->capture_default_str();
  sub->add_option("--model", args->model,
                  "Model file (machine-health train) used for every machine; skips learning");
  sub->add_option("--seed", args->seed, "Simulation seed")->capture_default_str();
  sub->add_option("--fs", args->fs, "Sampling rate in Hz")->capture_default_str();
  sub->add_option("--threads", args->threads, "Worker threads")->capture_default_str();
  sub->add_option("--learning", args->learning,
                  "Healthy stretch each machine learns from before scoring")
      ->capture_default_str();
  sub->add_option("--fault", args->faults,
                  "MACHINE:KIND[@START] (repeatable; default: 3:outer-race and 4:imbalance)");
  sub->add_flag("--healthy", args->healthy, "Simulate no faults at all");
  sub->add_flag("--quiet", args->quiet, "No progress lines");
  AddPipelineOptions(*sub, args->pipeline, PipelineOptionSet{.learning = false});
  sub->add_option("--from", args->from,
                  "Watch real sensors instead of simulating (repeatable): mqtt://HOST:PORT/TOPIC, "
                  "mqtts://..., kafka://HOST:PORT/TOPIC?group=G, eventhubs://NS/HUB, jsonl:PATH, "
                  "- (stdin), dir:PATH?fs=HZ (a folder of snapshot files); docs/transports.md");
  sub->add_option("--machines-file", args->machines_file,
                  "Machine registry (TOML): name, rate, channels, rpm, bearing, learning, alarm "
                  "rule per machine (docs/machines.md)");
  sub->add_option("--notify", args->notify,
                  "Alarm notifications on open, acknowledge and close (repeatable): "
                  "https://... (webhook), mqtt://HOST/TOPIC, kafka://..., jsonl:PATH");
  sub->add_option("--dead-letter", args->dead_letter,
                  "With --from: where undecodable or invalid events go with the reason "
                  "(jsonl:PATH, kafka://..., mqtt://...); default: logged and counted");
  sub->callback([&io, &action, args] {
    action = [&io, args] {
      return args->from.empty() ? RunPipeline(*args, io) : RunLive(*args, io);
    };
  });
}

}  // namespace mh::app
