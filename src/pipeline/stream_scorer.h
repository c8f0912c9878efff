// StreamScorer: the long-running service behind `machine-health run --from
// URI` and `machine-health score --from URI --to URI ...`. It takes events
// from a transport, runs each machine's events through the pipeline core
// (pipeline/machine_pipeline.h: windows, features, baseline, alarm rule),
// writes the records to every sink and only then commits the source
// (at-least-once; see docs/streaming.md):
//
//   loop: poll up to max_batch events (waiting at most `linger`)
//         decode + validate each; bad ones -> dead letters (with the reason)
//         waveform events -> the machine's core (windower, feature stage,
//                            score stage, alarm stage) -> WindowRecords
//         feature events  -> score stage (one batch for a fixed model) and
//                            the machine's alarm stage -> WindowRecords
//         dead letters published, then every sink accepts the batch (retried
//         with backoff while a sink is down: nothing more is fetched)
//         commit the source
//
// Two modes: with a fixed model (`score --from`) every machine is scored by
// it (threshold: decision_function < 0); without one (`run --from`, Create
// with PipelineOptions) every machine learns its own baseline from its first
// windows, as `run` does with simulated machines.
//
// Event time is the event's "timestamp", else the transport's message
// timestamp; an event with neither is a dead letter (its score could not be
// stored idempotently). Feature rows are matched to the model by
// `feature_keys` when given (the prototype's FEATURE_KEYS), else by the
// model's feature names, else positionally as feature_1..feature_N (the
// prototype's events). A missing or non-numeric feature is a dead letter,
// never 0.0.
//
// Thread safety: Run on one thread; RequestStop-style stopping through the
// atomic passed to Run; stats() from any thread.
#ifndef MH_PIPELINE_STREAM_SCORER_H_
#define MH_PIPELINE_STREAM_SCORER_H_

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/result.h"
#include "features/spectrum.h"
#include "features/window_features.h"
#include "iforest/model.h"
#include "metrics/metrics.h"
#include "pipeline/machine_pipeline.h"
#include "pipeline/model_reloader.h"
#include "score/baseline.h"
#include "sink/alarm_record.h"
#include "sink/running_sink.h"
#include "transport/transport.h"

namespace mh::pipeline {

struct StreamScorerOptions {
  std::size_t max_batch = 5000;           // events per poll/write/commit cycle
  std::chrono::milliseconds linger{100};  // longest wait to fill a batch
  std::vector<std::string> feature_keys;  // event keys of the model's features, in order
  // Waveform events: 0 = each event is one window (fixed-model mode only);
  // else windows of this many samples every hop_samples (0 = no overlap) of
  // each sensor's stream (window::Windower: events that follow each other in
  // time continue the stream; samples before a gap are dropped and counted).
  std::size_t window_samples = 0;
  std::size_t hop_samples = 0;
  std::vector<features::Band> bands = {{0, 200}};
  features::FeatureSet feature_set = features::FeatureSet::kBasic;
  // Waveform features are named as the prototype's feature service did
  // (bandE0_200_ax); false: the library's names (band_energy_0_200_ax).
  bool prototype_feature_names = true;
  // The pipeline core's learning, threshold and alarm rule; in learning
  // mode also its window and feature options (window_samples, hop_samples,
  // bands, feature_set and prototype_feature_names above are then unused).
  PipelineOptions pipeline;
  // Called once per new machine of waveform events, before its core is
  // made: the machine registry fills in what it knows (rpm, bearing,
  // learning, alarm rule...). Optional.
  // (It may also set spec->baseline: a stored baseline resumes the machine.)
  std::function<void(MachineSpec*)> configure_machine;
  // Called with each batch's alarm events (opened and closed, with their
  // explanations) and with the baselines fitted in it, after every sink
  // accepted the batch and before the source is committed: an error stops
  // the scorer uncommitted (the events come again). Optional.
  std::function<Status(std::span<const sink::AlarmEvent>)> on_alarm_events;
  std::function<Status(const std::shared_ptr<const score::Baseline>&)> on_new_baseline;
  // Learning mode: baseline changes made elsewhere (`baseline reset` /
  // `assign` / `retrain`, the HTTP API), polled every
  // `baseline_poll_interval` between batches; each update is applied to its
  // machine's core (MachinePipeline::ApplyBaseline) and the alarm it closes
  // goes to on_alarm_events at once. A failing poll or an update a machine
  // refuses is logged; the scorer goes on. Optional.
  BaselinePoll poll_baselines;
  std::chrono::milliseconds baseline_poll_interval{1000};
  // Fixed model: the model file's provenance, stamped on every record
  // (WindowRecord::model). Optional.
  std::shared_ptr<const sink::ModelProvenance> model_provenance;
  // Fixed model, hot reload: asked at the top of every batch for a new model
  // (ModelReloader::TakePending); one it returns scores that batch and the
  // following ones, so each batch is scored wholly by one model and no event
  // is dropped or scored twice. Its features must be the current model's
  // (the same names; with feature_keys, the same count). Waveform machines
  // take it as a new baseline version (an open alarm is closed, the alarm
  // stage starts afresh: MachinePipeline::ApplyBaseline); feature-row
  // machines keep their alarm state. Optional.
  std::function<std::optional<ServedModel>()> take_new_model;
  // Observes, per batch, the seconds from having the batch in hand to its
  // records being ready for the sinks (decode, windows, features, scores,
  // alarm rule). Optional; owned by the caller's metrics::Registry.
  metrics::Histogram* scoring_seconds = nullptr;
};

// Why an event became a dead letter, in classes (the metric label "reason").
enum class DeadLetterReason {
  kUndecodable,  // not a JSON / binary event of a known form
  kNoTimestamp,  // neither the event nor the transport gave a time
  kRejected,     // decoded, but refused: missing feature, channel or rate change, too short
};
inline constexpr int kDeadLetterReasons = 3;
// "undecodable", "no_timestamp", "rejected".
const char* DeadLetterReasonName(DeadLetterReason reason);

struct StreamScorerStats {
  std::int64_t messages = 0;         // messages taken from the source
  std::int64_t feature_events = 0;   // valid feature events
  std::int64_t waveform_events = 0;  // valid waveform events
  std::int64_t windows = 0;          // waveform windows turned into features
  std::int64_t scored = 0;           // records with a score
  std::int64_t records = 0;          // records written to the sinks
  std::int64_t dead_letters = 0;     // events set aside with a reason
  // dead_letters by DeadLetterReason (index: its value).
  std::array<std::int64_t, kDeadLetterReasons> dead_letters_by_reason{};
  std::int64_t batches = 0;          // committed batches
  std::int64_t commit_failures = 0;  // commits that failed (events will come again)
  std::int64_t dropped_samples = 0;  // waveform samples that filled no window
  std::int64_t machines = 0;         // machines seen
  std::int64_t alarms_opened = 0;
  std::int64_t poll_failures = 0;  // polls the source answered Unavailable
  bool source_down = false;        // the last poll failed so (until one succeeds)
};

class StreamScorer {
 public:
  // `model`, `source`, the sinks and `dead_letters` (may be null: dead
  // letters are then only logged and counted) must outlive the scorer.
  // InvalidArgument for inconsistent options (feature_keys count differs
  // from the model's features, hop > window, no sink).
  static Result<std::unique_ptr<StreamScorer>> Create(const iforest::Model& model,
                                                      transport::Subscriber& source,
                                                      std::vector<sink::RunningSink*> sinks,
                                                      transport::Publisher* dead_letters,
                                                      StreamScorerOptions options);
  // Learning mode: no model; every machine learns its baseline
  // (options.pipeline).
  static Result<std::unique_ptr<StreamScorer>> CreateLearning(transport::Subscriber& source,
                                                              std::vector<sink::RunningSink*> sinks,
                                                              transport::Publisher* dead_letters,
                                                              StreamScorerOptions options);
  ~StreamScorer();

  // Runs until `stop` is set (the batch in hand is finished and committed
  // first) or a finite source ends. OK, or the error that stopped it: a sink
  // or dead-letter target failing permanently, or `stop` while a sink was
  // still down (that batch is not committed and comes again next time).
  Status Run(const std::atomic<bool>& stop);

  StreamScorerStats stats() const;

  // Reports `stats` of the source `source` into a scrape, labelled
  // source=SOURCE: machine_health_events_received_total,
  // machine_health_events_dead_lettered_total{reason},
  // machine_health_windows_total (windows made, records for the sinks),
  // machine_health_windows_scored_total, machine_health_source_batches_total,
  // machine_health_source_commit_failures_total, machine_health_alarms_opened_total,
  // machine_health_source_poll_failures_total, the gauges
  // machine_health_source_up (0 while polls fail) and
  // machine_health_source_machines.
  static void Report(const std::string& source, const StreamScorerStats& stats,
                     metrics::Collection& out);

 private:
  struct Impl;
  explicit StreamScorer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mh::pipeline

#endif  // MH_PIPELINE_STREAM_SCORER_H_
