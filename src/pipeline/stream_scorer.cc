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

namespace mh::pipeline {
namespace {

using transport::Message;
using transport::OutgoingMessage;

// A feature extractor for one waveform shape (rate, window, channels), with
// the record feature names and where the model's features sit among them.
struct WaveformShape {
  std::unique_ptr<features::WindowFeatureExtractor> extractor;
  std::shared_ptr<const std::vector<std::string>> names;  // as written to sinks
  std::vector<int> model_index;  // per model feature: index into names; empty = not scorable
  std::vector<double> values;
};

}  // namespace

struct StreamScorer::Impl {
  const iforest::Model& model;
  transport::Subscriber& source;
  std::vector<sink::RunningSink*> sinks;
  transport::Publisher* dead_letters;
  StreamScorerOptions options;

  iforest::Scorer scorer;
  EventDecoder decoder;
  std::shared_ptr<const std::vector<std::string>> model_names;
  std::vector<std::string> named_keys;       // per model feature: key when matched by name
  std::vector<std::string> positional_keys;  // feature_1..feature_N
  std::map<std::string, WaveformShape> shapes;
  bool warned_unscorable = false;

  std::vector<sink::WindowRecord> records;
  std::vector<OutgoingMessage> dead;
  iforest::Matrix rows;
  std::vector<std::size_t> row_record;  // record index of each row in `rows`
  std::vector<double> scores;
  std::vector<std::span<const double>> spans;  // per window: the channels' samples

  mutable std::mutex stats_mu;
  StreamScorerStats stats;

  Impl(const iforest::Model& m, transport::Subscriber& s, std::vector<sink::RunningSink*> k,
       transport::Publisher* d, StreamScorerOptions o)
      : model(m),
        source(s),
        sinks(std::move(k)),
        dead_letters(d),
        options(std::move(o)),
        scorer(m),
        model_names(std::make_shared<const std::vector<std::string>>(m.feature_names)) {
    for (std::size_t i = 0; i < m.feature_names.size(); ++i) {
      named_keys.push_back(options.feature_keys.empty() ? m.feature_names[i]
                                                        : options.feature_keys[i]);
      positional_keys.push_back("feature_" + std::to_string(i + 1));
    }
  }

  void AddDeadLetter(const Message& m, std::string_view reason) {
    std::string json = "{\"reason\":";
    AppendJsonString(reason, &json);
    json += ",\"origin\":";
    AppendJsonString(m.origin, &json);
    json += ",\"received\":";
    AppendJsonString(FormatRfc3339(WallNowNs(), 3), &json);
    json += ",\"payload\":";
    AppendJsonString(m.payload, &json);
    json += "}";
    dead.push_back({m.origin, std::move(json)});
  }

  // Event time of the decoded event, else the message's; nullopt if neither.
  std::optional<std::int64_t> EventTime(const Message& m) const {
    if (decoder.event().has_timestamp) return decoder.event().timestamp_ns;
    if (m.timestamp_ns > 0) return m.timestamp_ns;
    return std::nullopt;
  }

  // Feature event -> a row of `rows` and a record (scored later in a batch).
  Status AddFeatureEvent(std::int64_t event_time_ns) {
    const DecodedEvent& ev = decoder.event();
    const std::size_t d = model.feature_names.size();
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

  Result<WaveformShape*> ShapeFor(double fs, std::size_t window) {
    const DecodedEvent& ev = decoder.event();
    std::string key = FormatDouble(fs) + "/" + std::to_string(window);
    for (std::string_view c : ev.channel_names) {
      key += "/";
      key += c;
    }
    auto it = shapes.find(key);
    if (it != shapes.end()) return &it->second;
    if (shapes.size() >= 64) shapes.clear();  // bounded: a misbehaving producer
    features::FeatureOptions fo;
    fo.sample_rate_hz = fs;
    fo.window_samples = window;
    fo.channels.assign(ev.channel_names.begin(), ev.channel_names.end());
    fo.bands.clear();
    for (const features::Band& b : options.bands) {
      if (b.hi_hz <= fs / 2) fo.bands.push_back(b);
    }
    fo.set = options.feature_set;
    MH_ASSIGN_OR_RETURN(auto extractor, features::WindowFeatureExtractor::Create(fo));
    WaveformShape shape;
    auto names = std::make_shared<std::vector<std::string>>();
    for (const std::string& n : extractor->names()) {
      names->push_back(options.prototype_feature_names ? features::PrototypeFeatureName(n) : n);
    }
    // Where each model feature is: by library or prototype name.
    for (const std::string& want : model.feature_names) {
      int found = -1;
      for (std::size_t j = 0; j < extractor->names().size(); ++j) {
        if (extractor->names()[j] == want || (*names)[j] == want) found = static_cast<int>(j);
      }
      if (found < 0) {
        shape.model_index.clear();
        if (!warned_unscorable) {
          log::Warn("score", "waveform events give no feature '" + want +
                                 "' that the model needs: their features are stored, not scored");
          warned_unscorable = true;
        }
        break;
      }
      shape.model_index.push_back(found);
    }
    shape.values.resize(extractor->names().size());
    shape.names = std::move(names);
    shape.extractor = std::move(extractor);
    return &shapes.emplace(key, std::move(shape)).first->second;
  }

  Status AddWaveformEvent(std::int64_t event_time_ns) {
    const DecodedEvent& ev = decoder.event();
    const std::size_t n = ev.channels.empty() ? 0 : ev.channels[0].size();
    const std::size_t window = options.window_samples == 0 ? n : options.window_samples;
    const std::size_t hop = options.hop_samples == 0 ? window : options.hop_samples;
    if (n < window) {
      return Status::InvalidArgument("waveform event has " + std::to_string(n) +
                                     " samples per channel, fewer than the window (" +
                                     std::to_string(window) + ")");
    }
    if (window < 4) return Status::InvalidArgument("waveform event has fewer than 4 samples");
    MH_ASSIGN_OR_RETURN(WaveformShape * shape, ShapeFor(ev.fs_hz, window));
    spans.resize(ev.channel_names.size());
    std::size_t start = 0;
    for (; start + window <= n; start += hop) {
      for (std::size_t c = 0; c < spans.size(); ++c) {
        spans[c] = std::span<const double>(ev.channels[c].data() + start, window);
      }
      MH_RETURN_IF_ERROR(shape->extractor->Compute(spans, shape->values));
      sink::WindowRecord r;
      r.machine_id = ev.sensor_id;
      r.window_start_ns =
          event_time_ns +
          static_cast<std::int64_t>(std::llround(static_cast<double>(start) * 1e9 / ev.fs_hz));
      r.feature_names = shape->names;
      r.features = shape->values;
      if (!shape->model_index.empty()) {
        for (int j : shape->model_index) rows.data.push_back(shape->values[j]);
        ++rows.rows;
        row_record.push_back(records.size());
      }
      records.push_back(std::move(r));
      std::lock_guard lock(stats_mu);
      ++stats.windows;
    }
    const std::size_t used = start == 0 ? 0 : start - hop + window;
    std::lock_guard lock(stats_mu);
    stats.dropped_samples += static_cast<std::int64_t>((n - used) * spans.size());
    return Status::OK();
  }

  void Process(const Message& m) {
    static_assert(transport::kPayloadPadding >= kDecodePadding);
    Status s = decoder.Decode(m.payload, m.payload.capacity());
    std::optional<std::int64_t> t;
    if (s.ok()) {
      t = EventTime(m);
      if (!t) s = Status::InvalidArgument("no timestamp (the event has none, nor the transport)");
    }
    if (s.ok()) {
      const bool wave = decoder.event().kind == EventKind::kWaveform;
      const std::size_t n_records = records.size();
      const std::size_t n_rows = rows.rows;
      s = wave ? AddWaveformEvent(*t) : AddFeatureEvent(*t);
      if (!s.ok()) {  // nothing of a rejected event stays in the batch
        records.resize(n_records);
        rows.rows = n_rows;
        rows.data.resize(n_rows * model.feature_names.size());
        row_record.resize(n_rows);
      }
      if (s.ok()) {
        std::lock_guard lock(stats_mu);
        ++(wave ? stats.waveform_events : stats.feature_events);
      }
    }
    if (!s.ok()) AddDeadLetter(m, s.message());
  }

  void ScoreRows() {
    if (rows.rows == 0) return;
    rows.cols = model.feature_names.size();
    scores.resize(rows.rows);
    scorer.ScoreSamplesBatch(rows, scores);
    for (std::size_t i = 0; i < rows.rows; ++i) {
      sink::WindowRecord& r = records[row_record[i]];
      r.score_samples = scores[i];
      r.score = scores[i] - model.offset;
      r.anomaly = r.score < 0;
      r.state = r.anomaly ? sink::MachineState::kAnomalous : sink::MachineState::kNormal;
      r.state_score = r.score;
      r.threshold = 0;
    }
    std::lock_guard lock(stats_mu);
    stats.scored += static_cast<std::int64_t>(rows.rows);
  }

  // Publishes dead letters, retrying while the target is unavailable.
  Status PublishDeadLetters(const std::atomic<bool>& stop) {
    if (dead.empty()) return Status::OK();
    {
      std::lock_guard lock(stats_mu);
      stats.dead_letters += static_cast<std::int64_t>(dead.size());
    }
    if (dead_letters == nullptr) {
      for (const OutgoingMessage& d : dead) log::Warn("score", "dead letter: " + d.payload);
      return Status::OK();
    }
    auto backoff = std::chrono::milliseconds(100);
    while (true) {
      Status s = dead_letters->Publish(dead);
      if (s.ok()) return s;
      if (!s.IsUnavailable() && !s.IsIOError()) return s.WithContext("dead letters");
      log::Warn("score", "dead letters: " + s.ToString() + "; retrying");
      const auto until = std::chrono::steady_clock::now() + backoff;
      while (std::chrono::steady_clock::now() < until) {
        if (stop.load()) return Status::Unavailable("dead letters: stopped while retrying");
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      backoff = std::min(backoff * 2, std::chrono::milliseconds(10000));
    }
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
  if (options.window_samples > 0 && options.hop_samples > options.window_samples) {
    return Status::InvalidArgument("--hop must not exceed --window");
  }
  if (options.max_batch == 0) return Status::InvalidArgument("--batch must be >= 1");
  return std::unique_ptr<StreamScorer>(new StreamScorer(
      std::make_unique<Impl>(model, source, std::move(sinks), dead_letters, std::move(options))));
}

Status StreamScorer::Run(const std::atomic<bool>& stop) {
  Impl& im = *impl_;
  std::vector<Message> batch;
  while (!stop.load()) {
    // Collect up to max_batch messages, waiting at most `linger` in all.
    batch.clear();
    const auto deadline = std::chrono::steady_clock::now() + im.options.linger;
    while (batch.size() < im.options.max_batch && !stop.load()) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      auto got = im.source.Poll(im.options.max_batch - batch.size(),
                                std::max(left, std::chrono::milliseconds(0)));
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
    im.dead.clear();
    im.rows = iforest::Matrix{};
    im.row_record.clear();
    for (const Message& m : batch) im.Process(m);
    im.ScoreRows();
    {
      std::lock_guard lock(im.stats_mu);
      im.stats.messages += static_cast<std::int64_t>(batch.size());
    }
    MH_RETURN_IF_ERROR(im.PublishDeadLetters(stop));
    if (!im.records.empty()) {
      for (sink::RunningSink* s : im.sinks) MH_RETURN_IF_ERROR(s->Write(im.records, stop));
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

StreamScorerStats StreamScorer::stats() const {
  std::lock_guard lock(impl_->stats_mu);
  return impl_->stats;
}

}  // namespace mh::pipeline
