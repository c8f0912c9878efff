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
// magic or extension; http(s) URLs) and replay::ReadSampleRows (time and
// machine columns, float32 rounding). A folder or glob is expanded by
// replay::ExpandInputs in natural order. Windows are cut by the pipeline's
// window stage (window::Windower, one stream per machine, a new windower per
// file): they never cross a file boundary, and each row then carries
// source_file and source_offset.
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
#include <cmath>
#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "app/command.h"
#include "app/output_options.h"
#include "app/pipeline_options.h"
#include "app/progress_option.h"
#include "core/strings.h"
#include "core/table.h"
#include "features/bearing.h"
#include "features/feature_stage.h"
#include "features/window_features.h"
#include "log/log.h"
#include "replay/input_files.h"
#include "replay/sample_columns.h"
#include "replay/sample_rows.h"
#include "replay/table_file.h"
#include "window/windower.h"

namespace mh::app {
namespace {

constexpr const char* kCommand = "features";

// --window, --hop, --bands, --set and --names are the pipeline's
// (app/pipeline_options.h: one registration for run, score, features and
// evaluate) with this command's own defaults: a window of 2560 samples (one
// FEMTO snapshot, 100 ms at 25.6 kHz) and the one band 0-200 Hz, which its
// tables, tests and docs/features.md are written for (docs/decisions/0004).
PipelineArgs FeaturesPipelineDefaults() {
  PipelineArgs p;
  p.window = 2560;
  p.bands = "0-200";
  return p;
}

struct FeaturesArgs {
  std::string input;
  double fs = 0;
  std::string channels;  // empty: the numeric non-time, non-index columns
  PipelineArgs pipeline = FeaturesPipelineDefaults();
  bool hop_given = false;  // pipeline.hop is used only when given
  OutputArgs output;
  std::string progress = "auto";  // --progress
  std::string unit = "g";
  double rpm = 0;
  std::string bearing;
  std::string env_band;
  std::int64_t iso_group = 0;  // 0 = no iso_zone columns
  std::string foundation = "rigid";
  bool foundation_given = false;
  bool no_mag = false;
  std::string dtype = "float64";
  bool keep_going = false;
};

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

// The window stage's options (hop 0: the window; checked by MakeOptions).
window::WindowOptions WindowOptionsOf(const FeaturesArgs& a) {
  window::WindowOptions w;
  w.window_samples = static_cast<std::size_t>(a.pipeline.window);
  w.hop_samples = static_cast<std::size_t>(a.pipeline.hop);
  return w;
}

// Builds and validates the extractor options (InvalidArgument -> exit 2).
// Without --channels, o.channels is empty: the caller picks them from the
// first file (ChooseChannels) and validates again.
Result<features::FeatureOptions> MakeOptions(const FeaturesArgs& a) {
  features::FeatureOptions o;
  if (!(a.fs > 0) || !std::isfinite(a.fs)) {
    return Status::InvalidArgument("--fs: expected a sampling rate in hz > 0");
  }
  if (a.hop_given && a.pipeline.hop < 1) {
    return Status::InvalidArgument("--hop: expected an integer >= 1");
  }
  // Window, hop, bands, set and names: the pipeline's one rule.
  MH_ASSIGN_OR_RETURN(const pipeline::PipelineOptions p, MakePipelineOptions(a.pipeline));
  o.sample_rate_hz = a.fs;
  o.window_samples = p.window.window_samples;
  o.bands = p.features.bands;
  o.set = p.features.set;
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
  auto unit = features::ParseAccelUnit(a.unit);
  if (!unit.ok()) return Status::InvalidArgument("--unit: " + unit.status().message());
  o.unit = *unit;
  if (!(a.rpm >= 0) || !std::isfinite(a.rpm)) {
    return Status::InvalidArgument("--rpm: expected a shaft speed in rev/min > 0");
  }
  o.shaft_rpm = a.rpm;
  if (!a.bearing.empty()) {
    if (!(a.rpm > 0)) return Status::InvalidArgument("--bearing needs --rpm");
    MH_ASSIGN_OR_RETURN(o.bearing, features::ParseBearing(a.bearing));
  }
  if (!a.env_band.empty()) {
    if (o.bearing == std::nullopt) return Status::InvalidArgument("--env-band needs --bearing");
    auto band = features::ParseBands(a.env_band, "--env-band");
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
  // Everything but the channels is checked now, in the one place the
  // extractor checks it, so that a bad band is a usage error before any
  // file is opened.
  features::FeatureOptions check = o;
  if (check.channels.empty()) check.channels = {"channel"};
  Status s = features::ValidateFeatureOptions(check);
  if (!s.ok()) return Status::InvalidArgument(OptionOfMessage(s.message()) + s.message());
  return o;
}

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
        a.pipeline.names == "prototype" ? features::PrototypeFeatureName(names[i]) : names[i];
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

// A computed row held back until its file is read whole (--keep-going: a
// file that fails contributes no rows).
struct PendingRow {
  std::int64_t start = 0;
  std::string machine;
  std::vector<double> values;
  std::vector<const char*> zones;
};

// The feature rows of the input: each file's sample rows go through the
// pipeline's window stage (window::Windower, one stream per machine; a new
// windower per file, so windows never cross a file boundary), and every
// window's features are computed and handed to a FeatureWriter. Errors name
// the file and the 1-based row.
class FeatureRows {
 public:
  FeatureRows(const FeaturesArgs& a, features::WindowFeatureExtractor& ex, FeatureWriter& writer,
              bool sources, bool hold_rows)
      : a_(a),
        ex_(ex),
        writer_(writer),
        window_options_(WindowOptionsOf(a)),
        sources_(sources),
        hold_rows_(hold_rows),
        columns_(OutputColumns(a, ex, sources)),
        zones_(columns_.size(), ""),
        values_(ex.names().size() + 1) {}

  // Once, before the first file: the layout every file must have (its
  // time column becomes window_start: the sample index, or the time of the
  // window's first sample).
  Status Begin(const replay::SampleRowsLayout& layout) {
    layout_ = layout;
    text_start_ = layout.time_kind != ValueKind::kInt;
    return writer_.Begin(columns_, layout.machine,
                         {"window_start", layout.time_kind, layout.fraction_digits});
  }
  const replay::SampleRowsLayout& layout() const { return layout_; }

  void BeginFile(const std::string& file) {
    file_ = file;
    windower_.emplace(window_options_);
    machines_.clear();
    pending_.clear();
    if (sources_) zones_[0] = file_.c_str();
  }

  // Consecutive rows of one machine (replay/sample_rows.h), given to the
  // windower as one block: its times (without a time column, the nominal
  // time at fs since the file's start, so blocks continue the stream) and
  // its file rows as tags.
  Status Add(const replay::SampleRun& run) {
    run_ = &run;
    const std::string machine(run.machine);
    machines_.insert(machine);
    run_first_index_ = static_cast<std::uint64_t>(windower_->stats(machine).samples);
    window::Block b;
    b.stream = machine;
    b.fs_hz = ex_.options().sample_rate_hz;
    b.channels = run.channels;
    b.t0_ns = static_cast<std::int64_t>(
        std::round(static_cast<double>(run_first_index_) * (1e9 / b.fs_hz)));
    b.sample_times = run.times;
    b.tags = run.rows;
    return windower_->Add(b, [this](const window::Window& w) { return Emit(w); });
  }

  // Corruption when the file had no sample, or a machine had fewer samples
  // than one window; else writes the rows held back.
  Status EndFile(const std::string& shown) {
    if (machines_.empty()) return Status::Corruption(shown + ": no samples after the header");
    for (const std::string& machine : machines_) {
      const window::WindowStats st = windower_->stats(machine);
      if (st.windows > 0) continue;
      return Status::Corruption(
          shown + ": " + (layout_.machine ? "machine '" + machine + "': " : std::string()) +
          "only " + std::to_string(st.samples) + " samples, fewer than one window of " +
          std::to_string(window_options_.window_samples));
    }
    for (const PendingRow& r : pending_) {
      MH_RETURN_IF_ERROR(writer_.Row(r.start, r.machine, r.values, r.zones));
    }
    pending_.clear();
    return Status::OK();
  }

  Status Finish() { return writer_.Finish(); }

 private:
  // Computes one window's features and writes (or holds back) its row.
  Status Emit(const window::Window& w) {
    // The window ends in the block being added: its last sample's row.
    const std::uint64_t last = w.first_sample + window_options_.window_samples - 1;
    const std::uint64_t row_in_file = run_->rows[static_cast<std::size_t>(last - run_first_index_)];
    const std::span<double> features = std::span<double>(values_).first(ex_.names().size());
    Status s = ex_.Compute(w.channels, features);
    if (!s.ok()) return Status::Corruption(Where(row_in_file) + ": " + s.message());
    values_.back() = static_cast<double>(w.first_tag);
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
    const std::int64_t window_start =
        text_start_ ? w.start_ns : static_cast<std::int64_t>(w.first_sample);
    if (hold_rows_) {
      pending_.push_back({window_start, std::string(w.stream), values_, zones_});
      return Status::OK();
    }
    return writer_.Row(window_start, std::string(w.stream), values_, zones_);
  }

  // "<file>: row <n>" (1-based) for messages; built only on errors.
  std::string Where(std::uint64_t row_in_file) const {
    return file_ + ": row " + std::to_string(row_in_file + 1);
  }

  const FeaturesArgs& a_;
  features::WindowFeatureExtractor& ex_;
  FeatureWriter& writer_;
  const window::WindowOptions window_options_;
  const bool sources_;
  const bool hold_rows_;
  const std::vector<OutColumn> columns_;
  std::vector<const char*> zones_;
  replay::SampleRowsLayout layout_;
  bool text_start_ = false;  // window_start is a time, not the sample index
  std::string file_;
  std::optional<window::Windower> windower_;  // this file's
  std::set<std::string> machines_;            // of this file
  const replay::SampleRun* run_ = nullptr;    // the run being added
  std::uint64_t run_first_index_ = 0;         // index of its first sample in its machine's stream
  std::vector<double> values_;                // the extractor's values, then source_offset
  std::vector<PendingRow> pending_;
};

// Reads every input file and writes one row per full window to `writer`.
// Without --channels the channels are chosen from the first file. A file
// that fails stops the run, or with --keep-going is reported to io.err and
// skipped (its rows are not written); *failed counts those files.
Status ComputeFeatures(const FeaturesArgs& a, const features::FeatureOptions& given,
                       FeatureWriter& writer, CommandIo& io, int* failed) {
  *failed = 0;
  MH_ASSIGN_OR_RETURN(const replay::InputFiles inputs, replay::ExpandInputs(a.input));
  std::unique_ptr<features::WindowFeatureExtractor> ex;
  std::unique_ptr<FeatureRows> rows;
  features::FeatureOptions o = given;
  const std::unique_ptr<Progress> progress = StartProgress(
      a.progress, kCommand, static_cast<std::int64_t>(inputs.files.size()), "files", io);
  for (std::size_t f = 0; f < inputs.files.size(); ++f) {
    const std::string& file = inputs.files[f];
    const std::string shown = replay::RedactUrl(file);
    Status s = [&]() -> Status {
      auto opened = replay::OpenTableFile(file, replay::TableFileOptions{});
      if (!opened.ok()) return replay::ReadErrorAsData(opened.status());
      TableReader& reader = **opened;
      TableBatch batch;
      auto read = reader.Next(&batch);
      if (!read.ok()) return replay::ReadErrorAsData(read.status());
      if (ex == nullptr) {
        // The first file fixes the channels and the key columns.
        if (o.channels.empty()) {
          MH_ASSIGN_OR_RETURN(const std::vector<std::string> channels,
                              ChooseChannels(shown, reader.columns(), batch));
          Status set = SetChannels(a, channels, shown, &o);
          if (!set.ok()) return Status::Corruption(set.message());
        }
      }
      MH_RETURN_IF_ERROR(replay::CheckFileHoldsWindow(file, shown, reader.columns().size(),
                                                      o.channels.size(), o.window_samples));
      if (ex == nullptr) {
        auto created = features::WindowFeatureExtractor::Create(o);
        if (!created.ok()) return created.status();
        ex = std::move(*created);
        rows = std::make_unique<FeatureRows>(a, *ex, writer, inputs.multiple,
                                             a.keep_going && inputs.files.size() > 1);
        const std::vector<TableColumnInfo>& cols = reader.columns();
        MH_ASSIGN_OR_RETURN(const replay::SampleRowsLayout layout,
                            replay::DescribeSampleRows(shown, cols, batch));
        MH_RETURN_IF_ERROR(rows->Begin(layout));
      }
      rows->BeginFile(shown);
      replay::SampleRowsOptions ro;
      ro.channels = o.channels;
      ro.float32 = a.dtype == "float32";
      std::string timestamp_note;
      if (f == 0) ro.timestamp_note = &timestamp_note;
      Status read_rows =
          replay::ReadSampleRows(reader, batch, shown, rows->layout(), ro,
                                 [&](const replay::SampleRun& run) { return rows->Add(run); });
      if (!timestamp_note.empty()) log::Info(kCommand, shown + ": " + timestamp_note);
      MH_RETURN_IF_ERROR(read_rows);
      return rows->EndFile(shown);
    }();
    progress->Advance();
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
  progress->Finish();
  if (rows == nullptr) {
    return Status::Corruption("all " + std::to_string(inputs.files.size()) + " files failed");
  }
  if (*failed > 0) {
    ReportError(
        io, kCommand,
        Status::Corruption(std::to_string(*failed) + " of " + std::to_string(inputs.files.size()) +
                           " files failed (--keep-going: the others were written)"));
  }
  return rows->Finish();
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
  AddProgressOption(*sub, &args->progress);
  sub->add_flag("--no-mag", args->no_mag,
                "Do not add the vector magnitude channel 'mag' (sqrt(ax^2+ay^2+az^2) per "
                "sample: rms_mag, kurtosis_mag, ...), which is on by default with 2+ channels");
  sub->add_option("--dtype", args->dtype,
                  "Sample precision: float64, or float32 to round every sample to float32 "
                  "first, as a float32 logger stores it (Parquet FLOAT columns are float32 "
                  "already)")
      ->capture_default_str();
  AddPipelineOptions(*sub, args->pipeline, PipelineOptionSet{.learning = false, .model = false});
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
  AddOutputOptions(*sub, args->output, "feature rows", /*required=*/true);
  const CLI::Option* hop = sub->get_option("--hop");
  sub->callback([args, hop, foundation, &io, &action] {
    args->hop_given = hop->count() > 0;
    args->foundation_given = foundation->count() > 0;
    action = [args, &io] { return RunFeatures(*args, io); };
  });
}

}  // namespace mh::app
