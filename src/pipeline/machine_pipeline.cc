#include "pipeline/machine_pipeline.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "alarm/explain.h"
#include "core/strings.h"
#include "log/log.h"

namespace mh::pipeline {

Status ValidatePipelineOptions(const PipelineOptions& o) {
  MH_RETURN_IF_ERROR(window::ValidateWindowOptions(o.window));
  MH_RETURN_IF_ERROR(score::ValidateThresholdOptions(o.learn.threshold));
  MH_RETURN_IF_ERROR(alarm::ValidateAlarmRule(o.alarm));
  MH_RETURN_IF_ERROR(ValidateSnapshotOptions(o.snapshots));
  return Status::OK();
}

Result<std::unique_ptr<MachinePipeline>> MachinePipeline::Create(const PipelineOptions& options,
                                                                 MachineSpec spec) {
  MH_RETURN_IF_ERROR(ValidatePipelineOptions(options));
  if (!(spec.sample_scale > 0) || !std::isfinite(spec.sample_scale)) {
    return Status::InvalidArgument("machine '" + spec.machine_id +
                                   "': sample scale must be a finite number > 0");
  }
  features::FeatureStageOptions fo = options.features;
  fo.window_samples = options.window.window_samples;
  features::StreamShape shape = spec.shape;
  double max_rpm = 0;
  if (!spec.rpm_field.empty()) {
    // The features of the fastest speed the events may have: the same
    // names at every speed (SetShaftRpm moves their frequencies per window).
    max_rpm = features::MaxShaftRpm(shape.fs_hz, shape.bearing);
    if (!(max_rpm > 0)) {
      return Status::InvalidArgument("machine '" + spec.machine_id + "': rpm_field '" +
                                     spec.rpm_field + "': no shaft speed fits " +
                                     FormatDouble(shape.fs_hz) + " hz");
    }
    shape.shaft_rpm = max_rpm;
  }
  auto fopts = features::MakeFeatureOptions(fo, shape);
  if (!fopts.ok()) {
    return Status(fopts.status()).WithContext("machine '" + spec.machine_id + "'");
  }
  MH_ASSIGN_OR_RETURN(auto extractor, features::WindowFeatureExtractor::Create(*fopts));
  const std::vector<std::string>& names = extractor->names();
  if (spec.baseline != nullptr && spec.baseline->origin == "learned" &&
      spec.baseline->model->feature_names != features::DefaultModelFeatures(names)) {
    log::Warn("pipeline", "machine '" + spec.machine_id + "': stored baseline v" +
                              std::to_string(spec.baseline->version) +
                              " has other features than the pipeline computes now (window or "
                              "bands changed): learning anew");
    spec.first_version = std::max(spec.first_version, spec.baseline->version + 1);
    spec.baseline = nullptr;
  }
  std::vector<std::string> model_names = spec.baseline != nullptr
                                             ? spec.baseline->model->feature_names
                                             : features::DefaultModelFeatures(names);
  // A model's features by the library's names or the prototype's
  // (bandE0_200_ax), the same features.
  std::vector<std::string> prototype_names;
  for (const std::string& n : names) prototype_names.push_back(features::PrototypeFeatureName(n));
  std::vector<features::ModelFeatureSource> model_columns;
  std::string missing;
  for (const std::string& want : model_names) {
    auto source = features::ResolveModelFeature(want, names);
    if (!source.ok()) source = features::ResolveModelFeature(want, prototype_names);
    if (!source.ok()) {
      missing += (missing.empty() ? "" : ", ") + want;
      continue;
    }
    model_columns.push_back(*source);
  }
  if (!missing.empty()) {
    return Status::InvalidArgument("machine '" + spec.machine_id +
                                   "': the assigned model needs features the pipeline does not "
                                   "compute: " +
                                   missing);
  }
  // A silence longer than N window hops clears the alarm rule's history
  // (alarm::MaxGapForHop), unless the rule says otherwise.
  alarm::AlarmRule rule = spec.alarm.value_or(options.alarm);
  if (rule.max_gap_ns == 0) {
    const std::size_t hop = options.window.hop_samples == 0 ? options.window.window_samples
                                                            : options.window.hop_samples;
    rule.max_gap_ns =
        alarm::MaxGapForHop(rule, std::llround(static_cast<double>(hop) * 1e9 / spec.shape.fs_hz));
  }
  MH_ASSIGN_OR_RETURN(alarm::AlarmTracker tracker,
                      alarm::AlarmTracker::Create(spec.machine_id, rule));
  std::vector<sink::AlarmEvent> resume_events;
  if (spec.baseline != nullptr && !spec.alarm_resume.empty()) {
    for (const alarm::WindowMark& w : spec.alarm_resume) {
      auto update = tracker.Observe({w.window_start_ns, w.score, w.anomalous});
      if (update.ok() && update->event) {
        resume_events.push_back(
            ToSinkAlarmEvent(spec.machine_id, *update->event, spec.baseline->version));
      }
    }
    log::Info(
        "pipeline",
        "machine '" + spec.machine_id + "': alarm stage resumes " +
            (tracker.state() == alarm::AlarmState::kAlarm ? "in alarm " + tracker.open_alarm_id()
                                                          : std::string("normal")) +
            " from " + std::to_string(spec.alarm_resume.size()) + " stored windows");
  }
  spec.alarm_resume.clear();
  auto scorer = std::make_unique<score::MachineScorer>(spec.machine_id, std::move(model_names),
                                                       spec.learn.value_or(options.learn),
                                                       spec.first_version);
  if (spec.baseline != nullptr) MH_RETURN_IF_ERROR(scorer->Restore(spec.baseline));
  auto p = std::unique_ptr<MachinePipeline>(
      new MachinePipeline(options, std::move(spec), std::move(extractor), std::move(model_columns),
                          std::move(tracker), std::move(scorer)));
  p->resume_events_ = std::move(resume_events);
  p->max_shaft_rpm_ = max_rpm;
  return p;
}

MachinePipeline::MachinePipeline(const PipelineOptions& options, MachineSpec spec,
                                 std::unique_ptr<features::WindowFeatureExtractor> extractor,
                                 std::vector<features::ModelFeatureSource> model_columns,
                                 alarm::AlarmTracker tracker,
                                 std::unique_ptr<score::MachineScorer> scorer)
    : options_(options),
      spec_(std::move(spec)),
      windower_(options.window),
      extractor_(std::move(extractor)),
      model_columns_(std::move(model_columns)),
      tracker_(std::move(tracker)),
      scorer_(std::move(scorer)) {
  model_row_.resize(model_columns_.size());
  if (extractor_ == nullptr) return;  // feature rows
  std::vector<std::string> names;
  for (const std::string& n : extractor_->names()) {
    names.push_back(features::OutputFeatureName(options_.features, n));
  }
  feature_names_ = std::make_shared<const std::vector<std::string>>(std::move(names));
  for (const std::string& c : spec_.shape.channels) {
    const auto& n = extractor_->names();
    auto it = std::find(n.begin(), n.end(), "rms_" + c);
    if (it != n.end()) rms_columns_.push_back(static_cast<std::size_t>(it - n.begin()));
  }
  snapshots_.emplace(options_.snapshots, spec_.machine_id, spec_.shape.channels);
  InitExplainFeatures();
}

void MachinePipeline::InitExplainFeatures() {
  std::vector<std::string> names;
  explain_columns_.clear();
  for (std::size_t i = 0; i < feature_names_->size(); ++i) {
    const std::string& n = (*feature_names_)[i];
    if (!features::IsEnvelopeFeature(n)) continue;
    const auto& model = scorer_->feature_names();
    if (std::find(model.begin(), model.end(), n) != model.end()) continue;
    explain_columns_.push_back(i);
    names.push_back(n);
  }
  explain_row_.resize(explain_columns_.size());
  scorer_->SetExplainFeatures(std::move(names));
}

MachinePipeline::~MachinePipeline() = default;

Result<std::unique_ptr<MachinePipeline>> MachinePipeline::CreateForFeatureRows(
    const PipelineOptions& options, std::string machine_id, std::vector<std::string> names,
    std::shared_ptr<const score::Baseline> baseline) {
  MH_RETURN_IF_ERROR(ValidatePipelineOptions(options));
  if (names.empty()) {
    return Status::InvalidArgument("machine '" + machine_id + "': no features");
  }
  std::vector<std::string> model_names =
      baseline != nullptr ? baseline->model->feature_names : names;
  std::vector<features::ModelFeatureSource> model_columns;
  std::string missing;
  for (const std::string& want : model_names) {
    auto source = features::ResolveModelFeature(want, names);
    if (!source.ok()) {
      missing += (missing.empty() ? "" : ", ") + want;
      continue;
    }
    model_columns.push_back(*source);
  }
  if (!missing.empty()) {
    return Status::InvalidArgument("machine '" + machine_id +
                                   "': the assigned model needs features the events do not "
                                   "carry: " +
                                   missing);
  }
  MachineSpec spec;
  spec.machine_id = std::move(machine_id);
  spec.baseline = baseline;
  MH_ASSIGN_OR_RETURN(
      alarm::AlarmTracker tracker,
      alarm::AlarmTracker::Create(spec.machine_id, spec.alarm.value_or(options.alarm)));
  auto scorer = std::make_unique<score::MachineScorer>(spec.machine_id, std::move(model_names),
                                                       spec.learn.value_or(options.learn),
                                                       spec.first_version);
  if (baseline != nullptr) MH_RETURN_IF_ERROR(scorer->Restore(baseline));
  auto p = std::unique_ptr<MachinePipeline>(
      new MachinePipeline(options, std::move(spec), nullptr, std::move(model_columns),
                          std::move(tracker), std::move(scorer)));
  p->feature_names_ = std::make_shared<const std::vector<std::string>>(std::move(names));
  p->InitExplainFeatures();
  return p;
}

Status MachinePipeline::AddFeatureRow(std::span<const double> values, std::int64_t t_ns,
                                      const Output& out) {
  if (extractor_ != nullptr || values.size() != feature_names_->size()) {
    return Status::InvalidArgument("machine '" + spec_.machine_id +
                                   "': " + std::to_string(values.size()) + " features, expected " +
                                   std::to_string(feature_names_->size()));
  }
  WindowResult r;
  r.record.machine_id = spec_.machine_id;
  r.record.window_start_ns = t_ns;
  r.record.feature_names = feature_names_;
  r.record.features.assign(values.begin(), values.end());
  for (std::size_t i = 0; i < model_columns_.size(); ++i) {
    model_row_[i] = features::ModelFeatureValue(model_columns_[i], r.record.features);
  }
  return ScoreAndAlarm(r, out);
}

Status MachinePipeline::Add(window::Block block, const Output& out, double shaft_rpm) {
  if (extractor_ == nullptr) {
    return Status::InvalidArgument("machine '" + spec_.machine_id +
                                   "': its events carry feature rows, not samples");
  }
  if (block.fs_hz != spec_.shape.fs_hz) {
    return Status::InvalidArgument("machine '" + spec_.machine_id + "': samples at " +
                                   FormatDouble(block.fs_hz) + " hz, the machine's rate is " +
                                   FormatDouble(spec_.shape.fs_hz) + " hz");
  }
  if (block.channels.size() != spec_.shape.channels.size()) {
    return Status::InvalidArgument(
        "machine '" + spec_.machine_id + "': " + std::to_string(block.channels.size()) +
        " channels, the machine has " + std::to_string(spec_.shape.channels.size()));
  }
  block.stream = spec_.machine_id;
  if (spec_.sample_scale != 1.0) {
    scaled_.resize(block.channels.size());
    scaled_spans_.resize(block.channels.size());
    for (std::size_t c = 0; c < block.channels.size(); ++c) {
      const std::span<const double> in = block.channels[c];
      scaled_[c].resize(in.size());
      for (std::size_t i = 0; i < in.size(); ++i) scaled_[c][i] = in[i] * spec_.sample_scale;
      scaled_spans_[c] = scaled_[c];
    }
    block.channels = scaled_spans_;
  }
  if (spec_.rpm_field.empty()) {
    return windower_.Add(block, [&](const window::Window& w) { return OnWindow(w, out); });
  }
  if (!(shaft_rpm > 0) || !std::isfinite(shaft_rpm)) {
    return Status::InvalidArgument("field '" + spec_.rpm_field + "' (shaft speed) is " +
                                   FormatDouble(shaft_rpm) + ", expected rpm > 0");
  }
  if (shaft_rpm > max_shaft_rpm_) {
    return Status::InvalidArgument("field '" + spec_.rpm_field + "' (shaft speed) is " +
                                   FormatDouble(shaft_rpm) + " rpm, above the " +
                                   FormatDouble(max_shaft_rpm_) + " rpm at which order 3x" +
                                   (spec_.shape.bearing ? " or 2 x BPFI" : "") + " reaches fs/2");
  }
  const std::size_t n = block.channels.empty() ? 0 : block.channels[0].size();
  const std::uint64_t seq = next_seq_++;
  tags_.resize(n);
  for (std::size_t i = 0; i < n; ++i) tags_[i] = seq << 32 | i;
  block.tags = tags_;
  speeds_.push_back({seq, n, shaft_rpm});
  const window::WindowStats before = windower_.total();
  Status s = windower_.Add(block, [&](const window::Window& w) { return OnWindow(w, out); });
  // A block the windower refused or dropped (out of order) is in no window.
  const window::WindowStats after = windower_.total();
  if ((after.blocks == before.blocks || after.out_of_order != before.out_of_order) &&
      !speeds_.empty() && speeds_.back().seq == seq) {
    speeds_.pop_back();
  }
  return s;
}

void MachinePipeline::EndStream() {
  windower_.EndStream(spec_.machine_id);
  speeds_.clear();
}

Status MachinePipeline::SetWindowSpeed(const window::Window& w) {
  const std::uint64_t seq = w.first_tag >> 32;
  std::size_t offset = static_cast<std::size_t>(w.first_tag & 0xffffffffULL);
  // Blocks before the window's first are in no later window either.
  std::size_t first = 0;
  while (first < speeds_.size() && speeds_[first].seq < seq) ++first;
  speeds_.erase(speeds_.begin(), speeds_.begin() + static_cast<std::ptrdiff_t>(first));
  const std::size_t n = windower_.window_samples();
  std::size_t left = n;
  double sum = 0;
  for (std::size_t i = 0; i < speeds_.size() && left > 0; ++i) {
    const SpeedSegment& g = speeds_[i];
    const std::size_t take = std::min(left, g.samples > offset ? g.samples - offset : 0);
    sum += static_cast<double>(take) * g.rpm;
    left -= take;
    offset = 0;
  }
  if (left != 0) {
    // The windower's samples are the blocks recorded here; a window they do
    // not cover is a defect of this bookkeeping, reported, not a crash.
    return Status::Internal("shaft speed of the window at " + FormatDouble(w.start_ns / 1e9) +
                            " s: its samples are not in the blocks recorded");
  }
  return extractor_->SetShaftRpm(sum / static_cast<double>(n));
}

Status MachinePipeline::FinishLearning() {
  if (!scorer_->learning()) return Status::OK();
  return scorer_->FinishLearning();
}

Status MachinePipeline::OnWindow(const window::Window& w, const Output& out) {
  WindowResult r;
  r.first_sample = w.first_sample;
  r.first_tag = w.first_tag;
  sink::WindowRecord& rec = r.record;
  rec.machine_id = spec_.machine_id;
  rec.window_start_ns = w.start_ns;
  rec.feature_names = feature_names_;
  rec.features.resize(feature_names_->size());
  Status s = spec_.rpm_field.empty() ? Status::OK() : SetWindowSpeed(w);
  if (s.ok()) s = extractor_->Compute(w.channels, rec.features);
  if (!s.ok()) return s.WithContext("machine '" + spec_.machine_id + "'");
  double sum_sq = 0;
  for (std::size_t c : rms_columns_) sum_sq += rec.features[c] * rec.features[c];
  rec.rms = std::sqrt(sum_sq);
  for (std::size_t i = 0; i < model_columns_.size(); ++i) {
    model_row_[i] = features::ModelFeatureValue(model_columns_[i], rec.features);
  }
  return ScoreAndAlarm(r, out, &w);
}

Status MachinePipeline::ScoreAndAlarm(WindowResult& r, const Output& out, const window::Window* w) {
  sink::WindowRecord& rec = r.record;
  last_window_ns_ = std::max(last_window_ns_, rec.window_start_ns);
  if (scorer_->learning()) {
    for (std::size_t i = 0; i < explain_columns_.size(); ++i) {
      explain_row_[i] = rec.features[explain_columns_[i]];
    }
  }
  MH_ASSIGN_OR_RETURN(r.scored, scorer_->Observe(model_row_, rec.window_start_ns, explain_row_));
  if (r.scored.learning) {
    rec.state = sink::MachineState::kLearning;
    if (!scorer_->learning()) r.new_baseline = scorer_->baseline();
  } else {
    rec.score = r.scored.score;
    rec.score_samples = r.scored.score_samples;
    rec.anomaly = r.scored.anomalous;
    rec.threshold = r.scored.threshold;
    rec.state_score = r.scored.score;
    rec.baseline_version = r.scored.baseline_version;
    auto update = tracker_.Observe({rec.window_start_ns, r.scored.score, r.scored.anomalous});
    if (update.ok()) {
      r.alarm = std::move(*update);
    } else {
      // A window that does not start after the machine's last one (an event
      // delivered again, two snapshots with one time stamp): stored, but the
      // alarm stage has seen its time already and keeps its state.
      r.alarm = alarm::AlarmUpdate{};
      r.alarm->state = tracker_.state();
    }
    rec.state = r.alarm->state == alarm::AlarmState::kAlarm ? sink::MachineState::kAnomalous
                                                            : sink::MachineState::kNormal;
  }
  if (w != nullptr && snapshots_.has_value()) {
    MH_RETURN_IF_ERROR(snapshots_->Pick(*w, r.alarm, tracker_, &rec));
  }
  return out(r);
}

Result<std::vector<sink::AlarmEvent>> MachinePipeline::ApplyBaseline(const BaselineUpdate& update) {
  const std::shared_ptr<const score::Baseline> current = scorer_->baseline();
  if (update.baseline != nullptr && current != nullptr &&
      current->version == update.baseline->version) {
    return std::vector<sink::AlarmEvent>{};  // its own save, or already applied
  }
  if (update.baseline != nullptr &&
      update.baseline->model->feature_names != scorer_->feature_names()) {
    return Status::InvalidArgument("machine '" + spec_.machine_id + "': baseline v" +
                                   std::to_string(update.baseline->version) +
                                   " has other model features than the machine scores with; "
                                   "it applies at the next start");
  }
  std::vector<sink::AlarmEvent> events;
  if (const auto& open = tracker_.open_alarm()) {
    // Close the open alarm at the last window: the new baseline judges anew.
    alarm::AlarmEvent e;
    e.kind = alarm::AlarmEventKind::kClosed;
    e.alarm_id = tracker_.open_alarm_id();
    e.start_ns = open->start_ns;
    e.opened_ns = open->opened_ns;
    e.end_ns = std::max(open->opened_ns, last_window_ns_);
    e.last_anomalous_ns = open->last_anomalous_ns;
    e.peak_score = open->peak_score;
    e.peak_window_ns = open->peak_window_ns;
    e.windows = open->windows;
    e.anomalous_windows = open->anomalous_windows;
    events.push_back(
        ToSinkAlarmEvent(spec_.machine_id, e, current != nullptr ? current->version : 0));
  }
  if (update.baseline == nullptr) {
    scorer_->StartLearning(update.next_version);
  } else {
    MH_RETURN_IF_ERROR(scorer_->Restore(update.baseline));
  }
  MH_ASSIGN_OR_RETURN(tracker_, alarm::AlarmTracker::Create(spec_.machine_id, tracker_.rule()));
  std::string what = update.baseline == nullptr
                         ? "baseline reset by a change in the database; learning again"
                         : "now scoring with baseline v" +
                               std::to_string(update.baseline->version) + " (" +
                               update.baseline->origin + ")";
  if (!events.empty()) what += "; alarm " + events[0].alarm.alarm_id + " closed";
  log::Info("pipeline", "machine '" + spec_.machine_id + "': " + what);
  return events;
}

sink::AlarmEvent ToSinkAlarmEvent(const std::string& machine_id, const alarm::AlarmEvent& e,
                                  std::int64_t baseline_version) {
  sink::AlarmEvent out;
  const bool opened = e.kind == alarm::AlarmEventKind::kOpened;
  out.kind = opened ? sink::AlarmEventKind::kOpened : sink::AlarmEventKind::kClosed;
  out.event_ns = opened ? e.opened_ns : e.end_ns;
  sink::AlarmRecord& a = out.alarm;
  a.alarm_id = e.alarm_id;
  a.machine_id = machine_id;
  a.start_ns = e.start_ns;
  a.end_ns = opened ? 0 : e.end_ns;
  a.peak_score = e.peak_score;
  a.baseline_version = baseline_version;
  return out;
}

std::optional<sink::AlarmEvent> MachinePipeline::AlarmEventOf(const WindowResult& r) const {
  if (!r.alarm || !r.alarm->event) return std::nullopt;
  const alarm::AlarmEvent& e = *r.alarm->event;
  sink::AlarmEvent out = ToSinkAlarmEvent(spec_.machine_id, e, r.scored.baseline_version);
  sink::AlarmRecord& a = out.alarm;
  const auto& baseline = scorer_->baseline();
  if (e.kind == alarm::AlarmEventKind::kOpened && baseline != nullptr &&
      !baseline->stats.names.empty()) {
    // The model features (with the baseline's statistics) and the window's
    // other features (the ISO zone reads velocity_rms) side by side.
    std::vector<std::string> names = scorer_->feature_names();
    std::vector<double> row = model_row_;
    for (std::size_t i = 0; i < feature_names_->size(); ++i) {
      const std::string& n = (*feature_names_)[i];
      if (std::find(names.begin(), names.end(), n) != names.end()) continue;
      names.push_back(n);
      row.push_back(r.record.features[i]);
    }
    const std::vector<std::vector<double>> rows = {std::move(row)};
    alarm::ExplainOptions eo;
    eo.iso_group = spec_.iso_group;
    eo.foundation = spec_.foundation;
    auto explained = alarm::Explain(names, rows, baseline->stats, eo);
    if (explained.ok()) {
      a.explanation_text = explained->sentence;
      a.explanation_json = alarm::ExplanationJson(*explained);
    } else {
      a.explanation_text = "no explanation: " + explained.status().message();
    }
  }
  return out;
}

}  // namespace mh::pipeline
