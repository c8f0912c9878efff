// MachinePipeline: the pipeline core for one machine, the same code under
// `run` (simulated and live sensors), `score --from` and `evaluate`:
//
//   samples --> window::Windower --> features::WindowFeatureExtractor
//           --> score::MachineScorer (learning, then baseline + threshold)
//           --> alarm::AlarmTracker (K of N anomalous opens, M normal close)
//           --> one WindowResult per window, for the sinks
//
// Options are declared once (PipelineOptions; the CLI registration shared
// by the commands is app/pipeline_options.h). The machine's own facts
// (rate, channels, shaft speed, bearing, an assigned model) come from its
// MachineSpec (the registry, a manifest row, the simulator).
//
// Thread safety: none; one MachinePipeline is used by one thread at a time.
#ifndef MH_PIPELINE_MACHINE_PIPELINE_H_
#define MH_PIPELINE_MACHINE_PIPELINE_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "alarm/alarm_tracker.h"
#include "core/result.h"
#include "features/feature_stage.h"
#include "features/velocity.h"
#include "features/window_features.h"
#include "pipeline/snapshot_picker.h"
#include "score/baseline.h"
#include "sink/alarm_record.h"
#include "sink/window_record.h"
#include "window/windower.h"

namespace mh::pipeline {

// Everything the stages need that is not a fact of one machine.
struct PipelineOptions {
  window::WindowOptions window;
  features::FeatureStageOptions features;  // features.window_samples follows window
  score::LearnOptions learn;
  alarm::AlarmRule alarm;
  SnapshotOptions snapshots;  // which windows keep their raw samples
};

// InvalidArgument naming the option, for any stage's options.
Status ValidatePipelineOptions(const PipelineOptions& options);

struct MachineSpec {
  std::string machine_id;
  features::StreamShape shape;  // fs, channels, rpm, bearing
  // A variable-speed drive (the registry's rpm_field): the name of the
  // event field that carries the shaft speed in rpm; empty for a fixed or
  // unknown speed (shape.shaft_rpm). The order and bearing features are
  // then computed for every window, at the sample-weighted mean speed of
  // the events whose samples make up the window; each Add passes its
  // event's speed. shape.shaft_rpm is ignored.
  std::string rpm_field;
  // An assigned baseline (a `train` model, a .joblib, a stored baseline):
  // scoring starts at once, nothing is learned. A stored learned baseline
  // (origin "learned") whose features are not the pipeline's (the window or
  // bands changed) is set aside with a warning and the machine learns anew;
  // an assigned model that does not fit is an error.
  std::shared_ptr<const score::Baseline> baseline;
  // The machine's own learning/threshold and alarm rule (the registry);
  // unset: PipelineOptions'.
  std::optional<score::LearnOptions> learn;
  std::optional<alarm::AlarmRule> alarm;
  // The version the machine's next learned baseline gets (the store's next).
  std::int64_t first_version = 1;
  // Scored windows stored before a restart (sink::AlarmStore::ResumeWindows),
  // oldest first. With a baseline, Create replays them into the alarm stage,
  // so a machine that was in alarm continues the same alarm (same id) and
  // the K-of-N history carries over; the events the replay yields are kept
  // for TakeResumeEvents. Ignored without a baseline (the machine learns).
  std::vector<alarm::WindowMark> alarm_resume;
  // The machine's ISO 20816-3 class, for the zone in alarm explanations
  // (alarm::ExplainOptions; the registry's iso_group and foundation).
  features::IsoGroup iso_group = features::IsoGroup::kGroup2;
  features::Foundation foundation = features::Foundation::kRigid;
  // Factor that turns the machine's samples into g, applied where they
  // enter the pipeline (Add): 1 for g, 1 / 9.80665 for m/s^2 (the
  // registry's `unit`, SpecFromRegistry). Every feature is then in g.
  double sample_scale = 1.0;
};

// A machine's baseline changed outside the pipeline (`baseline reset`,
// `retrain`, `assign`, or the HTTP API): the store's active baseline now.
struct BaselineUpdate {
  std::string machine_id;
  // The active baseline; null when none is active (reset: learn anew).
  std::shared_ptr<const score::Baseline> baseline;
  // The version the machine's next learned baseline gets (the store's next).
  std::int64_t next_version = 1;
};

// The baseline changes made elsewhere since the previous call (the caller
// keeps its own cursor, e.g. over sink::BaselineStore::ChangesSince). The
// drivers (PlantPipeline, StreamScorer) call it about once a second and
// apply each update to the machine it names (MachinePipeline::ApplyBaseline).
using BaselinePoll = std::function<Result<std::vector<BaselineUpdate>>()>;

// One window after every stage.
struct WindowResult {
  sink::WindowRecord record;  // features, scores, state (learning / normal / anomalous = alarm)
  score::Scored scored;
  std::optional<alarm::AlarmUpdate> alarm;  // set once the window was scored
  std::uint64_t first_sample = 0;           // window::Window::first_sample
  std::uint64_t first_tag = 0;              // window::Window::first_tag
  // Set on the window that completed learning: the baseline just fitted
  // (for the caller to store).
  std::shared_ptr<const score::Baseline> new_baseline;
};

// An alarm stage event as the alarm store and notifications take it (no
// explanation).
sink::AlarmEvent ToSinkAlarmEvent(const std::string& machine_id, const alarm::AlarmEvent& event,
                                  std::int64_t baseline_version);

class MachinePipeline {
 public:
  using Output = std::function<Status(WindowResult&)>;

  // InvalidArgument for bad options or a shape the feature stage refuses
  // (naming the option), or an assigned baseline whose features the stage
  // does not compute.
  static Result<std::unique_ptr<MachinePipeline>> Create(const PipelineOptions& options,
                                                         MachineSpec spec);
  ~MachinePipeline();

  // The same core for a machine whose events carry feature rows instead of
  // samples (the prototype's feature events): no window or feature stage;
  // the model scores `feature_names` as given (or the assigned baseline's
  // features, which must be among them).
  static Result<std::unique_ptr<MachinePipeline>> CreateForFeatureRows(
      const PipelineOptions& options, std::string machine_id,
      std::vector<std::string> feature_names,
      std::shared_ptr<const score::Baseline> baseline = nullptr);

  // Feature-row machines: one row (feature_names() order) at event time t_ns.
  Status AddFeatureRow(std::span<const double> values, std::int64_t t_ns, const Output& out);

  // Adds a block of samples (block.stream is ignored: the machine's id is
  // used); calls `out` for every window it completes. The block's channels
  // are the spec's, in order, in the spec's unit (scaled to g here by
  // sample_scale); fs must be the spec's (InvalidArgument otherwise).
  // `shaft_rpm`: the block's shaft speed, for a machine with an rpm_field
  // (ignored otherwise); InvalidArgument naming the field, nothing added,
  // unless it is finite, > 0 and at most max_shaft_rpm().
  Status Add(window::Block block, const Output& out, double shaft_rpm = 0);
  // The fastest shaft speed an rpm_field machine's features allow
  // (features::MaxShaftRpm); 0 for other machines.
  double max_shaft_rpm() const { return max_shaft_rpm_; }
  // End of a continuous stretch (a snapshot file): held samples are dropped.
  void EndStream();
  // Fits the baseline from the windows learned so far (evaluate: the end of
  // the manifest's learn rows).
  Status FinishLearning();
  // Applies a change of the machine's active baseline made elsewhere: null
  // (reset) starts learning anew, also for a machine still learning (its
  // learned windows are dropped); a baseline other than the one in use is
  // scored with from the next window; the one in use (its own save) changes
  // nothing. A change of baseline starts the alarm stage afresh (another
  // baseline's scores are not comparable). An open alarm is closed first:
  // the returned events (at most one, closed at the last window's start)
  // go to the alarm store. InvalidArgument, nothing changed, for a baseline
  // whose model features are not this machine's, or for a feature-row
  // machine of a fixed model.
  Result<std::vector<sink::AlarmEvent>> ApplyBaseline(const BaselineUpdate& update);

  const MachineSpec& spec() const { return spec_; }
  std::size_t window_samples() const { return windower_.window_samples(); }
  const std::vector<std::string>& feature_names() const { return *feature_names_; }
  const std::vector<std::string>& model_feature_names() const { return scorer_->feature_names(); }
  score::MachineScorer& scorer() { return *scorer_; }
  const alarm::AlarmTracker& alarm() const { return tracker_; }
  // The alarm record of a window's alarm event (opened or closed), with the
  // explanation of an opened alarm: the features that deviate most from the
  // baseline, the ISO 20816 zone and the bearing evidence (alarm/explain.h)
  // of that window, against the baseline's statistics (the model features'
  // and, learned beside them, the envelope amplitudes'). nullopt when the
  // window has no event.
  // Call from the Output callback (it reads the window's model row).
  std::optional<sink::AlarmEvent> AlarmEventOf(const WindowResult& r) const;
  window::WindowStats window_stats() const { return windower_.total(); }
  // The alarm events the replay of MachineSpec::alarm_resume yielded (once;
  // empty afterwards). The alarm store takes them again without a second
  // notification, and records those a crash kept from being stored.
  std::vector<sink::AlarmEvent> TakeResumeEvents() { return std::move(resume_events_); }

 private:
  MachinePipeline(const PipelineOptions& options, MachineSpec spec,
                  std::unique_ptr<features::WindowFeatureExtractor> extractor,
                  std::vector<features::ModelFeatureSource> model_columns,
                  alarm::AlarmTracker tracker, std::unique_ptr<score::MachineScorer> scorer);
  Status OnWindow(const window::Window& w, const Output& out);
  // rpm_field machines: sets the extractor's speed to the sample-weighted
  // mean speed of the blocks that make up `w`.
  Status SetWindowSpeed(const window::Window& w);
  // Score and alarm stages for the window of `r` (features filled); `w`
  // (null for feature rows) gives the samples for the snapshot picker.
  Status ScoreAndAlarm(WindowResult& r, const Output& out, const window::Window* w = nullptr);
  // The features whose learning statistics the baseline keeps for the
  // alarm explanation beside the model's (the envelope amplitudes env_* of
  // the bearing evidence; score::MachineScorer::SetExplainFeatures).
  void InitExplainFeatures();

  PipelineOptions options_;
  MachineSpec spec_;
  window::Windower windower_;
  std::unique_ptr<features::WindowFeatureExtractor> extractor_;
  std::shared_ptr<const std::vector<std::string>> feature_names_;
  std::vector<features::ModelFeatureSource> model_columns_;  // per model feature
  std::vector<std::size_t> rms_columns_;                     // rms_<input channel>
  alarm::AlarmTracker tracker_;
  std::unique_ptr<score::MachineScorer> scorer_;
  std::vector<double> model_row_;
  std::vector<std::size_t> explain_columns_;  // into the window's features
  std::vector<double> explain_row_;
  std::vector<std::vector<double>> scaled_;            // the block in g (sample_scale != 1)
  std::vector<std::span<const double>> scaled_spans_;  // views of scaled_
  std::vector<sink::AlarmEvent> resume_events_;
  std::optional<SnapshotPicker> snapshots_;  // machines with samples
  std::int64_t last_window_ns_ = 0;          // start of the last window scored or learned
  // rpm_field machines: the blocks whose samples the windower may still
  // hold, oldest first, each with its speed; a sample's Block::tag is its
  // block's seq << 32 | its index in the block, so a window's first tag
  // says where its samples begin.
  struct SpeedSegment {
    std::uint64_t seq = 0;
    std::size_t samples = 0;
    double rpm = 0;
  };
  double max_shaft_rpm_ = 0;
  std::vector<SpeedSegment> speeds_;
  std::uint64_t next_seq_ = 0;
  std::vector<std::uint64_t> tags_;  // of the block being added
};

}  // namespace mh::pipeline

#endif  // MH_PIPELINE_MACHINE_PIPELINE_H_
