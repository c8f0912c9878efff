// machine-health run: the whole pipeline in one process, no outside services.
// Simulated machines -> windows -> features -> per-machine Isolation Forest ->
// SQLite -> dashboard on http://127.0.0.1:8080/.
#include <chrono>
#include <cmath>
#include <filesystem>
#include <ostream>
#include <sstream>
#include <thread>

#include <CLI/CLI.hpp>

#include "app/command.h"
#include "app/pipeline_options.h"
#include "app/run_support.h"
#include "core/strings.h"
#include "core/time_util.h"
#include "http/dashboard_server.h"
#include "iforest/model_io.h"
#include "log/log.h"
#include "pipeline/plant_pipeline.h"
#include "sim/fault.h"
#include "sim/plant.h"
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
};

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
    auto model = iforest::LoadModel(args.model);
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

  auto sink = sink::OpenSqliteSink(sink::SqliteOptions{args.db});
  if (!sink.ok()) {
    PrintError(io, "run", "--db: " + sink.status().message());
    return kExitFailure;
  }
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

  std::unique_ptr<http::DashboardServer> server;
  if (listen) {
    http::ServerOptions sopts;
    sopts.host = listen->host;
    sopts.port = listen->port;
    sopts.db_path = args.db;
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
  const double realtime = stats.wall_seconds > 0 ? stats.simulated_seconds / stats.wall_seconds : 0;
  const double cpu = ProcessCpuSeconds();
  const double machine_seconds = stats.simulated_seconds * args.machines;
  io.out << "machine-health run: stopped: " << stats.windows_written << " windows stored, "
         << stats.simulated_seconds << " s simulated in " << stats.wall_seconds << " s wall ("
         << realtime << "x real time), cpu " << cpu << " s, "
         << (cpu > 0 ? machine_seconds / cpu : 0) << " machine-seconds per cpu-second, "
         << "peak memory " << PeakRssBytes() / (1024 * 1024) << " MiB\n";
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
  sub->callback([&io, &action, args] { action = [&io, args] { return RunPipeline(*args, io); }; });
}

}  // namespace mh::app
