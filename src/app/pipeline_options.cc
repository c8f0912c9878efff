#include "app/pipeline_options.h"

#include <CLI/CLI.hpp>

#include "core/time_util.h"
#include "features/feature_stage.h"

namespace mh::app {

CLI::Option* AddNamesOption(CLI::App& sub, std::string& names) {
  return sub
      .add_option("--names", names,
                  "Feature names: default, or prototype (band_energy_0_200_ax -> bandE0_200_ax, "
                  "the prototype's InfluxDB fields)")
      ->capture_default_str();
}

Result<bool> ParsePrototypeNames(const std::string& names) {
  if (names != "default" && names != "prototype") {
    return Status::InvalidArgument("--names: expected default or prototype, got '" + names + "'");
  }
  return names == "prototype";
}

void AddPipelineOptions(CLI::App& sub, PipelineArgs& a, PipelineOptionSet set) {
  sub.add_option("--window", a.window, "Samples per window")->capture_default_str();
  sub.add_option("--hop", a.hop, "Samples between window starts (default: the window)");
  if (a.bands.empty()) {
    sub.add_option("--bands", a.bands,
                   "Comma-separated LO-HI bands in Hz (default 0-200,200-1000,1000-5000,5000-12800 "
                   "fitted below each sensor's Nyquist frequency; given bands must lie below it)");
  } else {
    sub.add_option("--bands", a.bands,
                   "Comma-separated LO-HI bands in Hz, below the Nyquist frequency fs/2 (\"\": "
                   "none)")
        ->capture_default_str();
  }
  sub.add_option("--set", a.set, "Feature set: basic or full")->capture_default_str();
  AddNamesOption(sub, a.names);
  if (!set.model) return;
  if (set.learning) {
    sub.add_option("--learning-windows", a.learning_windows,
                   "Windows of normal operation each machine learns from before scoring")
        ->capture_default_str();
  }
  sub.add_option("--trees", a.trees, "Isolation Forest trees per machine")->capture_default_str();
  sub.add_option("--train-seed", a.seed, "Seed of the per-machine training")->capture_default_str();
  sub.add_option("--threshold", a.threshold,
                 "Threshold rule from each machine's training scores: auto, quantile, "
                 "quantile-margin or robust-z (docs/evaluation.md)")
      ->capture_default_str();
  sub.add_option("--threshold-q", a.threshold_q, "Quantile of the training scores (quantile rules)")
      ->capture_default_str();
  sub.add_option("--threshold-margin", a.threshold_margin,
                 "Margin below the quantile, in score units (quantile-margin)")
      ->capture_default_str();
  sub.add_option("--threshold-z", a.threshold_z, "Robust z below the median (robust-z)")
      ->capture_default_str();
  sub.add_option("--calibration-folds", a.calibration_folds,
                 "Threshold from out-of-fold training scores over this many contiguous blocks "
                 "of the learning windows (0 or 1: in-sample scores)")
      ->capture_default_str();
  sub.add_option("--alarm-k", a.alarm_k, "Alarm opens when K of the last N windows are anomalous")
      ->capture_default_str();
  sub.add_option("--alarm-n", a.alarm_n, "N of the alarm rule")->capture_default_str();
  sub.add_option("--alarm-m", a.alarm_m, "Alarm closes after M consecutive normal windows")
      ->capture_default_str();
  sub.add_option("--snapshot-every", a.snapshot_every,
                 "Event time between the raw-sample snapshots each machine keeps in the database "
                 "(besides each alarm's peak window); 0 = periodic ones off, 'off' = none at all")
      ->capture_default_str();
}

Result<pipeline::PipelineOptions> MakePipelineOptions(const PipelineArgs& a) {
  pipeline::PipelineOptions o;
  if (a.window < 4) return Status::InvalidArgument("--window: expected an integer >= 4");
  if (a.hop < 0) return Status::InvalidArgument("--hop: expected an integer >= 1");
  o.window.window_samples = static_cast<std::size_t>(a.window);
  o.window.hop_samples = static_cast<std::size_t>(a.hop);
  o.features.window_samples = o.window.window_samples;
  MH_ASSIGN_OR_RETURN(o.features.bands, features::ParseBands(a.bands));
  if (a.set == "basic") {
    o.features.set = features::FeatureSet::kBasic;
  } else if (a.set == "full") {
    o.features.set = features::FeatureSet::kFull;
  } else {
    return Status::InvalidArgument("--set: expected basic or full, got '" + a.set + "'");
  }
  MH_ASSIGN_OR_RETURN(o.features.prototype_names, ParsePrototypeNames(a.names));
  if (a.learning_windows < 1) {
    return Status::InvalidArgument("--learning-windows: expected an integer >= 1");
  }
  o.learn.learning_windows = static_cast<std::size_t>(a.learning_windows);
  if (a.trees < 1 || a.trees > 10000) return Status::InvalidArgument("--trees: expected 1..10000");
  o.learn.train.n_estimators = static_cast<int>(a.trees);
  o.learn.train.seed = a.seed;
  o.learn.train.threads = 1;
  MH_ASSIGN_OR_RETURN(o.learn.threshold.rule, score::ParseThresholdRule(a.threshold));
  o.learn.threshold.q = a.threshold_q;
  o.learn.threshold.margin = a.threshold_margin;
  o.learn.threshold.z = a.threshold_z;
  if (a.calibration_folds < 0 || a.calibration_folds > 100) {
    return Status::InvalidArgument("--calibration-folds: expected 0..100");
  }
  o.learn.calibration_folds = static_cast<int>(a.calibration_folds);
  auto narrow = [](std::int64_t v) {
    return static_cast<int>(std::clamp<std::int64_t>(v, -1, 1'000'000));
  };
  o.alarm.k = narrow(a.alarm_k);
  o.alarm.n = narrow(a.alarm_n);
  o.alarm.m = narrow(a.alarm_m);
  if (a.snapshot_every == "off") {
    o.snapshots.periodic_ns = 0;
    o.snapshots.alarm_peaks = false;
  } else {
    Result<Nanos> every = ParseDuration(a.snapshot_every);
    if (!every.ok() || every->count() < 0) {
      return Status::InvalidArgument(
          "--snapshot-every: expected a duration such as 10m, 0 or off, got '" + a.snapshot_every +
          "'");
    }
    o.snapshots.periodic_ns = every->count();
  }
  Status s = pipeline::ValidatePipelineOptions(o);
  if (!s.ok()) {
    std::string m = s.message();
    if (m.rfind("alarm rule", 0) == 0) m = "--alarm-k/-n/-m: " + m;
    return Status::InvalidArgument(m);
  }
  return o;
}

}  // namespace mh::app
