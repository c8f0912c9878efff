#include "app/score_stream.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "app/builtin_plugins.h"
#include "app/pipeline_options.h"
#include "app/run_support.h"
#include "blob/model_source.h"
#include "core/strings.h"
#include "core/time_util.h"
#include "core/uri.h"
#include "features/feature_stage.h"
#include "features/spectrum.h"
#include "http/metrics_server.h"
#include "iforest/sklearn_import.h"
#include "log/log.h"
#include "metrics/metrics.h"
#include "metrics/process_metrics.h"
#include "pipeline/model_reloader.h"
#include "pipeline/stream_scorer.h"
#include "sink/influxdb/influxdb_sink.h"
#include "sink/running_sink.h"

namespace mh::app {
namespace {

constexpr const char* kCommand = "score";

// Whether waveform features get the prototype's names (bandE0_200_ax):
// --names, else its deprecated spelling --feature-names, else only for the
// prototype's InfluxDB environment (INFLUXDB_URL and no --to), whose
// signal_features schema has those names. InvalidArgument when the two
// spellings disagree.
Result<bool> PrototypeNames(const ScoreStreamArgs& a) {
  const bool names_given = a.names_option != nullptr && a.names_option->count() > 0;
  MH_ASSIGN_OR_RETURN(const bool prototype_names, ParsePrototypeNames(a.names));
  if (!a.feature_names.empty()) {
    log::Warn(kCommand, "--feature-names is deprecated: use --names default|prototype");
    const bool prototype = a.feature_names == "prototype";
    if (names_given && prototype != prototype_names) {
      return Status::InvalidArgument("--feature-names " + a.feature_names +
                                     " contradicts --names " + a.names);
    }
    return prototype;
  }
  if (names_given) return prototype_names;
  return a.to.empty() && std::getenv("INFLUXDB_URL") != nullptr;
}

std::string StatsLine(const pipeline::StreamScorerStats& s) {
  return "messages=" + std::to_string(s.messages) +
         " feature_events=" + std::to_string(s.feature_events) +
         " waveform_events=" + std::to_string(s.waveform_events) +
         " windows=" + std::to_string(s.windows) + " scored=" + std::to_string(s.scored) +
         " records=" + std::to_string(s.records) +
         " dead_letters=" + std::to_string(s.dead_letters) +
         " batches=" + std::to_string(s.batches) +
         " commit_failures=" + std::to_string(s.commit_failures);
}

// One line per sink: "sink <address>: records=.. batches=.. retries=.. failures=..".
std::string SinkLine(const sink::RunningSink& s) {
  const sink::SinkMetrics m = s.metrics();
  std::string line = "sink " + s.name() + ": records=" + std::to_string(m.records) +
                     " batches=" + std::to_string(m.batches) +
                     " retries=" + std::to_string(m.retries) +
                     " failures=" + std::to_string(m.failures) +
                     " write_ms=" + std::to_string(m.write_ns / 1000000);
  if (!m.last_error.empty() && (m.retries > 0 || m.failures > 0)) {
    line += " last_error=\"" + m.last_error + "\"";
  }
  return line;
}

}  // namespace

void AddScoreStreamOptions(CLI::App& score, ScoreStreamArgs& a) {
  score.add_option("--from", a.from,
                   "Score a stream: source address (kafka://HOST:PORT/TOPIC?group=G, "
                   "eventhubs://NS/HUB?group=G, mqtt://HOST:PORT/TOPIC, jsonl:PATH, "
                   "dir:FOLDER?fs=HZ)");
  score.add_option("--to", a.to,
                   "Streaming: target address, repeatable (influxdb://HOST:PORT/DB, "
                   "influxdb2://HOST:PORT/BUCKET?org=O, sqlite:PATH, kafka://..., mqtt://..., "
                   "jsonl:PATH, -); default from INFLUXDB_URL/ORG/BUCKET/TOKEN when set");
  score.add_option("--dead-letter", a.dead_letter,
                   "Streaming: where undecodable or invalid events go with the reason "
                   "(jsonl:PATH, kafka://..., mqtt://...); default: logged and counted");
  score.add_option("--batch", a.batch, "Streaming: events per poll/write/commit cycle")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1000000}));
  score.add_option("--linger-ms", a.linger_ms, "Streaming: longest wait to fill a batch, ms")
      ->check(CLI::Range(0, 60000));
  score.add_option("--window", a.window,
                   "Streaming, waveform events: window in samples (default: one event = one "
                   "window)");
  score.add_option("--hop", a.hop, "Streaming, waveform events: hop in samples (default: window)");
  score.add_option("--bands", a.bands, "Streaming, waveform events: bands LO-HI,... in Hz");
  a.names_option = AddNamesOption(score, a.names);
  score
      .add_option("--feature-names", a.feature_names,
                  "Deprecated spelling of --names: prototype (= --names prototype) or library "
                  "(= --names default)")
      ->check(CLI::IsMember({"prototype", "library"}));
  score
      .add_option("--stats-interval", a.stats_interval_s,
                  "Streaming: seconds between progress lines on stderr (0: off)")
      ->check(CLI::Range(0, 86400));
  score.add_option("--model-poll", a.model_poll,
                   "Streaming: check the --model source for a new model this often (e.g. 60s, "
                   "500ms, 5m): remote sources with a conditional GET (ETag), files by "
                   "mtime/size and SHA-256; a valid new model is swapped in between batches, a "
                   "bad one refused (docs/operations.md#hot-model-reload); default: never");
  score.add_option("--model-sha256", a.model_sha256,
                   "Streaming: the model file's bytes must have this SHA-256 (64 hex digits): "
                   "at start a mismatch is an error, on --model-poll a mismatching model is "
                   "refused");
  score.add_option("--metrics-listen", a.metrics_listen,
                   "Streaming: serve GET /metrics (Prometheus), /healthz and /readyz on "
                   "HOST:PORT (docs/operations.md#metrics); default: none");
}

// The service allocates and frees the same buffers batch after batch (fetched
// Kafka data on librdkafka's threads, payloads, records, request bodies).
// glibc's defaults give freed memory back to the kernel eagerly (heaps trimmed
// above 128 KiB free, larger blocks mmapped), and every page taken again is a
// page fault. Keep freed memory for reuse instead; the resident size then
// stays at its peak, which the bounded batches bound. Measured on feature
// events from Kafka: ~3% less CPU; with a 4 MiB consumer prefetch
// (prefetch_kb=4096) half the page faults and ~13% less CPU.
void KeepFreedMemory() {
#ifdef __GLIBC__
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
#endif
}

int RunScoreStream(const std::string& model_path, const std::string& feature_keys,
                   const ScoreStreamArgs& a, CommandIo& io) {
  KeepFreedMemory();
  pipeline::StreamScorerOptions options;
  options.max_batch = a.batch;
  options.linger = std::chrono::milliseconds(a.linger_ms);
  options.window_samples = a.window;
  options.hop_samples = a.hop;
  auto prototype_names = PrototypeNames(a);
  if (!prototype_names.ok()) return ReportOptionError(io, kCommand, prototype_names.status());
  options.prototype_feature_names = *prototype_names;
  auto bands = features::ParseBands(a.bands);
  if (!bands.ok()) return ReportOptionError(io, kCommand, bands.status());
  options.bands = bands.value();
  std::string keys = feature_keys;
  if (keys.empty()) {
    if (const char* env = std::getenv("FEATURE_KEYS")) keys = env;
  }
  for (const std::string& k : Split(keys, ',')) {
    if (!k.empty()) options.feature_keys.push_back(k);
  }

  std::optional<ListenAddress> metrics_listen;
  if (!a.metrics_listen.empty()) {
    auto addr = ParseListenAddress("--metrics-listen", a.metrics_listen);
    if (!addr.ok()) return ReportOptionError(io, kCommand, addr.status());
    metrics_listen = *addr;
  }

  pipeline::ModelReloaderOptions reload;
  reload.source = model_path;
  reload.feature_keys = options.feature_keys.size();
  reload.blob.env = ProcessEnvironment();
  if (!a.model_poll.empty()) {
    auto every = ParseDuration(a.model_poll);
    if (!every.ok())
      return ReportOptionError(io, kCommand, every.status().WithContext("--model-poll"));
    reload.poll = std::chrono::duration_cast<std::chrono::milliseconds>(*every);
    if (reload.poll.count() < 1) {
      return UsageError(io, kCommand, "--model-poll: at least 1ms");
    }
  }
  if (!a.model_sha256.empty()) {
    reload.sha256 = AsciiLower(a.model_sha256);
    if (reload.sha256.size() != 64 ||
        reload.sha256.find_first_not_of("0123456789abcdef") != std::string::npos) {
      return UsageError(io, kCommand, "--model-sha256: expected 64 hex digits");
    }
  }
  auto reloader = pipeline::ModelReloader::Create(std::move(reload));
  if (!reloader.ok()) return ReportError(io, kCommand, reloader.status());
  pipeline::ModelReloader& models = **reloader;
  const iforest::Model& model = *models.initial().model;
  options.model_provenance = models.initial().provenance;
  if (!a.model_poll.empty()) options.take_new_model = [&models] { return models.TakePending(); };

  auto from_uri = ParseUri(a.from);
  if (!from_uri.ok())
    return ReportOptionError(io, kCommand, from_uri.status().WithContext("--from"));

  // Targets: --to, else the prototype's INFLUXDB_* environment.
  std::vector<std::unique_ptr<sink::RunningSink>> sinks;
  for (const std::string& t : a.to) {
    auto uri = ParseUri(t);
    if (!uri.ok()) return ReportOptionError(io, kCommand, uri.status().WithContext("--to"));
    auto s = OpenSink(uri.value(), io.out);
    if (!s.ok()) return ReportOptionError(io, kCommand, s.status().WithContext("--to " + t));
    sinks.push_back(std::make_unique<sink::RunningSink>(t, std::move(s).value()));
  }
  if (sinks.empty() && std::getenv("INFLUXDB_URL") != nullptr) {
    auto s = sink::influxdb::NewInfluxdbSinkFromEnvironment();
    if (!s.ok()) return ReportOptionError(io, kCommand, s.status().WithContext("INFLUXDB_URL"));
    sinks.push_back(
        std::make_unique<sink::RunningSink>("influxdb (INFLUXDB_URL)", std::move(s).value()));
  }
  if (sinks.empty()) {
    return UsageError(io, kCommand, "--from needs at least one --to (or INFLUXDB_URL)");
  }
  std::unique_ptr<transport::Publisher> dead;
  if (!a.dead_letter.empty()) {
    auto uri = ParseUri(a.dead_letter);
    if (!uri.ok())
      return ReportOptionError(io, kCommand, uri.status().WithContext("--dead-letter"));
    auto p = OpenPublisher(uri.value(), io.out);
    if (!p.ok()) return ReportOptionError(io, kCommand, p.status().WithContext("--dead-letter"));
    dead = std::move(p).value();
  }
  auto source = OpenSubscriber(from_uri.value());
  if (!source.ok()) return ReportOptionError(io, kCommand, source.status().WithContext("--from"));

  // GET /metrics (docs/operations.md#metrics): the process, the scorer's
  // and the sinks' own counts read at each scrape, the scoring latency.
  auto registry = std::make_shared<metrics::Registry>();
  metrics::AddProcessCollector(*registry);
  options.scoring_seconds =
      registry
          ->AddHistogram("machine_health_scoring_duration_seconds",
                         "Seconds from a batch of events in hand to its windows ready for the "
                         "sinks (decode, windows, features, scores, alarm rule).",
                         metrics::LatencyBuckets(), {"source"})
          .With({a.from});

  std::vector<sink::RunningSink*> sink_ptrs;
  for (auto& s : sinks) sink_ptrs.push_back(s.get());
  auto scorer =
      pipeline::StreamScorer::Create(model, *source.value(), sink_ptrs, dead.get(), options);
  if (!scorer.ok()) return ReportOptionError(io, kCommand, scorer.status());
  pipeline::StreamScorer* sc = scorer.value().get();
  registry->AddCollector([&, sc, src = source.value().get()](metrics::Collection& c) {
    pipeline::StreamScorer::Report(a.from, sc->stats(), c);
    if (const std::optional<std::int64_t> lag = src->Lag()) {
      c.Gauge("machine_health_source_lag",
              "Messages of the source not yet consumed (Kafka, Event Hubs: summed over the "
              "assigned partitions).",
              {{"source", a.from}}, static_cast<double>(*lag));
    }
    for (const auto& s : sinks) sink::ReportSinkMetrics(s->name(), s->metrics(), 0, c);
    const pipeline::ModelReloaderStats m = models.stats();
    c.Gauge("machine_health_model_info",
            "The model scoring now: version (first 12 hex digits of its SHA-256) and source.",
            {{"version", m.serving->version}, {"source", m.serving->source}}, 1);
    c.Gauge("machine_health_model_loaded_timestamp_seconds",
            "Unix time the serving model was loaded (or swapped in).", {}, m.serving_since_s);
    c.Gauge("machine_health_model_features", "Features the model scores.", {},
            static_cast<double>(model.feature_names.size()));
    c.Counter("machine_health_model_polls_total", "Checks of the model source (--model-poll).", {},
              static_cast<double>(m.polls));
    c.Counter("machine_health_model_reloads_total",
              "New models from the model source, accepted (ok) or refused.", {{"result", "ok"}},
              static_cast<double>(m.reloads_ok));
    c.Counter("machine_health_model_reloads_total",
              "New models from the model source, accepted (ok) or refused.",
              {{"result", "refused"}}, static_cast<double>(m.reloads_refused));
  });
  std::atomic<bool> scoring{false};
  std::unique_ptr<http::MetricsServer> metrics_server;
  if (metrics_listen) {
    http::MetricsServerOptions mo;
    mo.host = metrics_listen->host;
    mo.port = metrics_listen->port;
    mo.metrics = registry;
    // The model is loaded before the server starts; what remains is
    // whether the scorer runs, reaches its source and can write.
    mo.readiness = [&, sc]() -> std::string {
      if (!scoring.load()) return "not scoring";
      if (sc->stats().source_down) return "source " + a.from + ": not reachable";
      for (const auto& s : sinks) {
        const sink::SinkMetrics m = s->metrics();
        if (m.failing) return s->name() + ": not writable: " + m.last_error;
      }
      return "";
    };
    auto started = http::MetricsServer::Start(mo);
    if (!started.ok()) {
      return ReportError(io, kCommand, started.status().WithContext("--metrics-listen"));
    }
    metrics_server = std::move(*started);
    log::Info(kCommand, "metrics: " + metrics_server->url() + "metrics");
  }

  InstallStopSignalHandlers();
  std::atomic<bool> stop{false};
  // Watches the signal flag (10 times a second: a SIGTERM is noticed within
  // 100 ms, and an idle scorer wakes for it rarely) and logs progress; the
  // scorer finishes its batch.
  std::mutex done_mu;
  std::condition_variable done_cv;
  bool done = false;
  std::thread watcher([&] {
    auto next = std::chrono::steady_clock::now() + std::chrono::seconds(a.stats_interval_s);
    std::unique_lock lock(done_mu);
    while (!done) {
      if (StopRequested()) stop.store(true);
      if (a.stats_interval_s > 0 && std::chrono::steady_clock::now() >= next) {
        log::Info(kCommand, StatsLine(scorer.value()->stats()));
        next += std::chrono::seconds(a.stats_interval_s);
      }
      done_cv.wait_for(lock, std::chrono::milliseconds(100), [&] { return done; });
    }
  });
  log::Info(kCommand, "scoring " + from_uri.value().text + " with " +
                          std::to_string(model.feature_names.size()) + " features (model " +
                          models.initial().provenance->version + ")");
  scoring.store(true);
  models.Start();
  Status run = scorer.value()->Run(stop);
  models.Stop();
  scoring.store(false);
  if (metrics_server) metrics_server->Stop();
  {
    std::lock_guard lock(done_mu);
    done = true;
  }
  done_cv.notify_all();
  watcher.join();
  Status closed = source.value()->Close();
  for (auto& s : sinks) {
    Status c = s->Close();
    if (!c.ok() && run.ok()) run = c;
  }
  if (dead != nullptr) {
    Status c = dead->Close();
    if (!c.ok() && run.ok()) run = c.WithContext("--dead-letter");
  }
  log::Info(kCommand, "stopped: " + StatsLine(scorer.value()->stats()));
  for (const auto& s : sinks) log::Info(kCommand, SinkLine(*s));
  if (!run.ok()) return ReportError(io, kCommand, run);
  if (!closed.ok()) log::Warn(kCommand, "closing the source: " + closed.message());
  return kExitOk;
}

}  // namespace mh::app
