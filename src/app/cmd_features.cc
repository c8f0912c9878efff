// machine-health features: computes window features from a CSV or Parquet
// file of samples.
//
//   machine-health features --input FILE.csv|FILE.parquet|URL --fs HZ [--channels ax,ay,az]
//       [--no-mag] [--dtype float64|float32]
//       [--window 2560] [--hop N] [--bands 0-200,200-1000] [--set basic|full]
//       [--unit g|m/s2] [--rpm R] [--bearing NAME|Z,d,D,ANGLE]
//       [--env-band LO-HI] [--iso-group 1|2 [--foundation rigid|flexible]]
//       [--names default|prototype] --out FILE.csv|.tsv|.jsonl|.parquet|- [--format F]
//
// Input (CSV): a header row, then one row per sample; one column per channel
// (other columns are ignored). With a `machine_id` column, windows are cut per
// machine; with a `timestamp` column, window_start is its text for the
// window's first sample instead of the sample index. A local CSV is streamed
// with a deliberately minimal dialect (comma separated, no quoting, header
// required) so that errors name the exact line. A Parquet file (by its
// "PAR1" magic or .parquet extension) or an http(s) URL is opened with
// replay::OpenTableFile (same columns). With 2+ channels the vector
// magnitude is added as channel "mag" unless --no-mag. --dtype float32 rounds
// every sample to float32 first (as a float32 logger would have stored it).
// Output format by --out extension or --format (app/output_options.h,
// docs/output-formats.md).
#include <cctype>
#include <cmath>
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
#include "app/output_options.h"
#include "core/strings.h"
#include "core/table.h"
#include "core/time_util.h"
#include "features/bearing.h"
#include "features/window_features.h"
#include "replay/table_file.h"

namespace mh::app {
namespace {

constexpr const char* kCommand = "features";

struct FeaturesArgs {
  std::string input;
  double fs = 0;
  std::string channels = "ax,ay,az";
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
};

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Splits one CSV line on commas, trimming blanks and a trailing '\r'.
std::vector<std::string_view> SplitFields(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (true) {
    const std::size_t pos = line.find(',', start);
    if (pos == std::string_view::npos) {
      out.push_back(TrimSpace(line.substr(start)));
      return out;
    }
    out.push_back(TrimSpace(line.substr(start, pos - start)));
    start = pos + 1;
  }
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

// Builds and validates the extractor options (InvalidArgument -> exit 2).
Result<features::FeatureOptions> MakeOptions(const FeaturesArgs& a) {
  features::FeatureOptions o;
  if (!(a.fs > 0) || !std::isfinite(a.fs)) {
    return Status::InvalidArgument("--fs: expected a sampling rate in hz > 0");
  }
  if (a.window < 4) return Status::InvalidArgument("--window: expected an integer >= 4");
  if (a.hop_given && a.hop < 1) return Status::InvalidArgument("--hop: expected an integer >= 1");
  o.sample_rate_hz = a.fs;
  o.window_samples = static_cast<std::size_t>(a.window);
  o.channels.clear();
  for (const std::string& c : Split(a.channels, ',')) {
    const std::string_view name = TrimSpace(c);
    if (name.empty()) return Status::InvalidArgument("--channels: empty channel name");
    o.channels.emplace_back(name);
  }
  o.magnitude = !a.no_mag && o.channels.size() >= 2;
  if (o.magnitude) {
    for (const std::string& c : o.channels) {
      if (c == features::kMagnitudeChannel) {
        return Status::InvalidArgument(
            "--channels: channel 'mag' clashes with the vector magnitude channel 'mag' (add "
            "--no-mag to read a 'mag' column as a channel)");
      }
    }
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
  return o;
}

// Samples of one machine not yet cut into windows.
struct MachineState {
  std::vector<std::vector<double>> samples;  // per channel
  std::vector<std::string> timestamps;       // per sample, if a timestamp column exists
  std::uint64_t first_index = 0;             // index (in this machine) of samples[c][0]
  std::uint64_t skip = 0;                    // samples still to drop (hop > window)
  std::uint64_t windows = 0;                 // windows written
};

// One output column: a feature value, or the ISO zone letter of a
// velocity_rms feature.
struct OutColumn {
  std::string name;
  std::size_t source = 0;  // index into the extractor's values
  bool zone = false;       // true: IsoZoneName(zone of values[source])
};

// Hands feature rows to a tableio::TableOutput (tableio/table_output.h)
// in batches: window_start INT64 (the sample index) or STRING (the timestamp
// text), machine_id STRING, features DOUBLE, iso zones STRING.
class FeatureWriter {
 public:
  explicit FeatureWriter(const OutputArgs& output, std::ostream& standard_output)
      : output_(output), standard_output_(standard_output) {}
  // Opens the output; called once, before any Row.
  Status Begin(const std::vector<OutColumn>& columns, bool with_machine, bool text_start) {
    columns_ = &columns;
    machine_ = with_machine;
    text_start_ = text_start;
    std::vector<TableColumnInfo> schema;
    schema.push_back({"window_start", text_start ? ValueKind::kString : ValueKind::kInt, 9});
    if (machine_) schema.push_back({"machine_id", ValueKind::kString, 9});
    for (const OutColumn& c : columns) {
      schema.push_back({c.name, c.zone ? ValueKind::kString : ValueKind::kDouble, 9});
    }
    batch_.Reset(0, schema);
    MH_ASSIGN_OR_RETURN(out_, OpenOutput(output_, schema, standard_output_));
    return Status::OK();
  }
  // `zones[i]` is the zone letter for zone columns (else unused).
  Status Row(const std::string& start, const std::string& machine,
             const std::vector<double>& values, const std::vector<const char*>& zones) {
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
  bool text_start_ = false;
  TableBatch batch_;
  std::unique_ptr<tableio::TableOutput> out_;
};

// The output columns: the extractor's names (renamed for --names prototype),
// with iso_zone_<ch> after each velocity_rms_<ch> of an input channel when
// --iso-group is given.
std::vector<OutColumn> OutputColumns(const FeaturesArgs& a,
                                     const features::WindowFeatureExtractor& ex) {
  std::vector<OutColumn> cols;
  const std::vector<std::string>& names = ex.names();
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

// Cuts the samples of each machine into windows, computes their features
// and hands the rows to a FeatureWriter. Shared by the CSV and Parquet input
// paths; `where` strings name the file and the line or row.
class Windower {
 public:
  Windower(const FeaturesArgs& a, features::WindowFeatureExtractor& ex, FeatureWriter& writer)
      : a_(a),
        ex_(ex),
        writer_(writer),
        window_(ex.options().window_samples),
        hop_(a.hop_given ? static_cast<std::size_t>(a.hop) : window_),
        float32_(a.dtype == "float32"),
        columns_(OutputColumns(a, ex)),
        zones_(columns_.size(), ""),
        spans_(ex.options().channels.size()),
        rounded_(ex.options().channels.size()),
        values_(ex.names().size()) {}

  Status Begin(bool with_machine, bool with_timestamp) {
    machine_ = with_machine;
    timestamp_ = with_timestamp;
    return writer_.Begin(columns_, with_machine, with_timestamp);
  }

  // One sample row: `row[c]` is channel c (finite, checked by the caller).
  // With --dtype float32 each value is first rounded to the nearest float32;
  // one outside the float32 range is an error.
  Status Add(const std::string& where, const std::string& machine, std::string_view timestamp,
             std::span<const double> row) {
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
    if (timestamp_) m.timestamps.emplace_back(timestamp);
    if (m.samples[0].size() < window_) return Status::OK();

    for (std::size_t c = 0; c < spans_.size(); ++c) spans_[c] = m.samples[c];
    Status s = ex_.Compute(spans_, values_);
    if (!s.ok()) return Status::Internal(where + ": " + s.message());
    const auto group = static_cast<features::IsoGroup>(a_.iso_group);
    const features::Foundation foundation = a_.foundation == "flexible"
                                                ? features::Foundation::kFlexible
                                                : features::Foundation::kRigid;
    for (std::size_t i = 0; i < columns_.size(); ++i) {
      if (!columns_[i].zone) continue;
      auto zone = features::Iso20816Zone(values_[columns_[i].source], group, foundation);
      if (!zone.ok()) return Status::Corruption(where + ": " + zone.status().message());
      zones_[i] = features::IsoZoneName(*zone);
    }
    ++m.windows;
    MH_RETURN_IF_ERROR(
        writer_.Row(timestamp_ ? m.timestamps.front() : std::to_string(m.first_index), machine,
                    values_, zones_));
    const std::size_t drop = std::min(hop_, window_);
    for (auto& ch : m.samples) ch.erase(ch.begin(), ch.begin() + static_cast<std::ptrdiff_t>(drop));
    if (timestamp_) {
      m.timestamps.erase(m.timestamps.begin(),
                         m.timestamps.begin() + static_cast<std::ptrdiff_t>(drop));
    }
    m.first_index += drop;
    m.skip = hop_ - drop;
    return Status::OK();
  }

  // Corruption when there was no sample, or a machine had fewer samples than
  // one window; else finishes the writer.
  Status End(const std::string& file) {
    if (machines_.empty()) return Status::Corruption(file + ": no samples after the header");
    for (const auto& [machine, m] : machines_) {
      if (m.windows > 0) continue;
      return Status::Corruption(file + ": " +
                                (machine_ ? "machine '" + machine + "': " : std::string()) +
                                "only " + std::to_string(m.first_index + m.samples[0].size()) +
                                " samples, fewer than one window of " + std::to_string(window_));
    }
    return writer_.Finish();
  }

 private:
  const FeaturesArgs& a_;
  features::WindowFeatureExtractor& ex_;
  FeatureWriter& writer_;
  const std::size_t window_;
  const std::size_t hop_;
  const bool float32_;
  const std::vector<OutColumn> columns_;
  std::vector<const char*> zones_;
  std::vector<std::span<const double>> spans_;
  std::vector<double> rounded_;  // --dtype float32: the row rounded
  std::vector<double> values_;
  bool machine_ = false;
  bool timestamp_ = false;
  std::map<std::string, MachineState> machines_;
};

// Reads the CSV `a.input`. IOError for an unreadable file, Corruption
// (naming file, line and column) for bad data.
Status ComputeFeaturesCsv(const FeaturesArgs& a, features::WindowFeatureExtractor& ex,
                          FeatureWriter& writer) {
  const std::string& file = a.input;
  std::ifstream in(file);
  if (!in) return Status::IOError(file + ": cannot open for reading");
  const features::FeatureOptions& o = ex.options();

  std::string line;
  if (!std::getline(in, line)) return Status::Corruption(file + ": empty file (header expected)");
  const std::vector<std::string_view> header_views = SplitFields(line);
  const std::vector<std::string> header(header_views.begin(), header_views.end());
  auto column = [&](const std::string& name) -> std::ptrdiff_t {
    for (std::size_t i = 0; i < header.size(); ++i) {
      if (header[i] == name) return static_cast<std::ptrdiff_t>(i);
    }
    return -1;
  };
  std::vector<std::size_t> channel_col;
  for (const std::string& c : o.channels) {
    const std::ptrdiff_t i = column(c);
    if (i < 0) {
      return Status::Corruption(file + ": line 1: no column '" + c + "' in the header");
    }
    channel_col.push_back(static_cast<std::size_t>(i));
  }
  const std::ptrdiff_t ts_col = column("timestamp");
  const std::ptrdiff_t machine_col = column("machine_id");

  Windower windower(a, ex, writer);
  MH_RETURN_IF_ERROR(windower.Begin(machine_col >= 0, ts_col >= 0));
  std::vector<double> row_values(o.channels.size());
  std::uint64_t line_no = 1;
  while (std::getline(in, line)) {
    ++line_no;
    if (TrimSpace(line).empty()) continue;
    const std::string where = file + ": line " + std::to_string(line_no);
    const std::vector<std::string_view> fields = SplitFields(line);
    if (fields.size() != header.size()) {
      return Status::Corruption(where + ": expected " + std::to_string(header.size()) +
                                " fields as in the header, got " + std::to_string(fields.size()));
    }
    // Validate every channel of the row even when it is skipped (hop > window).
    for (std::size_t c = 0; c < channel_col.size(); ++c) {
      const std::string_view text = fields[channel_col[c]];
      auto v = ParseDouble(text);
      if (!v.ok() || !std::isfinite(*v)) {
        return Status::Corruption(where + ": column '" + o.channels[c] + "': '" +
                                  std::string(text) + "' is not a finite number");
      }
      row_values[c] = *v;
    }
    const std::string machine = machine_col >= 0 ? std::string(fields[machine_col]) : "";
    MH_RETURN_IF_ERROR(windower.Add(where, machine, ts_col >= 0 ? fields[ts_col] : "", row_values));
  }
  if (in.bad()) return Status::IOError(file + ": read error");
  return windower.End(file);
}

// The text of a machine_id or timestamp cell of a Parquet row.
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

// Reads `a.input` with replay::OpenTableFile: a Parquet file, or a URL of a
// Parquet or CSV file (channels DOUBLE, FLOAT or integer columns, optional
// machine_id and timestamp). Errors name the file, the 1-based row and the
// column.
Status ComputeFeaturesTable(const FeaturesArgs& a, features::WindowFeatureExtractor& ex,
                            FeatureWriter& writer) {
  const std::string& file = a.input;
  const features::FeatureOptions& o = ex.options();
  auto opened = replay::OpenTableFile(file, replay::TableFileOptions{});
  if (!opened.ok()) return opened.status();
  TableReader& reader = **opened;
  const std::vector<TableColumnInfo>& cols = reader.columns();
  const std::string shown = replay::RedactUrl(file);
  auto column = [&](const std::string& name) -> std::ptrdiff_t {
    for (std::size_t i = 0; i < cols.size(); ++i) {
      if (cols[i].name == name) return static_cast<std::ptrdiff_t>(i);
    }
    return -1;
  };
  std::vector<std::size_t> channel_col;
  for (const std::string& c : o.channels) {
    const std::ptrdiff_t i = column(c);
    if (i < 0) return Status::Corruption(shown + ": no column '" + c + "' in the schema");
    const ValueKind k = cols[static_cast<std::size_t>(i)].kind;
    if (k != ValueKind::kDouble && k != ValueKind::kInt) {
      return Status::Corruption(shown + ": column '" + c + "' is not numeric");
    }
    channel_col.push_back(static_cast<std::size_t>(i));
  }
  const std::ptrdiff_t ts_col = column("timestamp");
  const std::ptrdiff_t machine_col = column("machine_id");

  Windower windower(a, ex, writer);
  MH_RETURN_IF_ERROR(windower.Begin(machine_col >= 0, ts_col >= 0));
  std::vector<double> row_values(o.channels.size());
  TableBatch batch;
  while (true) {
    auto more = reader.Next(&batch);
    if (!more.ok()) return more.status();
    if (batch.rows == 0) break;
    for (std::size_t r = 0; r < batch.rows; ++r) {
      const std::string where =
          shown + ": row " + std::to_string(batch.first_row + static_cast<std::int64_t>(r) + 1);
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
      std::string machine;
      std::string ts;
      MH_RETURN_IF_ERROR(text(machine_col, &machine));
      MH_RETURN_IF_ERROR(text(ts_col, &ts));
      MH_RETURN_IF_ERROR(windower.Add(where, machine, ts, row_values));
    }
  }
  return windower.End(shown);
}

// True for a Parquet file: the "PAR1" magic, or a .parquet extension (so that
// a truncated Parquet file is reported by the Parquet reader).
bool IsParquetFile(const std::string& path) {
  std::string lower = path;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (EndsWith(lower, ".parquet")) return true;
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {0, 0, 0, 0};
  in.read(magic, 4);
  return in.gcount() == 4 && std::string_view(magic, 4) == "PAR1";
}

// Reads `a.input` (a URL or a Parquet file through OpenTableFile, else a
// local CSV) and writes one row per full window to `writer`.
Status ComputeFeatures(const FeaturesArgs& a, features::WindowFeatureExtractor& ex,
                       FeatureWriter& writer) {
  if (replay::IsHttpUrl(a.input) || IsParquetFile(a.input)) {
    return ComputeFeaturesTable(a, ex, writer);
  }
  return ComputeFeaturesCsv(a, ex, writer);
}

int RunFeatures(const FeaturesArgs& a, CommandIo& io) {
  auto options = MakeOptions(a);
  if (!options.ok()) return UsageError(io, kCommand, options.status().message());
  auto ex = features::WindowFeatureExtractor::Create(*options);
  if (!ex.ok()) {
    const std::string& m = ex.status().message();
    std::string option;
    if (m.rfind("band", 0) == 0) option = "--bands: ";
    if (m.rfind("envelope", 0) == 0) option = "--env-band: ";
    if (m.rfind("shaft", 0) == 0) option = "--rpm: ";
    if (m.rfind("bearing", 0) == 0) option = "--bearing: ";
    return UsageError(io, kCommand, option + m);
  }

  auto format = ResolveOutputFormat(a.output);
  if (!format.ok()) return UsageError(io, kCommand, format.status().message());

  FeatureWriter writer(a.output, io.out);
  Status s = ComputeFeatures(a, **ex, writer);
  if (!s.ok()) return ReportError(io, kCommand, s);
  return kExitOk;
}

}  // namespace

void AddFeaturesCommand(CLI::App& root, CommandIo& io, Action& action) {
  auto args = std::make_shared<FeaturesArgs>();
  CLI::App* sub = root.add_subcommand(
      "features",
      "Compute window features (RMS, kurtosis, spectral peak, band energy...) from a "
      "CSV or Parquet file of vibration samples");
  sub->add_option("--input", args->input,
                  "CSV with a header, Parquet file, or http(s) URL; one column per channel")
      ->required();
  sub->add_option("--fs", args->fs, "Sampling rate in Hz")->required();
  sub->add_option("--channels", args->channels, "Comma-separated channel columns")
      ->capture_default_str();
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
