// machine-health features: computes window features from CSV or Parquet
// files of samples.
//
//   machine-health features --input FILE|FOLDER|GLOB|URL --fs HZ [--channels a,b,...]
//       [--no-mag] [--dtype float64|float32] [--keep-going]
//       [--window 2560] [--hop N] [--bands 0-200,200-1000] [--set basic|full]
//       [--unit g|m/s2] [--rpm R] [--bearing NAME|Z,d,D,ANGLE]
//       [--env-band LO-HI] [--iso-group 1|2 [--foundation rigid|flexible]]
//       [--names default|prototype] --out FILE.csv|.tsv|.jsonl|.parquet|- [--format F]
//
// Input: every file is read with replay::OpenTableFile (the one CSV reader:
// dialect and decimal mark detected, a BOM skipped, streamed; Parquet by
// magic or extension; http(s) URLs). A folder or glob is expanded by
// replay::ExpandInputs in natural order; windows never cross a file
// boundary, and each row then carries source_file and source_offset.
// Without --channels the channels are the numeric columns that are not time
// or index columns (IsTimeOrIndexColumn). With a `machine_id` column,
// windows are cut per machine; with a `timestamp` column, window_start is
// its value for the window's first sample; with FEMTO's hour, minute,
// second and microsecond columns, the time of day of that sample. With 2+
// channels (2 or 3: the axes of one sensor) the vector magnitude is added as
// channel "mag" unless --no-mag.
// --dtype float32 rounds every sample to float32 first (as a float32 logger
// would have stored it). Output format by --out extension or --format
// (app/output_options.h, docs/output-formats.md).
#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "app/command.h"
#include "app/feature_table.h"
#include "app/output_options.h"
#include "core/strings.h"
#include "core/table.h"
#include "core/time_util.h"
#include "csv/timestamp_column.h"
#include "features/bearing.h"
#include "features/window_features.h"
#include "log/log.h"
#include "replay/input_files.h"
#include "replay/sample_columns.h"
#include "replay/table_file.h"

namespace mh::app {
namespace {

constexpr const char* kCommand = "features";

struct FeaturesArgs {
  std::string input;
  double fs = 0;
  std::string channels;  // empty: the numeric non-time, non-index columns
  std::int64_t window = 2560;
  std::int64_t hop = 0;  // only used when hop_given
  bool hop_given = false;
  std::string bands = "0-200";
  OutputArgs output;
  std::string set = "basic";
  std::string unit = "g";
  double rpm = 0;
  std::string bearing;
  std::string env_band;
  std::int64_t iso_group = 0;  // 0 = no iso_zone columns
  std::string foundation = "rigid";
  bool foundation_given = false;
  std::string names = "default";
  bool no_mag = false;
  std::string dtype = "float64";
  bool keep_going = false;
};

// "0-200,200-1000" -> bands. InvalidArgument naming the bad item.
Result<std::vector<features::Band>> ParseBands(const std::string& text) {
  std::vector<features::Band> bands;
  if (TrimSpace(text).empty()) return bands;
  for (const std::string& item : Split(text, ',')) {
    const std::string_view s = TrimSpace(item);
    const std::size_t dash = s.find('-', 1);
    if (dash == std::string_view::npos) {
      return Status::InvalidArgument("--bands: '" + std::string(s) + "' is not LO-HI");
    }
    auto lo = ParseDouble(TrimSpace(s.substr(0, dash)));
    auto hi = ParseDouble(TrimSpace(s.substr(dash + 1)));
    if (!lo.ok() || !hi.ok()) {
      return Status::InvalidArgument("--bands: '" + std::string(s) + "' is not LO-HI in hz");
    }
    bands.push_back({*lo, *hi});
  }
  return bands;
}

// "--bearing": a built-in name or "Z,d,D,ANGLE" (balls, ball and pitch
// diameter in one unit, contact angle in degrees).
Result<features::BearingGeometry> ParseBearing(const std::string& text) {
  if (text.find(',') == std::string::npos) {
    auto g = features::LookupBearing(TrimSpace(text));
    if (!g.ok()) {
      return Status::InvalidArgument("--bearing: unknown bearing '" + text +
                                     "' (expected 6205, za2115, femto or Z,d,D,ANGLE)");
    }
    return *g;
  }
  const std::vector<std::string> parts = Split(text, ',');
  if (parts.size() != 4) {
    return Status::InvalidArgument("--bearing: '" + text + "' is not Z,d,D,ANGLE");
  }
  auto z = ParseInt(TrimSpace(parts[0]));
  auto d = ParseDouble(TrimSpace(parts[1]));
  auto pitch = ParseDouble(TrimSpace(parts[2]));
  auto angle = ParseDouble(TrimSpace(parts[3]));
  if (!z.ok() || !d.ok() || !pitch.ok() || !angle.ok() || *z < 1 || *z > 1000) {
    return Status::InvalidArgument("--bearing: '" + text + "' is not Z,d,D,ANGLE");
  }
  return features::BearingGeometry{static_cast<int>(*z), *d, *pitch, *angle};
}

// The option a message of features::ValidateFeatureOptions is about.
std::string OptionOfMessage(const std::string& m) {
  if (m.rfind("band", 0) == 0) return "--bands: ";
  if (m.rfind("envelope", 0) == 0) return "--env-band: ";
  if (m.rfind("shaft", 0) == 0) return "--rpm: ";
  if (m.rfind("bearing", 0) == 0) return "--bearing: ";
  if (m.rfind("window", 0) == 0) return "--window: ";
  if (m.rfind("channel", 0) == 0 || m.rfind("duplicate", 0) == 0) return "--channels: ";
  return "";
}

// Sets o->channels (and the magnitude) from `channels`. The magnitude is the
// vector sum of the axes of one sensor: it is added for 2 or 3 channels (not
// for more, such as IMS's 8 channels of 4 bearings, where it would mix
// sensors). InvalidArgument for a channel "mag" while the magnitude is on;
// `source` names where the channels came from in that message.
Status SetChannels(const FeaturesArgs& a, const std::vector<std::string>& channels,
                   const std::string& source, features::FeatureOptions* o) {
  o->channels = channels;
  o->magnitude = !a.no_mag && o->channels.size() >= 2 && o->channels.size() <= 3;
  if (o->magnitude) {
    for (const std::string& c : o->channels) {
      if (c == features::kMagnitudeChannel) {
        return Status::InvalidArgument(
            source +
            ": channel 'mag' clashes with the vector magnitude channel 'mag' (add "
            "--no-mag to read a 'mag' column as a channel)");
      }
    }
  }
  return Status::OK();
}

// Builds and validates the extractor options (InvalidArgument -> exit 2).
// Without --channels, o.channels is empty: the caller picks them from the
// first file (ChooseChannels) and validates again.
Result<features::FeatureOptions> MakeOptions(const FeaturesArgs& a) {
  features::FeatureOptions o;
  if (!(a.fs > 0) || !std::isfinite(a.fs)) {
    return Status::InvalidArgument("--fs: expected a sampling rate in hz > 0");
  }
  if (a.window < 4) return Status::InvalidArgument("--window: expected an integer >= 4");
  if (static_cast<std::uint64_t>(a.window) > features::kMaxWindowSamples) {
    return Status::InvalidArgument(
        "--window: " + std::to_string(a.window) + " samples is above the maximum of " +
        std::to_string(features::kMaxWindowSamples) + " (docs/features.md)");
  }
  if (a.hop_given && a.hop < 1) return Status::InvalidArgument("--hop: expected an integer >= 1");
  o.sample_rate_hz = a.fs;
  o.window_samples = static_cast<std::size_t>(a.window);
  o.channels.clear();
  if (!a.channels.empty()) {
    std::vector<std::string> channels;
    for (const std::string& c : Split(a.channels, ',')) {
      const std::string_view name = TrimSpace(c);
      if (name.empty()) return Status::InvalidArgument("--channels: empty channel name");
      channels.emplace_back(name);
    }
    MH_RETURN_IF_ERROR(SetChannels(a, channels, "--channels", &o));
  }
  if (a.dtype != "float64" && a.dtype != "float32") {
    return Status::InvalidArgument("--dtype: expected float64 or float32, got '" + a.dtype + "'");
  }
  auto bands = ParseBands(a.bands);
  if (!bands.ok()) return bands.status();
  o.bands = *bands;
  if (a.set == "basic") {
    o.set = features::FeatureSet::kBasic;
  } else if (a.set == "full") {
    o.set = features::FeatureSet::kFull;
  } else {
    return Status::InvalidArgument("--set: expected basic or full, got '" + a.set + "'");
  }
  auto unit = features::ParseAccelUnit(a.unit);
  if (!unit.ok()) return Status::InvalidArgument("--unit: " + unit.status().message());
  o.unit = *unit;
  if (!(a.rpm >= 0) || !std::isfinite(a.rpm)) {
    return Status::InvalidArgument("--rpm: expected a shaft speed in rev/min > 0");
  }
  o.shaft_rpm = a.rpm;
  if (!a.bearing.empty()) {
    if (!(a.rpm > 0)) return Status::InvalidArgument("--bearing needs --rpm");
    auto g = ParseBearing(a.bearing);
    if (!g.ok()) return g.status();
    o.bearing = *g;
  }
  if (!a.env_band.empty()) {
    if (o.bearing == std::nullopt) return Status::InvalidArgument("--env-band needs --bearing");
    auto band = ParseBands(a.env_band);
    if (!band.ok() || band->size() != 1) {
      return Status::InvalidArgument("--env-band: '" + a.env_band + "' is not LO-HI in hz");
    }
    o.envelope_band = band->front();
  }
  if (a.iso_group != 0 && a.iso_group != 1 && a.iso_group != 2) {
    return Status::InvalidArgument("--iso-group: expected 1 or 2");
  }
  if (a.foundation != "rigid" && a.foundation != "flexible") {
    return Status::InvalidArgument("--foundation: expected rigid or flexible, got '" +
                                   a.foundation + "'");
  }
  if (a.foundation_given && a.iso_group == 0) {
    return Status::InvalidArgument("--foundation needs --iso-group");
  }
  if (a.iso_group != 0 && o.set != features::FeatureSet::kFull) {
    return Status::InvalidArgument("--iso-group needs --set full (iso_zone judges velocity_rms)");
  }
  if (a.names != "default" && a.names != "prototype") {
    return Status::InvalidArgument("--names: expected default or prototype, got '" + a.names + "'");
  }
  // Everything but the channels is checked now, in the one place the
  // extractor checks it, so that a bad band is a usage error before any
  // file is opened.
  features::FeatureOptions check = o;
  if (check.channels.empty()) check.channels = {"channel"};
  Status s = features::ValidateFeatureOptions(check);
  if (!s.ok()) return Status::InvalidArgument(OptionOfMessage(s.message()) + s.message());
  return o;
}

using replay::IsTimeOrIndexColumn;
using replay::NotNumericError;
using replay::TimeOfDayColumns;
using replay::TimeOfDayNs;
constexpr bool IsNumericKind(ValueKind k) { return replay::IsSampleKind(k); }

// The default channels of a file (replay::ChooseDefaultChannels), logged
// once.
Result<std::vector<std::string>> ChooseChannels(const std::string& file,
                                                const std::vector<TableColumnInfo>& cols,
                                                const TableBatch& first) {
  MH_ASSIGN_OR_RETURN(replay::DefaultChannels chosen,
                      replay::ChooseDefaultChannels(file, cols, first, "--channels"));
  std::string names;
  for (const std::string& c : chosen.channels) names += (names.empty() ? "" : ",") + c;
  log::Info(kCommand,
            "channels " + names + " (numeric columns of " + file + ")" +
                (chosen.skipped.empty() ? std::string() : "; not channels: " + chosen.skipped));
  return std::move(chosen.channels);
}

// One output column: a feature value, or the ISO zone letter of a
// velocity_rms feature.
struct OutColumn {
  std::string name;
  std::size_t source = 0;  // index into the values handed to FeatureWriter::Row
  bool zone = false;       // true: a text column, zones[i] (IsoZoneName, source_file)
  bool integer = false;    // true: an INT64 column, values[source] (source_offset)
};

// Hands feature rows to a tableio::TableOutput (tableio/table_output.h)
// in batches: window_start INT64 (the sample index), TIMESTAMP (from a
// timestamp column) or TIME (FEMTO's time of day), machine_id STRING, features DOUBLE, iso zones
// STRING.
class FeatureWriter {
 public:
  explicit FeatureWriter(const OutputArgs& output, std::ostream& standard_output)
      : output_(output), standard_output_(standard_output) {}
  // Opens the output; called once, before any Row.
  // `start` is window_start's kind: kInt, kTimestamp or kTime (ns).
  Status Begin(const std::vector<OutColumn>& columns, bool with_machine,
               const TableColumnInfo& start) {
    columns_ = &columns;
    machine_ = with_machine;
    std::vector<TableColumnInfo> schema;
    schema.push_back({"window_start", start.kind, start.fraction_digits});
    if (machine_) schema.push_back({"machine_id", ValueKind::kString, 9});
    for (const OutColumn& c : columns) {
      schema.push_back({c.name,
                        c.zone      ? ValueKind::kString
                        : c.integer ? ValueKind::kInt
                                    : ValueKind::kDouble,
                        9});
    }
    batch_.Reset(0, schema);
    MH_ASSIGN_OR_RETURN(out_, OpenOutput(output_, schema, standard_output_));
    return Status::OK();
  }
  // `zones[i]` is the zone letter for zone columns (else unused).
  Status Row(std::int64_t start, const std::string& machine, const std::vector<double>& values,
             const std::vector<const char*>& zones) {
    std::size_t col = 0;
    TableColumn& s = batch_.columns[col++];
    s.valid.push_back(1);
    s.ints.push_back(start);
    if (machine_) {
      TableColumn& m = batch_.columns[col++];
      m.valid.push_back(1);
      m.strings.push_back(machine);
    }
    for (std::size_t i = 0; i < columns_->size(); ++i) {
      const OutColumn& c = (*columns_)[i];
      TableColumn& t = batch_.columns[col++];
      t.valid.push_back(1);
      if (c.zone) {
        t.strings.emplace_back(zones[i]);
      } else if (c.integer) {
        t.ints.push_back(static_cast<std::int64_t>(values[c.source]));
      } else {
        t.doubles.push_back(values[c.source]);
      }
    }
    if (++batch_.rows >= kBatchRows) return Flush();
    return Status::OK();
  }
  // Writes the last rows and closes; a file is complete only after Finish
  // returns OK (a failed run leaves no file: see table_output.h).
  Status Finish() {
    MH_RETURN_IF_ERROR(Flush());
    return out_->Close();
  }

 private:
  static constexpr std::size_t kBatchRows = 4096;
  Status Flush() {
    if (batch_.rows == 0) return Status::OK();
    MH_RETURN_IF_ERROR(out_->Write(batch_));
    std::vector<TableColumnInfo> schema = out_->schema();
    batch_.Reset(batch_.first_row + static_cast<std::int64_t>(batch_.rows), schema);
    return Status::OK();
  }

  const OutputArgs& output_;
  std::ostream& standard_output_;
  const std::vector<OutColumn>* columns_ = nullptr;
  bool machine_ = false;
  TableBatch batch_;
  std::unique_ptr<tableio::TableOutput> out_;
};

// The output columns: source_file and source_offset first when the input
// is a folder or glob, then the extractor's names (renamed for --names
// prototype), with iso_zone_<ch> after each velocity_rms_<ch> of an input
// channel when --iso-group is given. source_file is written as a text
// column and source_offset (INT64) from the extra value slot after the
// extractor's values.
std::vector<OutColumn> OutputColumns(const FeaturesArgs& a,
                                     const features::WindowFeatureExtractor& ex, bool sources) {
  std::vector<OutColumn> cols;
  const std::vector<std::string>& names = ex.names();
  if (sources) {
    cols.push_back({"source_file", 0, true, false});
    cols.push_back({"source_offset", names.size(), false, true});
  }
  const std::size_t per = ex.features_per_channel();
  for (std::size_t i = 0; i < names.size(); ++i) {
    const std::string name =
        a.names == "prototype" ? features::PrototypeFeatureName(names[i]) : names[i];
    cols.push_back({name, i, false, false});
    const std::string channel = ex.output_channels()[i / per];
    // ISO 20816-3 judges a measurement direction: no zone for the magnitude.
    const bool magnitude = ex.options().magnitude && channel == features::kMagnitudeChannel;
    if (a.iso_group != 0 && !magnitude && names[i] == "velocity_rms_" + channel) {
      cols.push_back({"iso_zone_" + channel, i, true, false});
    }
  }
  return cols;
}

// Samples of one machine (in one file) not yet cut into windows.
struct MachineState {
  std::vector<std::vector<double>> samples;  // per channel
  std::vector<std::int64_t> starts;          // per sample: its time (ns), if any
  std::vector<std::uint64_t> rows;           // per sample: 0-based row in the file
  std::uint64_t first_index = 0;             // index (in this machine) of samples[c][0]
  std::uint64_t skip = 0;                    // samples still to drop (hop > window)
  std::uint64_t windows = 0;                 // windows computed
};

// A computed row held back until its file is read whole (--keep-going: a
// file that fails contributes no rows).
struct PendingRow {
  std::int64_t start = 0;
  std::string machine;
  std::vector<double> values;
  std::vector<const char*> zones;
};

// Cuts the samples of each machine into windows, computes their features
// and hands the rows to a FeatureWriter. Windows never cross a file
// boundary: BeginFile starts every machine afresh. Errors name the file and
// the 1-based row.
class Windower {
 public:
  Windower(const FeaturesArgs& a, features::WindowFeatureExtractor& ex, FeatureWriter& writer,
           bool sources, bool hold_rows)
      : a_(a),
        ex_(ex),
        writer_(writer),
        window_(ex.options().window_samples),
        hop_(a.hop_given ? static_cast<std::size_t>(a.hop) : window_),
        float32_(a.dtype == "float32"),
        sources_(sources),
        hold_rows_(hold_rows),
        columns_(OutputColumns(a, ex, sources)),
        zones_(columns_.size(), ""),
        spans_(ex.options().channels.size()),
        rounded_(ex.options().channels.size()),
        values_(ex.names().size() + 1) {}

  // Once, before the first file: the key columns every file must have.
  // `start`: window_start's kind (kInt: the sample index; kTimestamp or
  // kTime: the time of the window's first sample, given to Add).
  Status Begin(bool with_machine, const TableColumnInfo& start) {
    machine_ = with_machine;
    start_ = start;
    text_start_ = start.kind != ValueKind::kInt;
    return writer_.Begin(columns_, with_machine, start);
  }
  bool with_machine() const { return machine_; }
  ValueKind start_kind() const { return start_.kind; }

  void BeginFile(const std::string& file) {
    file_ = file;
    machines_.clear();
    pending_.clear();
    if (sources_) zones_[0] = file_.c_str();
  }

  // One sample row (`row_in_file` 0-based): `row[c]` is channel c (finite,
  // checked by the caller). With --dtype float32 each value is first rounded
  // to the nearest float32; one outside the float32 range is an error.
  Status Add(const std::string& machine, std::int64_t start, std::uint64_t row_in_file,
             std::span<const double> row) {
    if (float32_) {
      for (std::size_t c = 0; c < row.size(); ++c) {
        const auto f = static_cast<float>(row[c]);
        if (!std::isfinite(f)) {
          return Status::Corruption(Where(row_in_file) + ": column '" + ex_.options().channels[c] +
                                    "': '" + FormatDouble(row[c]) +
                                    "' is outside the float32 range (--dtype float32)");
        }
        rounded_[c] = static_cast<double>(f);
      }
      row = rounded_;
    }
    MachineState& m = machines_[machine];
    if (m.samples.empty()) m.samples.resize(row.size());
    if (m.skip > 0) {
      --m.skip;
      ++m.first_index;
      return Status::OK();
    }
    for (std::size_t c = 0; c < row.size(); ++c) m.samples[c].push_back(row[c]);
    if (text_start_) m.starts.push_back(start);
    m.rows.push_back(row_in_file);
    if (m.samples[0].size() < window_) return Status::OK();

    for (std::size_t c = 0; c < spans_.size(); ++c) spans_[c] = m.samples[c];
    const std::span<double> features = std::span<double>(values_).first(ex_.names().size());
    Status s = ex_.Compute(spans_, features);
    if (!s.ok()) return Status::Corruption(Where(row_in_file) + ": " + s.message());
    values_.back() = static_cast<double>(m.rows.front());
    const auto group = static_cast<features::IsoGroup>(a_.iso_group);
    const features::Foundation foundation = a_.foundation == "flexible"
                                                ? features::Foundation::kFlexible
                                                : features::Foundation::kRigid;
    for (std::size_t i = 0; i < columns_.size(); ++i) {
      if (!columns_[i].zone || (sources_ && i == 0)) continue;
      auto zone = features::Iso20816Zone(values_[columns_[i].source], group, foundation);
      if (!zone.ok())
        return Status::Corruption(Where(row_in_file) + ": " + zone.status().message());
      zones_[i] = features::IsoZoneName(*zone);
    }
    ++m.windows;
    const std::int64_t window_start =
        text_start_ ? m.starts.front() : static_cast<std::int64_t>(m.first_index);
    if (hold_rows_) {
      pending_.push_back({window_start, machine, values_, zones_});
    } else {
      MH_RETURN_IF_ERROR(writer_.Row(window_start, machine, values_, zones_));
    }
    const std::size_t drop = std::min(hop_, window_);
    const auto d = static_cast<std::ptrdiff_t>(drop);
    for (auto& ch : m.samples) ch.erase(ch.begin(), ch.begin() + d);
    if (text_start_) m.starts.erase(m.starts.begin(), m.starts.begin() + d);
    m.rows.erase(m.rows.begin(), m.rows.begin() + d);
    m.first_index += drop;
    m.skip = hop_ - drop;
    return Status::OK();
  }

  // Corruption when the file had no sample, or a machine had fewer samples
  // than one window; else writes the rows held back.
  Status EndFile(const std::string& shown) {
    if (machines_.empty()) return Status::Corruption(shown + ": no samples after the header");
    for (const auto& [machine, m] : machines_) {
      if (m.windows > 0) continue;
      return Status::Corruption(shown + ": " +
                                (machine_ ? "machine '" + machine + "': " : std::string()) +
                                "only " + std::to_string(m.first_index + m.samples[0].size()) +
                                " samples, fewer than one window of " + std::to_string(window_));
    }
    for (const PendingRow& r : pending_) {
      MH_RETURN_IF_ERROR(writer_.Row(r.start, r.machine, r.values, r.zones));
    }
    pending_.clear();
    return Status::OK();
  }

  Status Finish() { return writer_.Finish(); }

 private:
  // "<file>: row <n>" (1-based) for messages; built only on errors.
  std::string Where(std::uint64_t row_in_file) const {
    return file_ + ": row " + std::to_string(row_in_file + 1);
  }

  const FeaturesArgs& a_;
  features::WindowFeatureExtractor& ex_;
  FeatureWriter& writer_;
  const std::size_t window_;
  const std::size_t hop_;
  const bool float32_;
  const bool sources_;
  const bool hold_rows_;
  const std::vector<OutColumn> columns_;
  std::vector<const char*> zones_;
  std::vector<std::span<const double>> spans_;
  std::vector<double> rounded_;  // --dtype float32: the row rounded
  std::vector<double> values_;   // the extractor's values, then source_offset
  bool machine_ = false;
  TableColumnInfo start_;
  bool text_start_ = false;  // start_ is a time, not the sample index
  std::string file_;
  std::map<std::string, MachineState> machines_;
  std::vector<PendingRow> pending_;
};

// The text of a machine_id cell (any kind).
std::string CellText(const TableColumn& col, std::size_t r) {
  switch (col.info.kind) {
    case ValueKind::kString:
    case ValueKind::kDecimal:
    case ValueKind::kBinary:
      return col.strings[r];
    case ValueKind::kTimestamp:
      return FormatRfc3339(col.ints[r], col.info.fraction_digits);
    case ValueKind::kDouble:
      return FormatDouble(col.doubles[r]);
    default:
      return std::to_string(col.ints[r]);
  }
}

// Fraction digits (3, 6 or 9) that print every instant of `ns` (where
// valid) exactly: window_start keeps the precision of the first rows.
int FractionDigits(const std::vector<std::int64_t>& ns, const std::vector<std::uint8_t>& valid) {
  int digits = 3;
  for (std::size_t i = 0; i < ns.size(); ++i) {
    if (!valid[i]) continue;
    if (ns[i] % 1000 != 0) return 9;
    if (ns[i] % 1'000'000 != 0) digits = 6;
  }
  return digits;
}

// A reader's error as a data error: the CSV reader reports a bad cell as
// InvalidArgument, which the command's exit codes keep for usage errors.
Status AsDataError(const Status& s) {
  return s.IsInvalidArgument() ? Status::Corruption(s.message()) : s;
}

// For a local CSV file: the most sample rows it can hold. Every row has one
// byte per column separator or line end and at least one byte per channel
// cell. 0 when unknown (URLs, Parquet: rows are not bounded by bytes).
std::uint64_t MaxRowsBySize(const std::string& file, std::size_t columns, std::size_t channels) {
  if (replay::IsHttpUrl(file) || replay::IsParquetFile(file)) return 0;
  std::error_code ec;
  const std::uintmax_t bytes = std::filesystem::file_size(file, ec);
  if (ec) return 0;
  const std::uint64_t per_row = columns + channels;
  return per_row == 0 ? 0 : (bytes + 1) / per_row;
}

// True when a text cell is a number (decimal point or comma).

// Counts the non-empty text cells of column `c` in `batch` that are numbers
// and that are not; *bad_row is the first that is not (or -1).

// Windows above this many samples are checked against the file size first.
constexpr std::size_t kSizeCheckedWindow = 65536;

// Corruption when the local CSV `file` is too small to hold one window
// (checked before the extractor or any window buffer is allocated).
Status CheckFitsWindow(const std::string& file, const std::string& shown, std::size_t columns,
                       std::size_t channels, std::size_t window) {
  // Small windows cost little: the file is read and the exact count reported.
  if (window <= kSizeCheckedWindow) return Status::OK();
  const std::uint64_t max_rows = MaxRowsBySize(file, columns, channels);
  if (max_rows != 0 && max_rows < window) {
    return Status::Corruption(shown + ": at most " + std::to_string(max_rows) +
                              " samples fit in its size, fewer than one window of " +
                              std::to_string(window));
  }
  return Status::OK();
}

// Reads one opened file and adds its rows to `windower`. Errors name the
// file, the 1-based data row and the column (the CSV reader names the line).
Status ReadFile(const std::string& shown, TableReader& reader, const features::FeatureOptions& o,
                TableBatch& batch, bool log_timestamps, Windower& windower) {
  const std::vector<TableColumnInfo>& cols = reader.columns();
  if (batch.rows == 0) return Status::Corruption(shown + ": no samples after the header");
  std::vector<std::size_t> channel_col;
  for (const std::string& c : o.channels) {
    const std::ptrdiff_t i = FindColumn(cols, c);
    if (i < 0) {
      std::string names;
      for (const TableColumnInfo& info : cols) names += (names.empty() ? "" : ", ") + info.name;
      if (names.size() > 400) names = names.substr(0, 400) + "...";
      return Status::Corruption(shown + ": no column '" + c + "' (columns: " + names + ")");
    }
    const ValueKind k = cols[static_cast<std::size_t>(i)].kind;
    if (!IsNumericKind(k)) return NotNumericError(shown, batch, static_cast<std::size_t>(i));
    channel_col.push_back(static_cast<std::size_t>(i));
  }
  const std::ptrdiff_t ts_col = FindColumn(cols, "timestamp");
  const std::ptrdiff_t machine_col = FindColumn(cols, "machine_id");
  const std::vector<std::size_t> tod_cols =
      ts_col < 0 ? TimeOfDayColumns(cols) : std::vector<std::size_t>{};
  if ((machine_col >= 0) != windower.with_machine()) {
    return Status::Corruption(shown + ": " +
                              (machine_col >= 0 ? "has a machine_id column, the first file not"
                                                : "has no machine_id column, the first file has"));
  }
  const ValueKind start_kind = ts_col >= 0         ? ValueKind::kTimestamp
                               : !tod_cols.empty() ? ValueKind::kTime
                                                   : ValueKind::kInt;
  if (start_kind != windower.start_kind()) {
    auto what = [](ValueKind k) {
      return std::string(k == ValueKind::kTimestamp ? "a timestamp column"
                         : k == ValueKind::kTime    ? "hour/minute/second/microsecond columns"
                                                    : "no time columns");
    };
    return Status::Corruption(shown + ": has " + what(start_kind) + ", the first file " +
                              what(windower.start_kind()));
  }
  // The one timestamp rule (csv/timestamp_column.h): typed, ISO 8601 text or
  // epoch numbers with the unit chosen per file.
  std::optional<csv::TimestampColumnReader> timestamps;
  if (ts_col >= 0) {
    csv::TimestampColumnOptions to;
    to.source = shown;
    auto made = csv::TimestampColumnReader::Make(to);
    if (!made.ok()) return made.status();
    timestamps.emplace(std::move(*made));
  }
  std::vector<std::int64_t> ts_ns;
  std::vector<std::uint8_t> ts_valid;
  std::vector<double> row_values(o.channels.size());
  std::string machine;
  std::int64_t start = 0;
  // `batch` holds the first rows already (ReadFirstBatch).
  for (bool first = true;; first = false) {
    if (!first) {
      auto more = reader.Next(&batch);
      if (!more.ok()) return AsDataError(more.status());
    }
    if (batch.rows == 0) break;
    if (timestamps.has_value()) {
      Status st = timestamps->Convert(batch.columns[static_cast<std::size_t>(ts_col)],
                                      batch.first_row, &ts_ns, &ts_valid);
      if (!st.ok()) return AsDataError(st);
      if (first && log_timestamps) log::Info(kCommand, shown + ": " + timestamps->Describe());
    }
    for (std::size_t r = 0; r < batch.rows; ++r) {
      const auto row_in_file = static_cast<std::uint64_t>(batch.first_row) + r;
      // "<file>: row <n>" for messages; built only on errors (hot loop).
      auto where = [&] { return shown + ": row " + std::to_string(row_in_file + 1); };
      for (std::size_t c = 0; c < channel_col.size(); ++c) {
        const TableColumn& col = batch.columns[channel_col[c]];
        if (!col.valid[r]) {
          return Status::Corruption(where() + ": column '" + o.channels[c] + "' is null");
        }
        const double v =
            col.info.kind == ValueKind::kDouble ? col.doubles[r] : static_cast<double>(col.ints[r]);
        if (!std::isfinite(v)) {
          return Status::Corruption(where() + ": column '" + o.channels[c] + "': '" +
                                    FormatDouble(v) + "' is not a finite number");
        }
        row_values[c] = v;
      }
      // machine_id as text; a null cell is an error.
      auto text = [&](std::ptrdiff_t index, std::string* out) -> Status {
        if (index < 0) return Status::OK();
        const TableColumn& col = batch.columns[static_cast<std::size_t>(index)];
        if (!col.valid[r]) {
          return Status::Corruption(where() + ": column '" + col.info.name + "' is null");
        }
        *out = CellText(col, r);
        return Status::OK();
      };
      MH_RETURN_IF_ERROR(text(machine_col, &machine));
      if (timestamps.has_value()) {
        if (!ts_valid[r]) {
          return Status::Corruption(where() + ": column '" +
                                    cols[static_cast<std::size_t>(ts_col)].name + "' is null");
        }
        start = ts_ns[r];
      } else if (!tod_cols.empty()) {
        MH_ASSIGN_OR_RETURN(start, TimeOfDayNs(batch, tod_cols, r, shown));
      }
      MH_RETURN_IF_ERROR(windower.Add(machine, start, row_in_file, row_values));
    }
  }
  return Status::OK();
}

// window_start's column for a file with columns `cols` and first rows
// `first`: the sample index (INT64), the instant of the `timestamp` column
// (TIMESTAMP, with the fraction digits its first rows need) or FEMTO's time
// of day (TIME, microseconds).
Result<TableColumnInfo> StartColumn(const std::string& shown,
                                    const std::vector<TableColumnInfo>& cols,
                                    const TableBatch& first) {
  const std::ptrdiff_t ts_col = FindColumn(cols, "timestamp");
  if (ts_col >= 0) {
    const TableColumnInfo& info = cols[static_cast<std::size_t>(ts_col)];
    if (info.kind == ValueKind::kTimestamp)
      return TableColumnInfo{"window_start", info.kind, info.fraction_digits};
    csv::TimestampColumnOptions to;
    to.source = shown;
    MH_ASSIGN_OR_RETURN(csv::TimestampColumnReader reader, csv::TimestampColumnReader::Make(to));
    std::vector<std::int64_t> ns;
    std::vector<std::uint8_t> valid;
    if (first.rows > 0) {
      Status st = reader.Convert(first.columns[static_cast<std::size_t>(ts_col)], first.first_row,
                                 &ns, &valid);
      if (!st.ok()) return AsDataError(st);
    }
    return TableColumnInfo{"window_start", ValueKind::kTimestamp, FractionDigits(ns, valid)};
  }
  if (!TimeOfDayColumns(cols).empty()) {
    return TableColumnInfo{"window_start", ValueKind::kTime, 6};
  }
  return TableColumnInfo{"window_start", ValueKind::kInt, 9};
}

// Reads every input file and writes one row per full window to `writer`.
// Without --channels the channels are chosen from the first file. A file
// that fails stops the run, or with --keep-going is reported to io.err and
// skipped (its rows are not written); *failed counts those files.
Status ComputeFeatures(const FeaturesArgs& a, const features::FeatureOptions& given,
                       FeatureWriter& writer, CommandIo& io, int* failed) {
  *failed = 0;
  MH_ASSIGN_OR_RETURN(const replay::InputFiles inputs, replay::ExpandInputs(a.input));
  std::unique_ptr<features::WindowFeatureExtractor> ex;
  std::unique_ptr<Windower> windower;
  features::FeatureOptions o = given;
  for (std::size_t f = 0; f < inputs.files.size(); ++f) {
    const std::string& file = inputs.files[f];
    const std::string shown = replay::RedactUrl(file);
    Status s = [&]() -> Status {
      auto opened = replay::OpenTableFile(file, replay::TableFileOptions{});
      if (!opened.ok()) return AsDataError(opened.status());
      TableReader& reader = **opened;
      TableBatch batch;
      auto read = reader.Next(&batch);
      if (!read.ok()) return AsDataError(read.status());
      if (ex == nullptr) {
        // The first file fixes the channels and the key columns.
        if (o.channels.empty()) {
          MH_ASSIGN_OR_RETURN(const std::vector<std::string> channels,
                              ChooseChannels(shown, reader.columns(), batch));
          Status set = SetChannels(a, channels, shown, &o);
          if (!set.ok()) return Status::Corruption(set.message());
        }
      }
      MH_RETURN_IF_ERROR(CheckFitsWindow(file, shown, reader.columns().size(), o.channels.size(),
                                         o.window_samples));
      if (ex == nullptr) {
        auto created = features::WindowFeatureExtractor::Create(o);
        if (!created.ok()) return created.status();
        ex = std::move(*created);
        windower = std::make_unique<Windower>(a, *ex, writer, inputs.multiple,
                                              a.keep_going && inputs.files.size() > 1);
        const std::vector<TableColumnInfo>& cols = reader.columns();
        MH_ASSIGN_OR_RETURN(const TableColumnInfo start, StartColumn(shown, cols, batch));
        MH_RETURN_IF_ERROR(windower->Begin(FindColumn(cols, "machine_id") >= 0, start));
      }
      windower->BeginFile(shown);
      MH_RETURN_IF_ERROR(ReadFile(shown, reader, o, batch, f == 0, *windower));
      return windower->EndFile(shown);
    }();
    if (s.ok()) continue;
    if (!a.keep_going) {
      if (inputs.multiple && inputs.files.size() > 1) {
        const std::string m = s.message() + " (--keep-going skips a failing file)";
        if (s.IsInvalidArgument()) return Status::InvalidArgument(m);
        if (s.IsIOError()) return Status::IOError(m);
        if (s.IsNotFound()) return Status::NotFound(m);
        return Status::Corruption(m);
      }
      return s;
    }
    ++*failed;
    ReportError(io, kCommand, s);
  }
  if (windower == nullptr) {
    return Status::Corruption("all " + std::to_string(inputs.files.size()) + " files failed");
  }
  if (*failed > 0) {
    ReportError(
        io, kCommand,
        Status::Corruption(std::to_string(*failed) + " of " + std::to_string(inputs.files.size()) +
                           " files failed (--keep-going: the others were written)"));
  }
  return windower->Finish();
}

// Exit codes: 2 for a usage error, 1 when the run or (--keep-going) any file
// failed; with --keep-going the rows of the other files are still written.
int RunFeatures(const FeaturesArgs& a, CommandIo& io) {
  auto options = MakeOptions(a);
  if (!options.ok()) return UsageError(io, kCommand, options.status().message());
  auto format = ResolveOutputFormat(a.output);
  if (!format.ok()) return UsageError(io, kCommand, format.status().message());

  int failed = 0;
  FeatureWriter writer(a.output, io.out);
  Status s = ComputeFeatures(a, *options, writer, io, &failed);
  if (!s.ok()) return ReportError(io, kCommand, s);
  return failed > 0 ? kExitFailure : kExitOk;
}

}  // namespace

void AddFeaturesCommand(CLI::App& root, CommandIo& io, Action& action) {
  auto args = std::make_shared<FeaturesArgs>();
  CLI::App* sub = root.add_subcommand(
      "features",
      "Compute window features (RMS, kurtosis, spectral peak, band energy...) from a "
      "CSV or Parquet file of vibration samples");
  sub->add_option("--input", args->input,
                  "CSV with a header, Parquet file, http(s) URL, or a folder or glob of them "
                  "(read in natural order; each row then names its source_file)")
      ->required();
  sub->add_option("--fs", args->fs, "Sampling rate in Hz")->required();
  sub->add_option("--channels", args->channels,
                  "Comma-separated channel columns (default: every numeric column that is not a "
                  "time, index or id column; see docs/features.md)");
  sub->add_flag("--keep-going", args->keep_going,
                "With several files: report a file that fails and go on with the others "
                "(exit 1 if any failed)");
  sub->add_flag("--no-mag", args->no_mag,
                "Do not add the vector magnitude channel 'mag' (sqrt(ax^2+ay^2+az^2) per "
                "sample: rms_mag, kurtosis_mag, ...), which is on by default with 2+ channels");
  sub->add_option("--dtype", args->dtype,
                  "Sample precision: float64, or float32 to round every sample to float32 "
                  "first, as a float32 logger stores it (Parquet FLOAT columns are float32 "
                  "already)")
      ->capture_default_str();
  sub->add_option("--window", args->window, "Samples per window")->capture_default_str();
  CLI::Option* hop =
      sub->add_option("--hop", args->hop, "Samples between window starts (default: the window)");
  sub->add_option("--bands", args->bands, "Comma-separated LO-HI bands in Hz, e.g. 0-200,200-1000")
      ->capture_default_str();
  sub->add_option("--set", args->set, "Feature set: basic or full")->capture_default_str();
  sub->add_option("--unit", args->unit, "Unit of the samples for velocity_rms: g or m/s2")
      ->capture_default_str();
  sub->add_option("--rpm", args->rpm,
                  "Shaft speed in rev/min: adds order1x..order3x (and, with --bearing, env_*)");
  sub->add_option("--bearing", args->bearing,
                  "Bearing for envelope features: 6205, za2115, femto, or Z,d,D,ANGLE");
  sub->add_option("--env-band", args->env_band,
                  "Envelope band-pass LO-HI in Hz (default fs/16-fs/4)");
  sub->add_option("--iso-group", args->iso_group,
                  "ISO 20816-3 machine group 1 or 2: adds iso_zone_<ch> (needs --set full)");
  CLI::Option* foundation =
      sub->add_option("--foundation", args->foundation, "ISO 20816-3 foundation: rigid or flexible")
          ->capture_default_str();
  sub->add_option("--names", args->names,
                  "Column names: default, or prototype (band_energy_0_200_ax -> bandE0_200_ax)")
      ->capture_default_str();
  AddOutputOptions(*sub, args->output, "feature rows", /*required=*/true);
  sub->callback([args, hop, foundation, &io, &action] {
    args->hop_given = hop->count() > 0;
    args->foundation_given = foundation->count() > 0;
    action = [args, &io] { return RunFeatures(*args, io); };
  });
}

}  // namespace mh::app
