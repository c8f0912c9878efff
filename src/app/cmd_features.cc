// machine-health features: computes window features from CSV or Parquet
// files of samples.
//
//   machine-health features --input FILE|FOLDER|GLOB|URL --fs HZ [--channels a,b,...]
//       [--no-mag] [--dtype float64|float32] [--keep-going]
//       [--window 2560] [--hop N] [--bands 0-200,200-1000] [--set basic|full]
//       [--unit g|m/s2] [--rpm R] [--bearing NAME|Z,d,D,ANGLE]
//       [--env-band LO-HI] [--iso-group 1|2 [--foundation rigid|flexible]]
//       [--names default|prototype] --out FILE.csv|FILE.jsonl|FILE.parquet|-
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
// channels the vector magnitude is added as channel "mag" unless --no-mag.
// --dtype float32 rounds every sample to float32 first (as a float32 logger
// would have stored it). Output format by --out extension (docs/features.md).
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "app/command.h"
#include "core/strings.h"
#include "core/table.h"
#include "core/time_util.h"
#include "features/bearing.h"
#include "features/window_features.h"
#include "log/log.h"
#include "parquet/parquet_writer.h"
#include "replay/input_files.h"
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
  std::string out;
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

// Output file formats, chosen by the --out extension.
enum class OutFormat : std::uint8_t { kCsv = 0, kJsonLines = 1, kParquet = 2 };

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// "-" and .csv: CSV; .jsonl/.ndjson: JSON lines; .parquet: Parquet.
// InvalidArgument for anything else.
Result<OutFormat> FormatForPath(const std::string& path) {
  std::string lower = path;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (path == "-" || EndsWith(lower, ".csv")) return OutFormat::kCsv;
  if (EndsWith(lower, ".jsonl") || EndsWith(lower, ".ndjson")) return OutFormat::kJsonLines;
  if (EndsWith(lower, ".parquet")) return OutFormat::kParquet;
  return Status::InvalidArgument("--out: cannot tell the format of '" + path +
                                 "' (expected .csv, .jsonl, .ndjson, .parquet or - for csv on "
                                 "standard output)");
}

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

// Sets o->channels (and the magnitude) from `channels`. InvalidArgument for a
// channel "mag" while the magnitude is on; `source` names where the channels
// came from in that message.
Status SetChannels(const FeaturesArgs& a, const std::vector<std::string>& channels,
                   const std::string& source, features::FeatureOptions* o) {
  o->channels = channels;
  o->magnitude = !a.no_mag && o->channels.size() >= 2;
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

// Column names (lowercase) that are never channels by default: time, date,
// index and id columns. See IsTimeOrIndexColumn.
constexpr std::string_view kTimeOrIndexNames[] = {
    "index",       "idx",         "id",         "i",        "n",          "t",      "time",
    "times",       "timestamp",   "ts",         "datetime", "date",       "epoch",  "unix",
    "unix_time",   "elapsed",     "sample",     "samples",  "sample_no",  "row",    "row_id",
    "record",      "year",        "month",      "day",      "hour",       "minute", "second",
    "millisecond", "microsecond", "nanosecond", "machine",  "machine_id", "sensor", "sensor_id",
    "device",      "device_id",   "asset",      "asset_id", "channel_id", "label",  "class"};

// True when a column named `name` is a time, index or id column, never a
// channel by default: one of kTimeOrIndexNames (any case, blanks trimmed),
// or a name ending in _id, _index, _idx, _time, _ts or _timestamp, or
// starting with time_, timestamp_ or "unnamed:" (pandas' index column).
bool IsTimeOrIndexColumn(std::string_view name) {
  std::string lower(TrimSpace(name));
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const std::string_view n : kTimeOrIndexNames) {
    if (lower == n) return true;
  }
  auto ends = [&](std::string_view suffix) { return EndsWith(lower, suffix); };
  auto starts = [&](std::string_view prefix) { return lower.rfind(prefix, 0) == 0; };
  return ends("_id") || ends("_index") || ends("_idx") || ends("_time") || ends("_ts") ||
         ends("_timestamp") || starts("time_") || starts("timestamp_") || starts("unnamed:");
}

bool IsNumericKind(ValueKind k) { return k == ValueKind::kDouble || k == ValueKind::kInt; }

void CountNumberCells(const TableBatch& batch, std::size_t c, std::size_t* numbers,
                      std::size_t* others, std::ptrdiff_t* bad_row);
Status NotNumericError(const std::string& shown, const TableBatch& batch, std::size_t c);

// The default channels of a file: its numeric columns that are not time or
// index columns, in file order. Corruption listing the columns when there
// is none. Logs the choice once.
Result<std::vector<std::string>> ChooseChannels(const std::string& file,
                                                const std::vector<TableColumnInfo>& cols,
                                                const TableBatch& first) {
  // A text column whose cells are mostly numbers has a bad cell: an error
  // naming it, not a channel silently left out.
  for (std::size_t c = 0; c < cols.size() && c < first.columns.size(); ++c) {
    std::size_t numbers = 0;
    std::size_t others = 0;
    std::ptrdiff_t bad = -1;
    CountNumberCells(first, c, &numbers, &others, &bad);
    if (numbers > others && !IsTimeOrIndexColumn(cols[c].name)) {
      return Status::Corruption(NotNumericError(file, first, c).message() +
                                " (the column's other cells are numbers; fix the cell or name "
                                "the channels with --channels)");
    }
  }
  std::vector<std::string> channels;
  std::string skipped;
  std::string listing;
  for (const TableColumnInfo& c : cols) {
    listing += (listing.empty() ? "" : ", ") + c.name + " (" + ValueKindName(c.kind) + ")";
    if (IsNumericKind(c.kind) && !IsTimeOrIndexColumn(c.name)) {
      channels.push_back(c.name);
    } else {
      skipped += (skipped.empty() ? "" : ", ") + c.name +
                 (IsNumericKind(c.kind) ? " (time/index)"
                                        : std::string(" (") + ValueKindName(c.kind) + ")");
    }
  }
  if (channels.empty()) {
    if (listing.size() > 400) listing = listing.substr(0, 400) + "...";
    return Status::Corruption(file +
                              ": no channel column (numeric and not a time or index column) "
                              "among its columns: " +
                              listing + "; name the channels with --channels");
  }
  std::string chosen;
  for (const std::string& c : channels) chosen += (chosen.empty() ? "" : ",") + c;
  if (skipped.size() > 400) skipped = skipped.substr(0, 400) + "...";
  log::Info(kCommand, "channels " + chosen + " (numeric columns of " + file + ")" +
                          (skipped.empty() ? std::string() : "; not channels: " + skipped));
  return channels;
}

// One output column: a feature value, or the ISO zone letter of a
// velocity_rms feature.
struct OutColumn {
  std::string name;
  std::size_t source = 0;  // index into the extractor's values
  bool zone = false;       // true: IsoZoneName(zone of values[source])
};

// Writes feature rows in one format. Window starts are sample indices
// (numbers) or, with a timestamp column, text.
class FeatureWriter {
 public:
  virtual ~FeatureWriter() = default;
  // Called once, before any Row.
  virtual Status Begin(const std::vector<OutColumn>& columns, bool with_machine,
                       bool text_start) = 0;
  // `zones[i]` is the zone letter for zone columns (else unused).
  virtual Status Row(const std::string& start, const std::string& machine,
                     const std::vector<double>& values, const std::vector<const char*>& zones) = 0;
  // Flushes; a file is complete only after Finish returns OK.
  virtual Status Finish() = 0;
};

// A writer of text to a stream: what the CSV and JSON lines writers share.
class StreamFeatureWriter : public FeatureWriter {
 public:
  Status Finish() override {
    out_.flush();
    return out_ ? Status::OK() : Status::IOError("write failed");
  }

 protected:
  explicit StreamFeatureWriter(std::ostream& out) : out_(out) {}

  std::ostream& out_;
  const std::vector<OutColumn>* columns_ = nullptr;
  bool machine_ = false;
};

class CsvFeatureWriter : public StreamFeatureWriter {
 public:
  explicit CsvFeatureWriter(std::ostream& out) : StreamFeatureWriter(out) {}
  Status Begin(const std::vector<OutColumn>& columns, bool with_machine, bool) override {
    columns_ = &columns;
    machine_ = with_machine;
    out_ << "window_start";
    if (machine_) out_ << ",machine_id";
    for (const OutColumn& c : columns) out_ << "," << c.name;
    out_ << "\n";
    return Status::OK();
  }
  Status Row(const std::string& start, const std::string& machine,
             const std::vector<double>& values, const std::vector<const char*>& zones) override {
    out_ << start;
    if (machine_) out_ << "," << machine;
    for (std::size_t i = 0; i < columns_->size(); ++i) {
      const OutColumn& c = (*columns_)[i];
      out_ << "," << (c.zone ? std::string(zones[i]) : FormatDouble(values[c.source]));
    }
    out_ << "\n";
    return Status::OK();
  }
};

// A JSON string literal (the one escaper, core/strings.h).
std::string JsonString(std::string_view s) {
  std::string out;
  AppendJsonString(s, &out);
  return out;
}

// One JSON object per line; doubles in shortest round-trip form, NaN and
// infinities as the strings "NaN", "Infinity", "-Infinity".
class JsonLinesFeatureWriter : public StreamFeatureWriter {
 public:
  explicit JsonLinesFeatureWriter(std::ostream& out) : StreamFeatureWriter(out) {}
  Status Begin(const std::vector<OutColumn>& columns, bool with_machine, bool text_start) override {
    columns_ = &columns;
    machine_ = with_machine;
    text_start_ = text_start;
    for (const OutColumn& c : columns) keys_.push_back("," + JsonString(c.name) + ":");
    return Status::OK();
  }
  Status Row(const std::string& start, const std::string& machine,
             const std::vector<double>& values, const std::vector<const char*>& zones) override {
    out_ << "{\"window_start\":" << (text_start_ ? JsonString(start) : start);
    if (machine_) out_ << ",\"machine_id\":" << JsonString(machine);
    for (std::size_t i = 0; i < columns_->size(); ++i) {
      const OutColumn& c = (*columns_)[i];
      out_ << keys_[i];
      if (c.zone) {
        out_ << JsonString(zones[i]);
      } else {
        const double v = values[c.source];
        out_ << (std::isfinite(v) ? FormatDouble(v) : JsonString(FormatDouble(v)));
      }
    }
    out_ << "}\n";
    return Status::OK();
  }

 private:
  std::vector<std::string> keys_;
  bool text_start_ = false;
};

// Parquet via parquet::ParquetWriter: window_start INT64 (sample index) or
// STRING (timestamp text), machine_id STRING, features DOUBLE, iso zones
// STRING. Rows are buffered and written in batches.
class ParquetFeatureWriter : public FeatureWriter {
 public:
  explicit ParquetFeatureWriter(std::string path) : path_(std::move(path)) {}
  Status Begin(const std::vector<OutColumn>& columns, bool with_machine, bool text_start) override {
    columns_ = &columns;
    machine_ = with_machine;
    text_start_ = text_start;
    std::vector<TableColumnInfo> schema;
    schema.push_back({"window_start", text_start ? ValueKind::kString : ValueKind::kInt, 9});
    if (machine_) schema.push_back({"machine_id", ValueKind::kString, 9});
    for (const OutColumn& c : columns) {
      schema.push_back({c.name, c.zone ? ValueKind::kString : ValueKind::kDouble, 9});
    }
    batch_.columns.clear();
    for (const TableColumnInfo& info : schema)
      batch_.columns.push_back(TableColumn{info, {}, {}, {}, {}});
    auto w = parquet::ParquetWriter::Create(path_, schema, parquet::ParquetWriteOptions{});
    if (!w.ok()) return w.status();
    writer_ = std::move(*w);
    return Status::OK();
  }
  Status Row(const std::string& start, const std::string& machine,
             const std::vector<double>& values, const std::vector<const char*>& zones) override {
    std::size_t col = 0;
    TableColumn& s = batch_.columns[col++];
    s.valid.push_back(1);
    if (text_start_) {
      s.strings.push_back(start);
    } else {
      auto v = ParseInt(start);
      if (!v.ok()) return Status::Internal("bad window start " + start);
      s.ints.push_back(*v);
    }
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
      } else {
        t.doubles.push_back(values[c.source]);
      }
    }
    if (++batch_.rows >= kBatchRows) return Flush();
    return Status::OK();
  }
  Status Finish() override {
    MH_RETURN_IF_ERROR(Flush());
    return writer_->Close();
  }

 private:
  static constexpr std::size_t kBatchRows = 4096;
  Status Flush() {
    if (batch_.rows == 0) return Status::OK();
    MH_RETURN_IF_ERROR(writer_->Write(batch_));
    batch_.first_row += static_cast<std::int64_t>(batch_.rows);
    batch_.rows = 0;
    for (TableColumn& c : batch_.columns) {
      c.valid.clear();
      c.ints.clear();
      c.doubles.clear();
      c.strings.clear();
    }
    return Status::OK();
  }

  std::string path_;
  const std::vector<OutColumn>* columns_ = nullptr;
  bool machine_ = false;
  bool text_start_ = false;
  TableBatch batch_;
  std::unique_ptr<parquet::ParquetWriter> writer_;
};

// The output columns: source_file and source_offset first when the input
// is a folder or glob, then the extractor's names (renamed for --names
// prototype), with iso_zone_<ch> after each velocity_rms_<ch> of an input
// channel when --iso-group is given. source_file is written as a text
// column (the writers' zone kind) and source_offset from the extra value
// slot after the extractor's values.
std::vector<OutColumn> OutputColumns(const FeaturesArgs& a,
                                     const features::WindowFeatureExtractor& ex, bool sources) {
  std::vector<OutColumn> cols;
  const std::vector<std::string>& names = ex.names();
  if (sources) {
    cols.push_back({"source_file", 0, true});
    cols.push_back({"source_offset", names.size(), false});
  }
  const std::size_t per = ex.features_per_channel();
  for (std::size_t i = 0; i < names.size(); ++i) {
    const std::string name =
        a.names == "prototype" ? features::PrototypeFeatureName(names[i]) : names[i];
    cols.push_back({name, i, false});
    const std::string channel = ex.output_channels()[i / per];
    // ISO 20816-3 judges a measurement direction: no zone for the magnitude.
    const bool magnitude = ex.options().magnitude && channel == features::kMagnitudeChannel;
    if (a.iso_group != 0 && !magnitude && names[i] == "velocity_rms_" + channel) {
      cols.push_back({"iso_zone_" + channel, i, true});
    }
  }
  return cols;
}

// Samples of one machine (in one file) not yet cut into windows.
struct MachineState {
  std::vector<std::vector<double>> samples;  // per channel
  std::vector<std::string> starts;           // per sample: its window_start text, if any
  std::vector<std::uint64_t> rows;           // per sample: 0-based row in the file
  std::uint64_t first_index = 0;             // index (in this machine) of samples[c][0]
  std::uint64_t skip = 0;                    // samples still to drop (hop > window)
  std::uint64_t windows = 0;                 // windows computed
};

// A computed row held back until its file is read whole (--keep-going: a
// file that fails contributes no rows).
struct PendingRow {
  std::string start;
  std::string machine;
  std::vector<double> values;
  std::vector<const char*> zones;
};

// Cuts the samples of each machine into windows, computes their features
// and hands the rows to a FeatureWriter. Windows never cross a file
// boundary: BeginFile starts every machine afresh. `where` strings name the
// file and the row.
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
  Status Begin(bool with_machine, bool text_start) {
    machine_ = with_machine;
    text_start_ = text_start;
    return writer_.Begin(columns_, with_machine, text_start);
  }
  bool with_machine() const { return machine_; }
  bool text_start() const { return text_start_; }

  void BeginFile(const std::string& file) {
    file_ = file;
    machines_.clear();
    pending_.clear();
    if (sources_) zones_[0] = file_.c_str();
  }

  // One sample row (`row_in_file` 0-based): `row[c]` is channel c (finite,
  // checked by the caller). With --dtype float32 each value is first rounded
  // to the nearest float32; one outside the float32 range is an error.
  Status Add(const std::string& where, const std::string& machine, std::string_view start,
             std::uint64_t row_in_file, std::span<const double> row) {
    if (float32_) {
      for (std::size_t c = 0; c < row.size(); ++c) {
        const auto f = static_cast<float>(row[c]);
        if (!std::isfinite(f)) {
          return Status::Corruption(where + ": column '" + ex_.options().channels[c] + "': '" +
                                    FormatDouble(row[c]) +
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
    if (text_start_) m.starts.emplace_back(start);
    m.rows.push_back(row_in_file);
    if (m.samples[0].size() < window_) return Status::OK();

    for (std::size_t c = 0; c < spans_.size(); ++c) spans_[c] = m.samples[c];
    const std::span<double> features = std::span<double>(values_).first(ex_.names().size());
    Status s = ex_.Compute(spans_, features);
    if (!s.ok()) return Status::Corruption(where + ": " + s.message());
    values_.back() = static_cast<double>(m.rows.front());
    const auto group = static_cast<features::IsoGroup>(a_.iso_group);
    const features::Foundation foundation = a_.foundation == "flexible"
                                                ? features::Foundation::kFlexible
                                                : features::Foundation::kRigid;
    for (std::size_t i = 0; i < columns_.size(); ++i) {
      if (!columns_[i].zone || (sources_ && i == 0)) continue;
      auto zone = features::Iso20816Zone(values_[columns_[i].source], group, foundation);
      if (!zone.ok()) return Status::Corruption(where + ": " + zone.status().message());
      zones_[i] = features::IsoZoneName(*zone);
    }
    ++m.windows;
    std::string window_start = text_start_ ? m.starts.front() : std::to_string(m.first_index);
    if (hold_rows_) {
      pending_.push_back({std::move(window_start), machine, values_, zones_});
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
  bool text_start_ = false;
  std::string file_;
  std::map<std::string, MachineState> machines_;
  std::vector<PendingRow> pending_;
};

// The text of a machine_id or timestamp cell.
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

// Index of the column named `name` (exact), or -1.
std::ptrdiff_t FindColumn(const std::vector<TableColumnInfo>& cols, std::string_view name) {
  for (std::size_t i = 0; i < cols.size(); ++i) {
    if (cols[i].name == name) return static_cast<std::ptrdiff_t>(i);
  }
  return -1;
}

// FEMTO's time-of-day columns: hour, minute, second, microsecond (any case),
// all numeric. Indices, or empty when the file lacks any of them.
std::vector<std::size_t> TimeOfDayColumns(const std::vector<TableColumnInfo>& cols) {
  std::vector<std::size_t> out;
  for (const std::string_view want : {"hour", "minute", "second", "microsecond"}) {
    bool found = false;
    for (std::size_t i = 0; i < cols.size() && !found; ++i) {
      std::string lower = cols[i].name;
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (lower == want && IsNumericKind(cols[i].kind)) {
        out.push_back(i);
        found = true;
      }
    }
    if (!found) return {};
  }
  return out;
}

// "HH:MM:SS.ffffff" from the hour, minute, second and microsecond cells of
// row r. Corruption naming the row and column for a null, non-integral or
// out-of-range cell.
Result<std::string> TimeOfDayText(const TableBatch& batch, const std::vector<std::size_t>& cols,
                                  std::size_t r, const std::string& where) {
  constexpr std::int64_t kMax[] = {23, 59, 60, 999999};
  std::int64_t v[4] = {0, 0, 0, 0};
  for (std::size_t k = 0; k < 4; ++k) {
    const TableColumn& col = batch.columns[cols[k]];
    if (!col.valid[r]) {
      return Status::Corruption(where + ": column '" + col.info.name + "' is null");
    }
    const double d =
        col.info.kind == ValueKind::kDouble ? col.doubles[r] : static_cast<double>(col.ints[r]);
    if (!(d >= 0) || d > static_cast<double>(kMax[k]) || d != std::floor(d)) {
      return Status::Corruption(where + ": column '" + col.info.name + "': '" + FormatDouble(d) +
                                "' is not a time-of-day field (integer 0.." +
                                std::to_string(kMax[k]) + ")");
    }
    v[k] = static_cast<std::int64_t>(d);
  }
  char text[32];
  std::snprintf(text, sizeof(text), "%02lld:%02lld:%02lld.%06lld", static_cast<long long>(v[0]),
                static_cast<long long>(v[1]), static_cast<long long>(v[2]),
                static_cast<long long>(v[3]));
  return std::string(text);
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
  if (replay::IsHttpUrl(file)) return 0;
  std::string lower = file;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (EndsWith(lower, ".parquet")) return 0;
  std::ifstream in(file, std::ios::binary);
  char magic[4] = {0, 0, 0, 0};
  in.read(magic, 4);
  if (in.gcount() == 4 && std::string_view(magic, 4) == "PAR1") return 0;
  std::error_code ec;
  const std::uintmax_t bytes = std::filesystem::file_size(file, ec);
  if (ec) return 0;
  const std::uint64_t per_row = columns + channels;
  return per_row == 0 ? 0 : (bytes + 1) / per_row;
}

// True when a text cell is a number (decimal point or comma).
bool LooksNumber(std::string_view text) {
  const std::string_view t = TrimSpace(text);
  if (t.empty()) return false;
  if (ParseDouble(t).ok()) return true;
  std::string dotted(t);
  std::replace(dotted.begin(), dotted.end(), ',', '.');
  return ParseDouble(dotted).ok();
}

// Counts the non-empty text cells of column `c` in `batch` that are numbers
// and that are not; *bad_row is the first that is not (or -1).
void CountNumberCells(const TableBatch& batch, std::size_t c, std::size_t* numbers,
                      std::size_t* others, std::ptrdiff_t* bad_row) {
  *numbers = 0;
  *others = 0;
  *bad_row = -1;
  const TableColumn& col = batch.columns[c];
  if (col.info.kind != ValueKind::kString) return;
  for (std::size_t r = 0; r < batch.rows; ++r) {
    if (!col.valid[r]) continue;
    if (LooksNumber(col.strings[r])) {
      ++*numbers;
    } else {
      ++*others;
      if (*bad_row < 0) *bad_row = static_cast<std::ptrdiff_t>(r);
    }
  }
}

// The error for a channel column `c` that is not numeric: naming the first
// cell (of the first batch) that is not a number when it is text, else its
// kind. Escapes nothing: the cell is cut to 40 bytes.
Status NotNumericError(const std::string& shown, const TableBatch& batch, std::size_t c) {
  const TableColumn& col = batch.columns[c];
  std::size_t numbers = 0;
  std::size_t others = 0;
  std::ptrdiff_t bad = -1;
  CountNumberCells(batch, c, &numbers, &others, &bad);
  if (bad < 0 && col.info.kind == ValueKind::kString) {
    // No text cell at all: the first rows are empty (null).
    for (std::size_t r = 0; r < batch.rows; ++r) {
      if (col.valid[r]) continue;
      return Status::Corruption(shown + ": row " + std::to_string(batch.first_row + 1 + r) +
                                ": column '" + col.info.name + "' is null");
    }
  }
  if (bad >= 0) {
    const auto r = static_cast<std::size_t>(bad);
    return Status::Corruption(shown + ": row " + std::to_string(batch.first_row + bad + 1) +
                              ": column '" + col.info.name + "': '" + col.strings[r].substr(0, 40) +
                              "' is not a number");
  }
  return Status::Corruption(shown + ": column '" + col.info.name + "' is not numeric (" +
                            ValueKindName(col.info.kind) + ")");
}

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
                TableBatch& batch, Windower& windower) {
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
  const bool text_start = ts_col >= 0 || !tod_cols.empty();
  if (text_start != windower.text_start()) {
    return Status::Corruption(shown + ": " +
                              (text_start ? "has a timestamp or time-of-day columns, the first "
                                            "file not"
                                          : "has no timestamp or time-of-day columns, the first "
                                            "file has"));
  }
  std::vector<double> row_values(o.channels.size());
  std::string machine;
  std::string start;
  // `batch` holds the first rows already (ReadFirstBatch).
  for (bool first = true;; first = false) {
    if (!first) {
      auto more = reader.Next(&batch);
      if (!more.ok()) return AsDataError(more.status());
    }
    if (batch.rows == 0) break;
    for (std::size_t r = 0; r < batch.rows; ++r) {
      const auto row_in_file = static_cast<std::uint64_t>(batch.first_row) + r;
      const std::string where = shown + ": row " + std::to_string(row_in_file + 1);
      for (std::size_t c = 0; c < channel_col.size(); ++c) {
        const TableColumn& col = batch.columns[channel_col[c]];
        if (!col.valid[r]) {
          return Status::Corruption(where + ": column '" + o.channels[c] + "' is null");
        }
        const double v =
            col.info.kind == ValueKind::kDouble ? col.doubles[r] : static_cast<double>(col.ints[r]);
        if (!std::isfinite(v)) {
          return Status::Corruption(where + ": column '" + o.channels[c] + "': '" +
                                    FormatDouble(v) + "' is not a finite number");
        }
        row_values[c] = v;
      }
      // machine_id and timestamp as text; a null cell is an error.
      auto text = [&](std::ptrdiff_t index, std::string* out) -> Status {
        if (index < 0) return Status::OK();
        const TableColumn& col = batch.columns[static_cast<std::size_t>(index)];
        if (!col.valid[r]) {
          return Status::Corruption(where + ": column '" + col.info.name + "' is null");
        }
        *out = CellText(col, r);
        return Status::OK();
      };
      MH_RETURN_IF_ERROR(text(machine_col, &machine));
      if (ts_col >= 0) {
        MH_RETURN_IF_ERROR(text(ts_col, &start));
      } else if (!tod_cols.empty()) {
        MH_ASSIGN_OR_RETURN(start, TimeOfDayText(batch, tod_cols, r, where));
      }
      MH_RETURN_IF_ERROR(windower.Add(where, machine, start, row_in_file, row_values));
    }
  }
  return Status::OK();
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
        windower = std::make_unique<Windower>(a, *ex, writer, inputs.multiple, a.keep_going);
        const std::vector<TableColumnInfo>& cols = reader.columns();
        const bool time_of_day = !TimeOfDayColumns(cols).empty();
        MH_RETURN_IF_ERROR(windower->Begin(FindColumn(cols, "machine_id") >= 0,
                                           FindColumn(cols, "timestamp") >= 0 || time_of_day));
      }
      windower->BeginFile(shown);
      MH_RETURN_IF_ERROR(ReadFile(shown, reader, o, batch, *windower));
      return windower->EndFile(shown);
    }();
    if (s.ok()) continue;
    if (!a.keep_going) return s;
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
  auto format = FormatForPath(a.out);
  if (!format.ok()) return UsageError(io, kCommand, format.status().message());

  int failed = 0;
  if (a.out == "-") {
    CsvFeatureWriter writer(io.out);
    Status s = ComputeFeatures(a, *options, writer, io, &failed);
    io.out.flush();
    if (!s.ok()) return ReportError(io, kCommand, s);
    return failed > 0 ? kExitFailure : kExitOk;
  }
  if (*format == OutFormat::kParquet) {
    // The Parquet writer writes a temporary file and renames it on Finish;
    // on error the temporary file is removed when the writer is destroyed.
    ParquetFeatureWriter writer(a.out);
    Status s = ComputeFeatures(a, *options, writer, io, &failed);
    if (!s.ok()) return ReportError(io, kCommand, s);
    return failed > 0 ? kExitFailure : kExitOk;
  }
  // Write next to the target and rename, so a failed run leaves no half file.
  const std::string tmp = a.out + ".tmp";
  Status s;
  {
    std::ofstream file(tmp, std::ios::trunc);
    if (!file) {
      return ReportError(io, kCommand, Status::IOError(a.out + ": cannot open for writing"));
    }
    std::unique_ptr<FeatureWriter> writer;
    if (*format == OutFormat::kJsonLines) {
      writer = std::make_unique<JsonLinesFeatureWriter>(file);
    } else {
      writer = std::make_unique<CsvFeatureWriter>(file);
    }
    s = ComputeFeatures(a, *options, *writer, io, &failed);
    if (!s.ok() && s.IsIOError() && s.message() == "write failed") {
      s = Status::IOError(a.out + ": write failed");
    }
  }
  std::error_code ec;
  if (!s.ok()) {
    std::filesystem::remove(tmp, ec);
    return ReportError(io, kCommand, s);
  }
  std::filesystem::rename(tmp, a.out, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    return ReportError(io, kCommand, Status::IOError(a.out + ": rename failed"));
  }
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
  sub->add_option("--out", args->out,
                  "Output file by extension: .csv, .jsonl/.ndjson, .parquet; - for CSV on "
                  "standard output")
      ->required();
  sub->callback([args, hop, foundation, &io, &action] {
    args->hop_given = hop->count() > 0;
    args->foundation_given = foundation->count() > 0;
    action = [args, &io] { return RunFeatures(*args, io); };
  });
}

}  // namespace mh::app
