#include "replay/replayer.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <thread>

#include "core/strings.h"
#include "csv/csv_reader.h"
#include "csv/timestamp_column.h"
#include "log/log.h"
#include "replay/event_json.h"
#include "window/windower.h"

namespace mh::replay {
namespace {

constexpr double kNsPerS = 1e9;

bool IsNumericKind(ValueKind k) {
  return k == ValueKind::kBool || k == ValueKind::kInt || k == ValueKind::kDouble ||
         k == ValueKind::kUInt64;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A number written as text: C syntax, or with a decimal comma and no point.
bool ParseNumberText(std::string_view s, double* out) {
  s = Trim(s);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty() || s.size() > 300) return false;
  char buf[300];
  const bool comma = s.find(',') != std::string_view::npos;
  if (comma && s.find('.') != std::string_view::npos) return false;
  std::size_t n = 0;
  for (char c : s) buf[n++] = c == ',' ? '.' : c;
  auto [ptr, ec] = std::from_chars(buf, buf + n, *out);
  return ec == std::errc() && ptr == buf + n;
}

// The numeric value of cell i, or false with the reason in *why.
bool CellNumber(const TableColumn& c, std::size_t i, double* out, std::string* why) {
  if (!c.valid[i]) {
    *why = "value is missing";
    return false;
  }
  switch (c.info.kind) {
    case ValueKind::kDouble:
      *out = c.doubles[i];
      break;
    case ValueKind::kInt:
    case ValueKind::kBool:
      *out = static_cast<double>(c.ints[i]);
      break;
    case ValueKind::kUInt64:
      *out = static_cast<double>(static_cast<std::uint64_t>(c.ints[i]));
      break;
    case ValueKind::kString:
    case ValueKind::kDecimal:
      if (!ParseNumberText(c.strings[i], out)) {
        *why = QuoteForMessage(c.strings[i]) + " is not a number";
        return false;
      }
      break;
    default:
      *why = std::string("a ") + ValueKindName(c.info.kind) + " value is not a number";
      return false;
  }
  if (!std::isfinite(*out)) {
    *why = "'" + FormatDouble(*out) + "' is not a finite number";
    return false;
  }
  return true;
}

bool CellText(const TableColumn& c, std::size_t i, std::string* out, std::string* why) {
  if (!c.valid[i]) {
    *why = "sensor id is missing";
    return false;
  }
  switch (c.info.kind) {
    case ValueKind::kString:
    case ValueKind::kDecimal:
      *out = c.strings[i];
      return true;
    case ValueKind::kInt:
      *out = std::to_string(c.ints[i]);
      return true;
    case ValueKind::kUInt64:
      *out = std::to_string(static_cast<std::uint64_t>(c.ints[i]));
      return true;
    case ValueKind::kDouble:
      *out = FormatDouble(c.doubles[i]);
      return true;
    case ValueKind::kBool:
      *out = c.ints[i] != 0 ? "true" : "false";
      return true;
    default:
      *why = std::string("a ") + ValueKindName(c.info.kind) + " value cannot be a sensor id";
      return false;
  }
}

// Column indices resolved against the table.
struct Plan {
  std::vector<std::size_t> features;
  std::vector<std::string> keys;
  std::vector<std::size_t> channels;
  int sensor = -1;
  int timestamp = -1;
};

Result<int> FindColumn(const std::vector<TableColumnInfo>& cols, const std::string& name,
                       const std::string& option) {
  for (std::size_t i = 0; i < cols.size(); ++i) {
    if (cols[i].name == name) return static_cast<int>(i);
  }
  std::string list;
  for (const auto& c : cols) list += (list.empty() ? "" : ", ") + c.name;
  return Status::InvalidArgument(option + ": no column '" + name + "' (columns: " + list + ")");
}

// A text column that looks numeric (csv::CsvNumericSuspects) is never left
// out of the default feature set silently, which would renumber the keys:
// it is an error naming the bad cell, or with --on-bad skip a feature whose
// bad cells skip their rows.
Result<Plan> MakePlan(const std::vector<TableColumnInfo>& cols,
                      const std::vector<csv::CsvNumericSuspect>& suspects, const ReplayOptions& o) {
  Plan plan;
  if (!o.sensor_id_column.empty()) {
    MH_ASSIGN_OR_RETURN(plan.sensor, FindColumn(cols, o.sensor_id_column, "--sensor-id-column"));
  }
  if (!o.timestamp_column.empty()) {
    MH_ASSIGN_OR_RETURN(plan.timestamp, FindColumn(cols, o.timestamp_column, "--timestamp-column"));
  }
  auto check_numeric = [&](std::size_t i, const std::string& option) -> Status {
    const ValueKind k = cols[i].kind;
    if (IsNumericKind(k) || k == ValueKind::kString || k == ValueKind::kDecimal) {
      return Status::OK();
    }
    return Status::InvalidArgument(option + ": column '" + cols[i].name + "' holds " +
                                   ValueKindName(k) + " values, not numbers");
  };
  if (!o.waveform_channels.empty()) {
    for (const std::string& name : o.waveform_channels) {
      MH_ASSIGN_OR_RETURN(int i, FindColumn(cols, name, "--channels"));
      MH_RETURN_IF_ERROR(check_numeric(static_cast<std::size_t>(i), "--channels"));
      plan.channels.push_back(static_cast<std::size_t>(i));
    }
    return plan;
  }
  if (!o.feature_keys.empty()) {
    for (const std::string& name : o.feature_keys) {
      MH_ASSIGN_OR_RETURN(int i, FindColumn(cols, name, "--feature-keys"));
      MH_RETURN_IF_ERROR(check_numeric(static_cast<std::size_t>(i), "--feature-keys"));
      plan.features.push_back(static_cast<std::size_t>(i));
    }
  } else {
    std::vector<std::size_t> numeric;
    for (std::size_t i = 0; i < cols.size(); ++i) {
      if (static_cast<int>(i) == plan.sensor || static_cast<int>(i) == plan.timestamp) continue;
      if (IsNumericKind(cols[i].kind)) {
        numeric.push_back(i);
        continue;
      }
      const auto suspect = std::find_if(suspects.begin(), suspects.end(),
                                        [&](const auto& s) { return s.column == i; });
      if (suspect == suspects.end()) continue;
      if (o.on_bad != OnBad::kSkip) {
        return Status::InvalidArgument(
            o.source_name + ": line " + std::to_string(suspect->line) + ", column '" +
            cols[i].name + "': " + QuoteForMessage(suspect->cell) +
            " is not a number, but the column's other values in the first " +
            std::to_string(suspect->sample_rows) +
            " rows are: fix the cell, skip bad rows with --on-bad skip, or name the features with "
            "--feature-keys (--column-type '" +
            cols[i].name + "=string' reads the column as text)");
      }
      numeric.push_back(i);
    }
    if (o.feature_count > 0) {
      if (numeric.size() < static_cast<std::size_t>(o.feature_count)) {
        return Status::InvalidArgument("--feature-count: found only " +
                                       std::to_string(numeric.size()) + " numeric columns but " +
                                       std::to_string(o.feature_count) + " were asked for");
      }
      numeric.resize(static_cast<std::size_t>(o.feature_count));
    }
    if (numeric.empty()) {
      return Status::InvalidArgument("no numeric columns found; name them with --feature-keys");
    }
    plan.features = std::move(numeric);
  }
  for (std::size_t k = 0; k < plan.features.size(); ++k) {
    plan.keys.push_back(o.keep_names ? cols[plan.features[k]].name
                                     : "feature_" + std::to_string(k + 1));
  }
  return plan;
}

}  // namespace

Status ValidateReplayOptions(const ReplayOptions& o) {
  if (o.batch < 1) return Status::InvalidArgument("--batch: expected an integer >= 1");
  if (!(o.delay_s >= 0) || !std::isfinite(o.delay_s)) {
    return Status::InvalidArgument("--delay: expected seconds >= 0");
  }
  if (!(o.rate >= 0) || !std::isfinite(o.rate)) {  // 0: not paced by rate
    return Status::InvalidArgument("--rate: expected events per second > 0");
  }
  if (!(o.speed >= 0) || !std::isfinite(o.speed)) {
    return Status::InvalidArgument("--speed: expected a factor > 0");
  }
  if (o.rate > 0 && o.speed > 0) {
    return Status::InvalidArgument("--rate and --speed cannot be used together");
  }
  if (o.speed > 0 && o.timestamp_column.empty()) {
    return Status::InvalidArgument("--speed needs --timestamp-column");
  }
  if (o.feature_count < 0) return Status::InvalidArgument("--feature-count: expected >= 0");
  if (o.sensor_id_column.empty() && o.sensor_ids.empty()) {
    return Status::InvalidArgument("--sensor-ids: expected at least one id");
  }
  for (const std::string& id : o.sensor_ids) {
    if (id.empty()) return Status::InvalidArgument("--sensor-ids: empty id");
  }
  if (o.max_events < 0) return Status::InvalidArgument("--limit: expected >= 0");
  if (!o.waveform_channels.empty()) {
    if (!(o.fs_hz > 0) || !std::isfinite(o.fs_hz)) {
      return Status::InvalidArgument("--fs: expected a sampling rate in hz > 0");
    }
    if (o.window_samples < 1 || o.window_samples > kMaxWindowSamples) {
      return Status::InvalidArgument("--window: expected 1 to " +
                                     std::to_string(kMaxWindowSamples) + " samples per event");
    }
    if (!o.feature_keys.empty() || o.feature_count > 0) {
      return Status::InvalidArgument(
          "--channels (waveforms) excludes --feature-keys/--feature-count");
    }
  }
  return Status::OK();
}

namespace {

// Batches, paces and publishes encoded events.
class Emitter {
 public:
  Emitter(const ReplayOptions& o, transport::Publisher& publisher, ReplayClock& clock,
          ReplayStats* stats)
      : o_(o), publisher_(publisher), clock_(clock), stats_(stats), events_(o.batch) {
    start_ns_ = clock_.MonotonicNs();
  }

  bool done() const { return o_.max_events > 0 && emitted_ >= o_.max_events; }

  // The string to encode the next event into (cleared). Then call Commit.
  Result<std::string*> Begin(double event_time_s, std::string_view sensor_id) {
    std::int64_t due = -1;
    if (o_.rate > 0) {
      due =
          start_ns_ + static_cast<std::int64_t>(static_cast<double>(emitted_) * kNsPerS / o_.rate);
    } else if (o_.speed > 0) {
      if (!pass_started_) {
        pass_started_ = true;
        pass_first_s_ = event_time_s;
        pass_start_ns_ = std::max(clock_.MonotonicNs(), last_publish_ns_);
      }
      const double offset_ns = (event_time_s - pass_first_s_) * kNsPerS / o_.speed;
      due = pass_start_ns_ + static_cast<std::int64_t>(std::clamp(offset_ns, -9e18, 9e18));
      if (n_ > 0 && due > batch_due_) MH_RETURN_IF_ERROR(Flush());
    }
    if (n_ == 0) batch_due_ = due;
    transport::OutgoingMessage* m = &events_[n_];
    m->key.assign(sensor_id);
    m->payload.clear();
    return &m->payload;
  }

  Status Commit() {
    ++n_;
    ++emitted_;
    if (n_ == events_.size() || done()) return Flush();
    return Status::OK();
  }

  Status Flush() {
    if (n_ == 0) return Status::OK();
    if (batch_due_ >= 0) {
      clock_.SleepUntil(batch_due_);
    } else if (o_.rate <= 0 && o_.speed <= 0 && o_.delay_s > 0 && published_any_) {
      clock_.SleepUntil(last_publish_ns_ + static_cast<std::int64_t>(o_.delay_s * kNsPerS));
    }
    // A target that is down (Unavailable) is retried with backoff for up to
    // retry_timeout_s; the batch is published whole again (at-least-once).
    const std::int64_t give_up_ns =
        clock_.MonotonicNs() + static_cast<std::int64_t>(o_.retry_timeout_s * kNsPerS);
    std::int64_t backoff_ns = 100'000'000;
    while (true) {
      Status s =
          publisher_.Publish(std::span<const transport::OutgoingMessage>(events_.data(), n_));
      if (s.ok()) break;
      if (!s.IsUnavailable() || clock_.MonotonicNs() + backoff_ns > give_up_ns) return s;
      if (!warned_retry_) {
        log::Warn("replay",
                  s.message() + "; retrying for up to " + FormatDouble(o_.retry_timeout_s) + " s");
        warned_retry_ = true;
      }
      ++stats_->publish_retries;
      clock_.SleepUntil(clock_.MonotonicNs() + backoff_ns);
      backoff_ns = std::min<std::int64_t>(backoff_ns * 2, 5'000'000'000);
    }
    stats_->events += static_cast<std::int64_t>(n_);
    if (o_.on_published) o_.on_published(static_cast<std::int64_t>(n_));
    n_ = 0;
    batch_due_ = -1;
    published_any_ = true;
    last_publish_ns_ = clock_.MonotonicNs();
    return Status::OK();
  }

  // A new pass restarts --speed's time base.
  void NewPass() { pass_started_ = false; }

 private:
  const ReplayOptions& o_;
  transport::Publisher& publisher_;
  ReplayClock& clock_;
  ReplayStats* stats_;
  std::vector<transport::OutgoingMessage> events_;
  std::size_t n_ = 0;
  std::int64_t emitted_ = 0;
  std::int64_t start_ns_ = 0;
  std::int64_t batch_due_ = -1;
  bool published_any_ = false;
  bool warned_retry_ = false;
  std::int64_t last_publish_ns_ = 0;
  bool pass_started_ = false;
  double pass_first_s_ = 0;
  std::int64_t pass_start_ns_ = 0;
};

class SystemClock final : public ReplayClock {
 public:
  std::int64_t WallNs() override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  std::int64_t MonotonicNs() override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  void SleepUntil(std::int64_t deadline_ns) override {
    const std::int64_t now = MonotonicNs();
    if (deadline_ns > now) std::this_thread::sleep_for(std::chrono::nanoseconds(deadline_ns - now));
  }
};

}  // namespace

ReplayClock& SystemReplayClock() {
  static SystemClock clock;
  return clock;
}

Result<ReplayStats> Replay(const TableOpener& open, const ReplayOptions& o,
                           transport::Publisher& publisher, ReplayClock& clock) {
  MH_RETURN_IF_ERROR(ValidateReplayOptions(o));
  ReplayStats stats;
  Emitter emitter(o, publisher, clock, &stats);
  const bool waveform = !o.waveform_channels.empty();
  TableBatch batch;
  std::vector<double> values;
  std::string sensor, why;
  // Waveforms: one row's samples, and a window's samples for the encoder.
  std::vector<double> row_values(o.waveform_channels.size());
  std::vector<std::span<const double>> row_spans(o.waveform_channels.size());
  std::vector<std::vector<double>> window_samples(o.waveform_channels.size());
  // Event times: one reader for all passes, so the unit is decided once.
  std::vector<std::int64_t> ts_ns;
  std::vector<std::uint8_t> ts_valid;
  csv::TimestampColumnOptions ts_options;
  ts_options.unit = o.timestamp_unit;
  ts_options.time_zone = o.time_zone;
  ts_options.source = o.source_name;
  ts_options.bad_as_invalid = o.on_bad == OnBad::kSkip;
  MH_ASSIGN_OR_RETURN(csv::TimestampColumnReader timestamps,
                      csv::TimestampColumnReader::Make(ts_options));
  bool logged_unit = false;
  while (!emitter.done()) {
    MH_ASSIGN_OR_RETURN(std::unique_ptr<TableReader> reader, open());
    MH_ASSIGN_OR_RETURN(Plan plan,
                        MakePlan(reader->columns(), csv::CsvNumericSuspects(*reader), o));
    emitter.NewPass();
    values.assign(plan.features.size(), 0.0);
    const std::vector<std::string> encoded_keys = EncodeFeatureKeys(plan.keys);
    // Waveforms: the pipeline's window stage cuts each sensor's rows into
    // events of window_samples rows (hop = window). Rows are handed over one
    // at a time so that --limit stops exactly at its event.
    window::WindowOptions wo;
    wo.window_samples = waveform ? o.window_samples : 1;
    window::Windower windower(wo);
    std::int64_t windows_done = 0;
    const window::Windower::Emit emit = [&](const window::Window& w) -> Status {
      const std::string id =
          plan.sensor >= 0
              ? std::string(w.stream)
              : o.sensor_ids[static_cast<std::size_t>(windows_done) % o.sensor_ids.size()];
      ++windows_done;
      const double event_ts = plan.timestamp >= 0 ? NsToSeconds(w.start_ns)
                                                  : static_cast<double>(clock.WallNs()) / kNsPerS;
      for (std::size_t k = 0; k < w.channels.size(); ++k) {
        window_samples[k].assign(w.channels[k].begin(), w.channels[k].end());
      }
      MH_ASSIGN_OR_RETURN(std::string * out, emitter.Begin(event_ts, id));
      AppendWaveformEventJson({id, event_ts, o.fs_hz, o.waveform_channels, window_samples}, out);
      return emitter.Commit();
    };
    const std::int64_t events_before = stats.events;
    const std::int64_t rows_before = stats.rows;
    while (!emitter.done()) {
      MH_ASSIGN_OR_RETURN(bool ok, reader->Next(&batch));
      (void)ok;  // the end is batch.rows == 0 (see core/table.h)
      if (batch.rows == 0) break;
      if (plan.timestamp >= 0) {
        const auto c = static_cast<std::size_t>(plan.timestamp);
        MH_RETURN_IF_ERROR(
            timestamps.Convert(batch.columns[c], batch.first_row, &ts_ns, &ts_valid));
        if (!logged_unit) {
          log::Info("replay", timestamps.Describe());
          logged_unit = true;
        }
      }
      for (std::size_t i = 0; i < batch.rows && !emitter.done(); ++i) {
        ++stats.rows;
        const std::int64_t row = batch.first_row + static_cast<std::int64_t>(i) + 1;
        // Returns the bad-value error, or counts the skip.
        auto bad = [&](std::size_t col) -> Status {
          if (o.on_bad == OnBad::kSkip) {
            ++stats.skipped_rows;
            return Status::OK();
          }
          return Status::InvalidArgument(o.source_name + ": row " + std::to_string(row) +
                                         ", column '" + batch.columns[col].info.name + "': " + why);
        };
        double ts = 0;
        bool has_ts = false;
        if (plan.timestamp >= 0) {
          const auto c = static_cast<std::size_t>(plan.timestamp);
          if (ts_valid[i] == 0) {
            why = "timestamp is missing";
            MH_RETURN_IF_ERROR(bad(c));
            continue;
          }
          ts = NsToSeconds(ts_ns[i]);
          has_ts = true;
        }
        bool have_sensor = false;
        if (plan.sensor >= 0) {
          const auto c = static_cast<std::size_t>(plan.sensor);
          if (!CellText(batch.columns[c], i, &sensor, &why)) {
            MH_RETURN_IF_ERROR(bad(c));
            continue;
          }
          have_sensor = true;
        }
        if (!waveform) {
          bool good = true;
          for (std::size_t k = 0; k < plan.features.size() && good; ++k) {
            if (!CellNumber(batch.columns[plan.features[k]], i, &values[k], &why)) {
              MH_RETURN_IF_ERROR(bad(plan.features[k]));
              good = false;
            }
          }
          if (!good) continue;
          if (!have_sensor) {
            sensor = o.sensor_ids[static_cast<std::size_t>(row - 1) % o.sensor_ids.size()];
          }
          const double event_ts = has_ts ? ts : static_cast<double>(clock.WallNs()) / kNsPerS;
          MH_ASSIGN_OR_RETURN(std::string * out, emitter.Begin(event_ts, sensor));
          AppendFeatureEventJson({sensor, event_ts, plan.keys, values}, encoded_keys, out);
          MH_RETURN_IF_ERROR(emitter.Commit());
          continue;
        }
        // Waveform: one sample per row.
        bool good = true;
        for (std::size_t k = 0; k < plan.channels.size() && good; ++k) {
          if (!CellNumber(batch.columns[plan.channels[k]], i, &row_values[k], &why)) {
            MH_RETURN_IF_ERROR(bad(plan.channels[k]));
            good = false;
          }
        }
        const std::string_view key = have_sensor ? std::string_view(sensor) : std::string_view();
        if (!good) {
          // A gap breaks the time base: the partial window is dropped.
          windower.EndStream(key);
          continue;
        }
        for (std::size_t k = 0; k < plan.channels.size(); ++k) row_spans[k] = {&row_values[k], 1};
        const std::int64_t time_ns = has_ts ? ts_ns[i] : 0;
        window::Block block;
        block.stream = key;
        block.fs_hz = o.fs_hz;
        block.channels = row_spans;
        block.sample_times = {&time_ns, 1};
        MH_RETURN_IF_ERROR(windower.Add(block, emit));
      }
    }
    windower.EndAll();
    stats.dropped_samples += windower.total().dropped_samples;
    if (emitter.done()) break;
    const std::int64_t pass_rows = stats.rows - rows_before;
    if (waveform && windows_done == 0 && pass_rows > 0 &&
        static_cast<std::uint64_t>(pass_rows) < o.window_samples) {
      return Status::InvalidArgument("--window: " + std::to_string(o.window_samples) +
                                     " samples per event, but " + o.source_name + " has only " +
                                     std::to_string(pass_rows) + " rows");
    }
    ++stats.passes;
    MH_RETURN_IF_ERROR(emitter.Flush());
    if (!o.loop || stats.events == events_before) break;  // an empty pass would spin
  }
  MH_RETURN_IF_ERROR(emitter.Flush());
  return stats;
}

}  // namespace mh::replay
