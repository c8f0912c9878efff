// The streaming mode of `machine-health score` (--from URI): options and the
// service loop around pipeline::StreamScorer. See docs/streaming.md.
#ifndef MH_APP_SCORE_STREAM_H_
#define MH_APP_SCORE_STREAM_H_

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "app/command.h"

namespace mh::app {

struct ScoreStreamArgs {
  std::string from;             // source address; empty = batch mode
  std::vector<std::string> to;  // sink addresses (repeatable --to)
  std::string dead_letter;      // dead-letter target address
  std::size_t batch = 5000;     // events per cycle
  int linger_ms = 100;          // longest wait to fill a batch
  std::size_t window = 0;       // waveform window (0: one event = one window)
  std::size_t hop = 0;
  std::string bands = "0-200";
  // Waveform features: --names default|prototype (app/pipeline_options.h).
  // Not given: prototype names only for the prototype's InfluxDB
  // environment (INFLUXDB_URL without --to), whose schema has them.
  std::string names = "default";
  const CLI::Option* names_option = nullptr;  // to tell "given" from the default
  // Deprecated spelling of --names: prototype | library (= default).
  std::string feature_names;
  int stats_interval_s = 10;  // progress log period (0: off)
  // HOST:PORT of GET /metrics, /healthz, /readyz (http::MetricsServer);
  // empty: none.
  std::string metrics_listen;
  // --model-poll: how often the model source is checked for a new model
  // (a duration: 500ms, 60s, 5m); empty: loaded once.
  std::string model_poll;
  // --model-sha256: the model's bytes must have this SHA-256 (hex).
  std::string model_sha256;
};

// Adds the streaming options to the `score` subcommand.
void AddScoreStreamOptions(CLI::App& score, ScoreStreamArgs& args);

// Runs the service until SIGINT/SIGTERM (or a finite source ends). `model_path`
// and `feature_keys` (comma list, may be empty: then FEATURE_KEYS from the
// environment) as for batch scoring. Exit code as for every command.
int RunScoreStream(const std::string& model_path, const std::string& feature_keys,
                   const ScoreStreamArgs& args, CommandIo& io);

}  // namespace mh::app

#endif  // MH_APP_SCORE_STREAM_H_
