#include "pipeline/stream_scorer.h"

#include <cmath>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "core/strings.h"
#include "core/time_util.h"
#include "iforest/matrix.h"
#include "iforest/scorer.h"
#include "log/log.h"
#include "pipeline/event_decoder.h"
#include "score/baseline.h"
#include "sink/retry.h"

namespace mh::pipeline {
namespace {

using transport::Message;
using transport::OutgoingMessage;

}  // namespace

struct StreamScorer::Impl {
  const iforest::Model* model;                              // null: learning mode
  std::shared_ptr<const iforest::Model> model_hold;         // a model swapped in (owns *model)
  std::shared_ptr<const sink::ModelProvenance> provenance;  // stamped on the records
  // The provenance of each fixed baseline version (index: version - 1): a
  // waveform machine that refused a swap still scores with its older one.
  std::vector<std::shared_ptr<const sink::ModelProvenance>> baseline_models;
  transport::Subscriber& source;
  std::vector<sink::RunningSink*> sinks;
  transport::Publisher* dead_letters;
  StreamScorerOptions options;

  std::unique_ptr<iforest::Scorer> scorer;  // fixed model
  std::shared_ptr<const score::Baseline> fixed_baseline;
  PipelineOptions waveform_options;  // the cores' options for waveform events
  EventDecoder decoder;
  std::shared_ptr<const std::vector<std::string>> model_names;
  std::vector<std::string> named_keys;       // per model feature: key when matched by name
  std::vector<std::string> positional_keys;  // feature_1..feature_N
  // The pipeline core of every machine (key: sensor id; with window 0, also
  // the event length), and the alarm stage of fixed-model feature rows.
  std::map<std::string, std::unique_ptr<MachinePipeline>> cores;
  std::map<std::string, std::unique_ptr<MachinePipeline>> feature_cores;
  std::map<std::string, alarm::AlarmTracker> trackers;

  std::vector<sink::WindowRecord> records;
  std::vector<OutgoingMessage> dead;
  std::array<std::int64_t, kDeadLetterReasons> dead_by_reason{};  // of the batch
  iforest::Matrix rows;
  std::vector<std::size_t> row_record;  // record index of each row in `rows`
  std::vector<double> scores;
  std::vector<std::span<const double>> spans;  // per event: the channels' samples
  std::vector<double> feature_row;
  std::vector<sink::AlarmEvent> alarm_events;                         // of the batch
  std::vector<std::shared_ptr<const score::Baseline>> new_baselines;  // of the batch

  mutable std::mutex stats_mu;
  StreamScorerStats stats;

  Impl(const iforest::Model* m, transport::Subscriber& s, std::vector<sink::RunningSink*> k,
       transport::Publisher* d, StreamScorerOptions o)
      : model(m), source(s), sinks(std::move(k)), dead_letters(d), options(std::move(o)) {
    waveform_options = options.pipeline;
    if (m == nullptr) return;
    // Fixed model: the stream's window and feature options, and the model as
    // every machine's baseline (its own offset: decision_function < 0).
    waveform_options.window.window_samples = options.window_samples;
    waveform_options.window.hop_samples = options.hop_samples;
    waveform_options.features.bands = options.bands;
    waveform_options.features.set = options.feature_set;
    waveform_options.features.prototype_names = options.prototype_feature_names;
    provenance = options.model_provenance;
    baseline_models.push_back(provenance);
    scorer = std::make_unique<iforest::Scorer>(*m);
    auto b = std::make_shared<score::Baseline>();
    b->version = 1;
    b->model = std::shared_ptr<const iforest::Model>(std::shared_ptr<void>(), m);
    b->rule.rule = score::ThresholdRule::kAuto;
    b->threshold = 0;
    b->origin = "--model";
    fixed_baseline = std::move(b);
    SetKeys();
  }

  // The record names and event keys of the model's features.
  void SetKeys() {
    model_names = std::make_shared<const std::vector<std::string>>(model->feature_names);
    named_keys.clear();
    positional_keys.clear();
    for (std::size_t i = 0; i < model->feature_names.size(); ++i) {
      named_keys.push_back(options.feature_keys.empty() ? model->feature_names[i]
                                                        : options.feature_keys[i]);
      positional_keys.push_back("feature_" + std::to_string(i + 1));
    }
  }

  // Hot reload, between batches: `next` scores from now on (see
  // StreamScorerOptions::take_new_model).
  void SwapModel(ServedModel next) {
    if (next.model == nullptr || next.model->feature_names.size() != model->feature_names.size()) {
      log::Error("score", "new model ignored: its feature count differs from the serving model's");
      return;
    }
    model_hold = std::move(next.model);
    model = model_hold.get();
    provenance = std::move(next.provenance);
    scorer = std::make_unique<iforest::Scorer>(*model);
    SetKeys();
    auto b = std::make_shared<score::Baseline>(*fixed_baseline);
    b->version = fixed_baseline->version + 1;
    b->model = model_hold;
    b->origin = "--model " + (provenance != nullptr ? provenance->version : std::string());
    fixed_baseline = std::move(b);
    baseline_models.push_back(provenance);
    for (auto& [key, core] : cores) {
      auto events =
          core->ApplyBaseline({core->spec().machine_id, fixed_baseline, fixed_baseline->version});
      if (!events.ok()) {
        log::Error("score", events.status().message());
        continue;
      }
      for (sink::AlarmEvent& e : *events) alarm_events.push_back(std::move(e));
    }
  }

  void AddDeadLetter(const Message& m, DeadLetterReason why, std::string_view reason) {
    ++dead_by_reason[static_cast<int>(why)];
    std::string json = "{\"reason\":";
    AppendJsonString(reason, &json);
    json += ",\"origin\":";
    AppendJsonString(m.origin, &json);
    json += ",\"received\":";
    AppendJsonString(FormatRfc3339(WallNowNs(), 3), &json);
    // A payload that is not UTF-8 text (the binary waveform form) is kept
    // whole in base64.
    if (FindInvalidUtf8(m.payload) < 0) {
      json += ",\"payload\":";
      AppendJsonString(m.payload, &json);
    } else {
      json += ",\"payload_base64\":\"";
      AppendBase64(m.payload, &json);
      json += "\"";
    }
    json += "}";
    dead.push_back({m.origin, std::move(json)});
  }

  // Event time of the decoded event, else the message's; nullopt if neither.
  std::optional<std::int64_t> EventTime(const Message& m) const {
    if (decoder.event().has_timestamp) return decoder.event().timestamp_ns;
    if (m.timestamp_ns > 0) return m.timestamp_ns;
    return std::nullopt;
  }

  // Feature event, learning mode: the machine's feature-row core (its
  // features: the event's numeric members, as in its first event).
  Status AddLearningFeatureEvent(std::int64_t event_time_ns) {
    const DecodedEvent& ev = decoder.event();
    auto it = feature_cores.find(ev.sensor_id);
    if (it == feature_cores.end()) {
      std::vector<std::string> names(ev.feature_keys.begin(), ev.feature_keys.end());
      MH_ASSIGN_OR_RETURN(auto core, MachinePipeline::CreateForFeatureRows(
                                         options.pipeline, ev.sensor_id, std::move(names)));
      it = feature_cores.emplace(ev.sensor_id, std::move(core)).first;
      std::lock_guard lock(stats_mu);
      ++stats.machines;
    }
    MachinePipeline& core = *it->second;
    const std::vector<std::string>& names = core.feature_names();
    std::vector<double>& row = feature_row;
    row.resize(names.size());
    for (std::size_t i = 0; i < names.size(); ++i) {
      const double* v = ev.FindFeature(names[i]);
      if (v == nullptr) {
        if (const char* type = ev.NonNumericType(names[i])) {
          return Status::InvalidArgument("feature '" + names[i] + "' is " + type +
                                         ", not a number");
        }
        return Status::InvalidArgument("missing feature '" + names[i] +
                                       "' (the machine's first event had it)");
      }
      if (!std::isfinite(*v)) {
        return Status::InvalidArgument("feature '" + names[i] + "' is not finite");
      }
      row[i] = *v;
    }
    return core.AddFeatureRow(row, event_time_ns, [&](WindowResult& r) { return Keep(core, r); });
  }

  // A core's window result into the batch.
  Status Keep(const MachinePipeline& core, WindowResult& r) {
    if (auto e = core.AlarmEventOf(r)) {
      if (e->kind == sink::AlarmEventKind::kOpened) {
        log::Warn("pipeline", "alarm opened: machine '" + r.record.machine_id +
                                  "': " + e->alarm.explanation_text);
        std::lock_guard lock(stats_mu);
        ++stats.alarms_opened;
      }
      alarm_events.push_back(std::move(*e));
    }
    if (r.new_baseline != nullptr) new_baselines.push_back(r.new_baseline);
    if (!r.scored.learning) {
      std::lock_guard lock(stats_mu);
      ++stats.scored;
    }
    records.push_back(std::move(r.record));
    return Status::OK();
  }

  // Feature event -> a row of `rows` and a record (scored later in a batch).
  Status AddFeatureEvent(std::int64_t event_time_ns) {
    const DecodedEvent& ev = decoder.event();
    const std::size_t d = model->feature_names.size();
    // By name (or FEATURE_KEYS) when the first key is present; else the
    // prototype's positional keys.
    const std::vector<std::string>* keys = &named_keys;
    if (options.feature_keys.empty() && ev.FindFeature(named_keys[0]) == nullptr &&
        ev.NonNumericType(named_keys[0]) == nullptr &&
        (ev.FindFeature(positional_keys[0]) != nullptr ||
         ev.NonNumericType(positional_keys[0]) != nullptr)) {
      keys = &positional_keys;
    }
    const std::size_t base = rows.data.size();
    rows.data.resize(base + d);
    for (std::size_t i = 0; i < d; ++i) {
      const std::string& key = (*keys)[i];
      const double* v = ev.FindFeature(key);
      if (v == nullptr) {
        rows.data.resize(base);
        if (const char* type = ev.NonNumericType(key)) {
          return Status::InvalidArgument("feature '" + key + "' is " + type + ", not a number");
        }
        std::string msg = "missing feature '" + key + "'";
        if (keys == &named_keys && options.feature_keys.empty()) {
          msg += " (nor " + positional_keys[i] + ")";
        }
        return Status::InvalidArgument(msg);
      }
      if (!std::isfinite(*v)) {
        rows.data.resize(base);
        return Status::InvalidArgument("feature '" + key + "' is not finite");
      }
      rows.data[base + i] = *v;
    }
    ++rows.rows;
    sink::WindowRecord r;
    r.machine_id = ev.sensor_id;
    r.window_start_ns = event_time_ns;
    r.feature_names = model_names;
    r.features.assign(rows.data.begin() + static_cast<std::ptrdiff_t>(base), rows.data.end());
    row_record.push_back(records.size());
    records.push_back(std::move(r));
    return Status::OK();
  }

  // The shaft speed a waveform event of a machine with an rpm_field carries
  // (MachinePipeline::Add checks its value). InvalidArgument naming the
  // field when it is missing or not a number.
  static Result<double> ShaftSpeedOf(const DecodedEvent& ev, const std::string& field) {
    if (ev.binary) {
      return Status::InvalidArgument("binary waveform event has no field '" + field +
                                     "' (the machine's shaft speed, rpm_field): send JSON events");
    }
    if (const double* v = ev.FindFeature(field)) return *v;
    if (const char* type = ev.NonNumericType(field)) {
      return Status::InvalidArgument("field '" + field + "' (shaft speed) is " + type +
                                     ", expected rpm > 0");
    }
    return Status::InvalidArgument("missing field '" + field +
                                   "' (the machine's shaft speed, rpm_field)");
  }

  // Waveform event -> the machine's core: windows, features, score, alarm.
  Status AddWaveformEvent(std::int64_t event_time_ns) {
    const DecodedEvent& ev = decoder.event();
    const std::size_t n = ev.channels.empty() ? 0 : ev.channels[0].size();
    // Fixed model without --window: each event is one window.
    const bool event_window = model != nullptr && options.window_samples == 0;
    if (event_window && n < 4) {
      return Status::InvalidArgument("waveform event has fewer than 4 samples");
    }
    const std::string key = event_window ? ev.sensor_id + "/" + std::to_string(n) : ev.sensor_id;
    auto it = cores.find(key);
    if (it == cores.end()) {
      if (cores.size() >= 100000) {
        return Status::InvalidArgument("more than 100000 machines: sensor '" + ev.sensor_id +
                                       "' not taken");
      }
      MachineSpec spec;
      spec.machine_id = ev.sensor_id;
      spec.shape.fs_hz = ev.fs_hz;
      spec.shape.channels.assign(ev.channel_names.begin(), ev.channel_names.end());
      spec.baseline = fixed_baseline;
      if (options.configure_machine) options.configure_machine(&spec);
      PipelineOptions o = waveform_options;
      if (event_window) o.window.window_samples = n;
      MH_ASSIGN_OR_RETURN(auto core, MachinePipeline::Create(o, std::move(spec)));
      for (sink::AlarmEvent& e : core->TakeResumeEvents()) alarm_events.push_back(std::move(e));
      it = cores.emplace(key, std::move(core)).first;
      std::lock_guard lock(stats_mu);
      ++stats.machines;
    }
    MachinePipeline& core = *it->second;
    const auto& want = core.spec().shape.channels;
    if (ev.channel_names.size() != want.size() ||
        !std::equal(want.begin(), want.end(), ev.channel_names.begin())) {
      std::string list;
      for (const std::string& c : want) list += (list.empty() ? "" : ", ") + c;
      return Status::InvalidArgument("channels differ from machine '" + ev.sensor_id +
                                     "''s first event (" + list + ")");
    }
    if (n < core.window_samples()) {
      return Status::InvalidArgument("waveform event has " + std::to_string(n) +
                                     " samples per channel, fewer than the window (" +
                                     std::to_string(core.window_samples()) + ")");
    }
    double shaft_rpm = 0;
    if (const std::string& field = core.spec().rpm_field; !field.empty()) {
      MH_ASSIGN_OR_RETURN(shaft_rpm, ShaftSpeedOf(ev, field));
    }
    spans.resize(ev.channel_names.size());
    for (std::size_t c = 0; c < spans.size(); ++c) spans[c] = ev.channels[c];
    window::Block b;
    b.fs_hz = ev.fs_hz;
    b.channels = spans;
    b.t0_ns = event_time_ns;
    const window::WindowStats before = core.window_stats();
    Status s = core.Add(
        b, [&](WindowResult& r) { return Keep(core, r); }, shaft_rpm);
    if (event_window) core.EndStream();
    const window::WindowStats after = core.window_stats();
    std::lock_guard lock(stats_mu);
    stats.windows += after.windows - before.windows;
    stats.dropped_samples +=
        (after.dropped_samples - before.dropped_samples) * static_cast<std::int64_t>(spans.size());
    return s;
  }

  void Process(const Message& m) {
    static_assert(transport::kPayloadPadding >= kDecodePadding);
    Status s = decoder.Decode(m.payload, m.payload.capacity());
    DeadLetterReason why = DeadLetterReason::kUndecodable;
    std::optional<std::int64_t> t;
    if (s.ok()) {
      t = EventTime(m);
      why = DeadLetterReason::kNoTimestamp;
      if (!t) s = Status::InvalidArgument("no timestamp (the event has none, nor the transport)");
    }
    if (s.ok()) {
      const bool wave = decoder.event().kind == EventKind::kWaveform;
      const std::size_t n_records = records.size();
      const std::size_t n_rows = rows.rows;
      why = DeadLetterReason::kRejected;
      s = wave               ? AddWaveformEvent(*t)
          : model != nullptr ? AddFeatureEvent(*t)
                             : AddLearningFeatureEvent(*t);
      if (!s.ok()) {  // nothing of a rejected event stays in the batch
        records.resize(n_records);
        rows.rows = n_rows;
        if (model != nullptr) rows.data.resize(n_rows * model->feature_names.size());
        row_record.resize(n_rows);
      }
      if (s.ok()) {
        std::lock_guard lock(stats_mu);
        ++(wave ? stats.waveform_events : stats.feature_events);
      }
    }
    if (!s.ok()) AddDeadLetter(m, why, s.message());
  }

  // Scores the fixed model's feature rows in one batch, then runs each
  // machine's alarm stage over them in event order.
  void ScoreRows() {
    if (rows.rows == 0) return;
    rows.cols = model->feature_names.size();
    scores.resize(rows.rows);
    scorer->ScoreSamplesBatch(rows, scores);
    for (std::size_t i = 0; i < rows.rows; ++i) {
      sink::WindowRecord& r = records[row_record[i]];
      r.score_samples = scores[i];
      r.score = scores[i] - model->offset;
      r.anomaly = r.score < 0;
      r.state_score = r.score;
      r.threshold = 0;
      auto it = trackers.find(r.machine_id);
      if (it == trackers.end()) {
        auto t = alarm::AlarmTracker::Create(r.machine_id, options.pipeline.alarm);
        it = trackers.emplace(r.machine_id, std::move(*t)).first;
        std::lock_guard lock(stats_mu);
        ++stats.machines;
      }
      auto update = it->second.Observe({r.window_start_ns, r.score, r.anomaly});
      // A window not after the machine's last (a re-delivered event) keeps
      // the machine's state.
      const bool alarm_on = update.ok() ? update->state == alarm::AlarmState::kAlarm
                                        : it->second.state() == alarm::AlarmState::kAlarm;
      r.state = alarm_on ? sink::MachineState::kAnomalous : sink::MachineState::kNormal;
      if (update.ok() && update->event && update->event->kind == alarm::AlarmEventKind::kOpened) {
        log::Warn("pipeline",
                  "alarm opened: machine '" + r.machine_id + "' (" + update->event->alarm_id + ")");
        std::lock_guard lock(stats_mu);
        ++stats.alarms_opened;
      }
    }
    std::lock_guard lock(stats_mu);
    stats.scored += static_cast<std::int64_t>(rows.rows);
  }

  // Applies the baseline changes made elsewhere to the machines' cores (at
  // most once per baseline_poll_interval).
  Status PollBaselines(std::chrono::steady_clock::time_point* next_poll) {
    if (!options.poll_baselines) return Status::OK();
    const auto now = std::chrono::steady_clock::now();
    if (now < *next_poll) return Status::OK();
    *next_poll = now + options.baseline_poll_interval;
    auto updates = options.poll_baselines();
    if (!updates.ok()) {
      log::Warn("pipeline", "baseline changes not read: " + updates.status().message());
      return Status::OK();
    }
    std::vector<sink::AlarmEvent> closed;
    for (const BaselineUpdate& u : *updates) {
      for (auto* map : {&cores, &feature_cores}) {
        for (auto& [key, core] : *map) {
          if (core->spec().machine_id != u.machine_id) continue;
          auto events = core->ApplyBaseline(u);
          if (!events.ok()) {
            log::Error("pipeline", events.status().message());
            continue;
          }
          for (sink::AlarmEvent& e : *events) closed.push_back(std::move(e));
        }
      }
    }
    if (closed.empty() || !options.on_alarm_events) return Status::OK();
    return options.on_alarm_events(closed);
  }

  // Publishes dead letters, retrying while the target is unavailable.
  Status PublishDeadLetters(const std::atomic<bool>& stop) {
    if (dead.empty()) return Status::OK();
    {
      std::lock_guard lock(stats_mu);
      stats.dead_letters += static_cast<std::int64_t>(dead.size());
      for (int i = 0; i < kDeadLetterReasons; ++i) {
        stats.dead_letters_by_reason[i] += dead_by_reason[i];
      }
    }
    if (dead_letters == nullptr) {
      for (const OutgoingMessage& d : dead) log::Warn("score", "dead letter: " + d.payload);
      return Status::OK();
    }
    // The one retry loop (sink/retry.h): Unavailable and IOError are retried
    // with backoff while the target is down; anything else stops the scorer.
    Status s = sink::RetryWithBackoff(
        sink::RetryPolicy{}, stop, [&] { return dead_letters->Publish(dead); },
        [](const Status& failed, int) {
          log::Warn("score", "dead letters: " + failed.ToString() + "; retrying");
        });
    if (!s.ok() && !s.IsUnavailable()) return s.WithContext("dead letters");
    return s;
  }
};

StreamScorer::StreamScorer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
StreamScorer::~StreamScorer() = default;

Result<std::unique_ptr<StreamScorer>> StreamScorer::Create(const iforest::Model& model,
                                                           transport::Subscriber& source,
                                                           std::vector<sink::RunningSink*> sinks,
                                                           transport::Publisher* dead_letters,
                                                           StreamScorerOptions options) {
  if (sinks.empty()) return Status::InvalidArgument("--to: at least one target is needed");
  if (!options.feature_keys.empty() && options.feature_keys.size() != model.feature_names.size()) {
    return Status::InvalidArgument("--features: " + std::to_string(options.feature_keys.size()) +
                                   " keys given, the model has " +
                                   std::to_string(model.feature_names.size()) + " features");
  }
  if (options.hop_samples > 0 && options.window_samples == 0) {
    return Status::InvalidArgument("--hop needs --window");
  }
  if (options.window_samples > 0) {
    window::WindowOptions w;
    w.window_samples = options.window_samples;
    w.hop_samples = options.hop_samples;
    MH_RETURN_IF_ERROR(window::ValidateWindowOptions(w));
  }
  if (options.max_batch == 0) return Status::InvalidArgument("--batch must be >= 1");
  MH_RETURN_IF_ERROR(alarm::ValidateAlarmRule(options.pipeline.alarm));
  return std::unique_ptr<StreamScorer>(new StreamScorer(
      std::make_unique<Impl>(&model, source, std::move(sinks), dead_letters, std::move(options))));
}

Result<std::unique_ptr<StreamScorer>> StreamScorer::CreateLearning(
    transport::Subscriber& source, std::vector<sink::RunningSink*> sinks,
    transport::Publisher* dead_letters, StreamScorerOptions options) {
  if (sinks.empty()) return Status::InvalidArgument("at least one sink is needed");
  if (options.max_batch == 0) return Status::InvalidArgument("--batch must be >= 1");
  MH_RETURN_IF_ERROR(ValidatePipelineOptions(options.pipeline));
  return std::unique_ptr<StreamScorer>(new StreamScorer(
      std::make_unique<Impl>(nullptr, source, std::move(sinks), dead_letters, std::move(options))));
}

Status StreamScorer::Run(const std::atomic<bool>& stop) {
  Impl& im = *impl_;
  std::vector<Message> batch;
  auto next_poll = std::chrono::steady_clock::now() + im.options.baseline_poll_interval;
  while (!stop.load()) {
    MH_RETURN_IF_ERROR(im.PollBaselines(&next_poll));
    // Collect up to max_batch messages, waiting at most `linger` in all.
    batch.clear();
    const auto deadline = std::chrono::steady_clock::now() + im.options.linger;
    while (batch.size() < im.options.max_batch && !stop.load()) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      auto got = im.source.Poll(im.options.max_batch - batch.size(),
                                std::max(left, std::chrono::milliseconds(0)));
      {
        std::lock_guard lock(im.stats_mu);
        im.stats.source_down = !got.ok();
        if (!got.ok()) ++im.stats.poll_failures;
      }
      if (!got.ok()) {
        if (!got.status().IsUnavailable()) return got.status().WithContext("--from");
        log::Warn("score", "source: " + got.status().message());
      } else {
        for (Message& m : got.value()) batch.push_back(std::move(m));
      }
      if (im.source.AtEnd() || left.count() <= 0) break;
    }
    if (batch.empty()) {
      if (im.source.AtEnd()) break;
      continue;
    }
    im.records.clear();
    im.alarm_events.clear();
    im.new_baselines.clear();
    im.dead.clear();
    im.dead_by_reason.fill(0);
    im.rows = iforest::Matrix{};
    im.row_record.clear();
    const auto t0 = std::chrono::steady_clock::now();
    // A new model scores this whole batch (never part of one).
    if (im.model != nullptr && im.options.take_new_model) {
      if (std::optional<ServedModel> next = im.options.take_new_model()) {
        im.SwapModel(std::move(*next));
      }
    }
    for (const Message& m : batch) im.Process(m);
    im.ScoreRows();
    if (im.provenance != nullptr) {
      // Feature rows: the model of the batch; waveform windows: that of the
      // baseline version that scored them.
      for (sink::WindowRecord& r : im.records) {
        const auto v = static_cast<std::size_t>(r.baseline_version);
        r.model =
            v >= 1 && v <= im.baseline_models.size() ? im.baseline_models[v - 1] : im.provenance;
      }
    }
    if (im.options.scoring_seconds != nullptr) {
      im.options.scoring_seconds->Observe(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    {
      std::lock_guard lock(im.stats_mu);
      im.stats.messages += static_cast<std::int64_t>(batch.size());
    }
    MH_RETURN_IF_ERROR(im.PublishDeadLetters(stop));
    if (!im.records.empty()) {
      for (sink::RunningSink* s : im.sinks) MH_RETURN_IF_ERROR(s->Write(im.records, stop));
    }
    if (im.options.on_new_baseline) {
      for (const auto& b : im.new_baselines) MH_RETURN_IF_ERROR(im.options.on_new_baseline(b));
    }
    if (im.options.on_alarm_events && !im.alarm_events.empty()) {
      MH_RETURN_IF_ERROR(im.options.on_alarm_events(im.alarm_events));
    }
    Status c = im.source.Commit();
    std::lock_guard lock(im.stats_mu);
    im.stats.records += static_cast<std::int64_t>(im.records.size());
    ++im.stats.batches;
    if (!c.ok()) {
      ++im.stats.commit_failures;
      log::Warn("score", "commit failed (these events will be delivered again): " + c.message());
    }
  }
  return Status::OK();
}

const char* DeadLetterReasonName(DeadLetterReason reason) {
  switch (reason) {
    case DeadLetterReason::kUndecodable:
      return "undecodable";
    case DeadLetterReason::kNoTimestamp:
      return "no_timestamp";
    case DeadLetterReason::kRejected:
      return "rejected";
  }
  return "rejected";
}

void StreamScorer::Report(const std::string& source, const StreamScorerStats& st,
                          metrics::Collection& out) {
  const metrics::Labels labels{{"source", source}};
  auto d = [](std::int64_t v) { return static_cast<double>(v); };
  out.Counter("machine_health_events_received_total", "Events (messages) taken from the source.",
              labels, d(st.messages));
  for (int i = 0; i < kDeadLetterReasons; ++i) {
    out.Counter(
        "machine_health_events_dead_lettered_total",
        "Events set aside as dead letters, by reason class (undecodable, no_timestamp, "
        "rejected).",
        {{"source", source}, {"reason", DeadLetterReasonName(static_cast<DeadLetterReason>(i))}},
        d(st.dead_letters_by_reason[i]));
  }
  out.Counter("machine_health_windows_total",
              "Windows made from the source's events and handed to the sinks (learning ones "
              "included).",
              labels, d(st.records));
  out.Counter("machine_health_windows_scored_total", "Windows of the source that got a score.",
              labels, d(st.scored));
  out.Counter("machine_health_source_batches_total", "Batches written and committed.", labels,
              d(st.batches));
  out.Counter("machine_health_source_commit_failures_total",
              "Source commits that failed (their events are delivered again).", labels,
              d(st.commit_failures));
  out.Counter("machine_health_alarms_opened_total", "Alarms opened.", labels, d(st.alarms_opened));
  out.Counter("machine_health_source_poll_failures_total",
              "Polls of the source that failed (peer unreachable); the scorer retries.", labels,
              d(st.poll_failures));
  out.Gauge("machine_health_source_up", "1 unless the last poll of the source failed.", labels,
            st.source_down ? 0 : 1);
  out.Gauge("machine_health_source_machines", "Machines seen on the source.", labels,
            d(st.machines));
}

StreamScorerStats StreamScorer::stats() const {
  std::lock_guard lock(impl_->stats_mu);
  return impl_->stats;
}

}  // namespace mh::pipeline
