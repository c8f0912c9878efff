// The pipeline options of every command that runs the pipeline core
// (pipeline/machine_pipeline.h): window, hop, bands, feature set and naming,
// learning, threshold rule and alarm rule, registered once with one help
// text and turned into pipeline::PipelineOptions in one place.
#ifndef MH_APP_PIPELINE_OPTIONS_H_
#define MH_APP_PIPELINE_OPTIONS_H_

#include <cstdint>
#include <string>

#include "core/result.h"
#include "pipeline/machine_pipeline.h"

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace mh::app {

// Defaults: the evidence for window, threshold and alarm rule is in
// docs/evaluation.md (tools/eval_rules.py).
struct PipelineArgs {
  std::int64_t window = 512;
  std::int64_t hop = 0;  // 0 = the window
  std::string bands;     // "" = the defaults fitted to each rate
  std::string set = "basic";
  std::string names = "default";
  std::int64_t learning_windows = 300;
  std::int64_t trees = 100;
  std::uint64_t seed = 42;
  std::string threshold = "quantile-margin";
  double threshold_q = 0.005;
  double threshold_margin = 0.02;
  double threshold_z = 6;
  std::int64_t calibration_folds = 5;
  std::int64_t alarm_k = 3;
  std::int64_t alarm_n = 5;
  std::int64_t alarm_m = 5;
  // Event time between a machine's periodic waveform snapshots ("0": none);
  // alarm peaks are kept unless "off".
  std::string snapshot_every = "10m";
};

// What to register: `learning` adds --learning-windows (run; evaluate's
// manifest says which rows learn); `model` adds the per-machine model,
// threshold and alarm options (not for `features`, which only windows and
// computes features).
struct PipelineOptionSet {
  bool learning = true;
  bool model = true;
};

// --names default|prototype: how features are named (features::
// FeatureStageOptions::prototype_names), registered once for every command
// (AddPipelineOptions calls it; `score` adds it alone). The one default is
// "default"; docs/decisions/0004-one-pipeline-core.md says why.
CLI::Option* AddNamesOption(CLI::App& sub, std::string& names);
// "prototype" -> true, "default" -> false; InvalidArgument naming --names.
Result<bool> ParsePrototypeNames(const std::string& names);

// The defaults shown in --help are the values `args` holds when called (a
// command whose tables depend on other defaults sets them first: `features`).
void AddPipelineOptions(CLI::App& sub, PipelineArgs& args, PipelineOptionSet set = {});

// InvalidArgument (a usage error) naming the option.
Result<pipeline::PipelineOptions> MakePipelineOptions(const PipelineArgs& args);

}  // namespace mh::app

#endif  // MH_APP_PIPELINE_OPTIONS_H_
