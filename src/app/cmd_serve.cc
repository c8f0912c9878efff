// machine-health serve: the web dashboard over a machine-health database.
//
//   machine-health serve --db FILE | --influx URI [--http ADDR:PORT]
//                        [--machines-file FILE]
//
// Serves until SIGINT or SIGTERM, then stops cleanly (exit 0). The database
// may be written by `machine-health run` in another process meanwhile.
// --influx reads the scores and features of InfluxDB instead
// (sink/influxdb/influxdb_reader.h: no alarms, baselines or snapshots there).
#include <ostream>
#include <string>

#include <CLI/CLI.hpp>
#include <signal.h>

#include "app/command.h"
#include "app/pipeline_options.h"
#include "core/environment.h"
#include "core/strings.h"
#include "core/uri.h"
#include "http/dashboard_server.h"
#include "log/log.h"
#include "registry/registry.h"
#include "sink/influxdb/influxdb_config.h"
#include "sink/influxdb/influxdb_reader.h"

namespace mh::app {
namespace {

struct ServeOptions {
  std::string db;
  std::string influx;
  std::string http = "127.0.0.1:8080";
  std::string machines_file;
};

// "HOST:PORT" or "[IPv6]:PORT" into host and port in [0, 65535].
Result<http::ServerOptions> ParseHttpAddress(const std::string& text) {
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument("--http: '" + text + "' " + why +
                                   " (expected ADDR:PORT, e.g. 127.0.0.1:8080)");
  };
  std::size_t colon = text.rfind(':');
  if (colon == std::string::npos) return bad("has no port");
  std::string host = text.substr(0, colon);
  std::string port_text = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string::npos) {
    return bad("has an IPv6 address without [brackets]");
  }
  if (host.empty()) return bad("has no address");
  auto port = ParseInt(port_text);
  if (!port.ok() || *port < 0 || *port > 65535) return bad("has no valid port");
  http::ServerOptions options;
  options.host = host;
  options.port = static_cast<int>(*port);
  return options;
}

int Serve(const ServeOptions& opts, CommandIo& io) {
  auto server_options = ParseHttpAddress(opts.http);
  if (!server_options.ok()) return UsageError(io, "serve", server_options.status().message());
  if (opts.db.empty() == opts.influx.empty()) {
    return UsageError(io, "serve", "give --db FILE or --influx URI (one of them)");
  }
  server_options->db_path = opts.db;
  std::string source = opts.db;
  if (!opts.influx.empty()) {
    auto uri = ParseUri(opts.influx);
    if (!uri.ok()) return UsageError(io, "serve", "--influx: " + uri.status().message());
    auto config = sink::influxdb::ConfigFromUri(*uri, ProcessEnvironment());
    if (!config.ok()) return UsageError(io, "serve", "--influx: " + config.status().message());
    auto reader = sink::influxdb::InfluxdbReader::Open(*config);
    if (!reader.ok()) return ReportError(io, "serve", reader.status());
    server_options->reader = std::move(*reader);
    source = config->Describe();
  }
  // POST /api/baselines/{machine}/retrain trains as the pipeline learns.
  auto pipeline = MakePipelineOptions(PipelineArgs{});
  if (!pipeline.ok()) return ReportError(io, "serve", pipeline.status());
  server_options->learn = pipeline->learn;
  if (!opts.machines_file.empty()) {
    auto reg = registry::Registry::Load(opts.machines_file);
    if (!reg.ok()) return ReportError(io, "serve", reg.status());
    server_options->registry = std::move(*reg);
  }

  // Block SIGINT/SIGTERM before the server starts its threads (they inherit
  // the mask), then wait for one of them synchronously: no async handler,
  // and the signal is never delivered to a server thread.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  sigset_t old_mask;
  pthread_sigmask(SIG_BLOCK, &stop_signals, &old_mask);

  auto server = http::DashboardServer::Start(*server_options);
  if (!server.ok()) {
    pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
    Status s = server.status();
    // Every start failure is a runtime failure here (exit 1), not a usage error.
    PrintError(io, "serve", s.message());
    return kExitFailure;
  }
  io.out << "dashboard: " << (*server)->url() << std::endl;
  log::Info("serve", "serving " + source + " at " + (*server)->url());

  int signal_number = 0;
  while (sigwait(&stop_signals, &signal_number) != 0) {
  }
  log::Info("serve",
            std::string("stopping on ") + (signal_number == SIGINT ? "SIGINT" : "SIGTERM"));
  (*server)->Stop();
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  return kExitOk;
}

}  // namespace

void AddServeCommand(CLI::App& root, CommandIo& io, Action& action) {
  auto opts = std::make_shared<ServeOptions>();
  CLI::App* sub = root.add_subcommand(
      "serve", "Serve the web dashboard and JSON API over a machine-health database");
  sub->add_option("--db", opts->db, "SQLite database written by 'machine-health run'");
  sub->add_option("--influx", opts->influx,
                  "instead of --db: InfluxDB holding the scores and features "
                  "(influxdb://HOST:PORT/DB or influxdb2://...; docs/influxdb.md); no alarms, "
                  "baselines or snapshots");
  sub->add_option("--http", opts->http, "Address to listen on, ADDR:PORT")->capture_default_str();
  sub->add_option("--machines-file", opts->machines_file,
                  "Machines file (docs/machines.md): /api/machines then shows each machine's "
                  "config");
  sub->callback([opts, &io, &action] { action = [opts, &io] { return Serve(*opts, io); }; });
}

}  // namespace mh::app
