// machine-health features: computes window features from a CSV of samples.
//
//   machine-health features --input FILE.csv --fs HZ [--channels ax,ay,az]
//       [--window 2560] [--hop N] [--bands 0-200,200-1000] [--set basic|full]
//       [--unit g|m/s2] --out FILE|-
//
// Input: a header row, then one row per sample; one column per channel
// (other columns are ignored). With a `machine_id` column, windows are cut per
// machine; with a `timestamp` column, window_start is its text for the
// window's first sample instead of the sample index. The CSV dialect is
// deliberately minimal (comma separated, no quoting, header required): a full
// reader is another component's job.
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
#include "features/window_features.h"

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
  std::string out;
  std::string set = "basic";
  std::string unit = "g";
};

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// Splits one CSV line on commas, trimming blanks and a trailing '\r'.
std::vector<std::string_view> SplitFields(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (true) {
    const std::size_t pos = line.find(',', start);
    if (pos == std::string_view::npos) {
      out.push_back(Trim(line.substr(start)));
      return out;
    }
    out.push_back(Trim(line.substr(start, pos - start)));
    start = pos + 1;
  }
}

// "0-200,200-1000" -> bands. InvalidArgument naming the bad item.
Result<std::vector<features::Band>> ParseBands(const std::string& text) {
  std::vector<features::Band> bands;
  if (Trim(text).empty()) return bands;
  for (const std::string& item : Split(text, ',')) {
    const std::string_view s = Trim(item);
    const std::size_t dash = s.find('-', 1);
    if (dash == std::string_view::npos) {
      return Status::InvalidArgument("--bands: '" + std::string(s) + "' is not LO-HI");
    }
    auto lo = ParseDouble(Trim(s.substr(0, dash)));
    auto hi = ParseDouble(Trim(s.substr(dash + 1)));
    if (!lo.ok() || !hi.ok()) {
      return Status::InvalidArgument("--bands: '" + std::string(s) + "' is not LO-HI in hz");
    }
    bands.push_back({*lo, *hi});
  }
  return bands;
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
    const std::string_view name = Trim(c);
    if (name.empty()) return Status::InvalidArgument("--channels: empty channel name");
    o.channels.emplace_back(name);
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
  return o;
}

// Samples of one machine not yet cut into windows.
struct MachineState {
  std::vector<std::vector<double>> samples;  // per channel
  std::vector<std::string> timestamps;       // per sample, if a timestamp column exists
  std::uint64_t first_index = 0;             // index (in this machine) of samples[c][0]
  std::uint64_t skip = 0;                    // samples still to drop (hop > window)
};

class FeatureCsvWriter {
 public:
  FeatureCsvWriter(std::ostream& out, bool with_machine) : out_(out), machine_(with_machine) {}

  void Header(const std::vector<std::string>& names) {
    out_ << "window_start";
    if (machine_) out_ << ",machine_id";
    for (const auto& n : names) out_ << "," << n;
    out_ << "\n";
  }
  void Row(const std::string& start, const std::string& machine, const std::vector<double>& v) {
    out_ << start;
    if (machine_) out_ << "," << machine;
    for (double x : v) out_ << "," << FormatDouble(x);
    out_ << "\n";
  }

 private:
  std::ostream& out_;
  bool machine_;
};

// Reads `a.input` and writes one row per full window to `out`. IOError for an
// unreadable file, Corruption (naming file, line and column) for bad data.
Status ComputeFeatures(const FeaturesArgs& a, features::WindowFeatureExtractor& ex,
                       std::ostream& out) {
  const std::string& file = a.input;
  std::ifstream in(file);
  if (!in) return Status::IOError(file + ": cannot open for reading");
  const features::FeatureOptions& o = ex.options();
  const std::size_t window = o.window_samples;
  const std::size_t hop = a.hop_given ? static_cast<std::size_t>(a.hop) : window;

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

  FeatureCsvWriter writer(out, machine_col >= 0);
  writer.Header(ex.names());

  std::map<std::string, MachineState> machines;
  std::vector<std::span<const double>> spans(o.channels.size());
  std::vector<double> values(ex.names().size());
  std::vector<double> row_values(o.channels.size());
  std::uint64_t line_no = 1;
  while (std::getline(in, line)) {
    ++line_no;
    if (Trim(line).empty()) continue;
    const std::string where = file + ": line " + std::to_string(line_no);
    const std::vector<std::string_view> fields = SplitFields(line);
    if (fields.size() != header.size()) {
      return Status::Corruption(where + ": expected " + std::to_string(header.size()) +
                                " fields as in the header, got " + std::to_string(fields.size()));
    }
    const std::string machine = machine_col >= 0 ? std::string(fields[machine_col]) : "";
    MachineState& m = machines[machine];
    if (m.samples.empty()) m.samples.resize(o.channels.size());
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
    if (m.skip > 0) {
      --m.skip;
      ++m.first_index;
      continue;
    }
    for (std::size_t c = 0; c < channel_col.size(); ++c) m.samples[c].push_back(row_values[c]);
    if (ts_col >= 0) m.timestamps.emplace_back(fields[ts_col]);
    if (m.samples[0].size() < window) continue;

    for (std::size_t c = 0; c < spans.size(); ++c) spans[c] = m.samples[c];
    Status s = ex.Compute(spans, values);
    if (!s.ok()) return Status::Internal(where + ": " + s.message());
    writer.Row(ts_col >= 0 ? m.timestamps.front() : std::to_string(m.first_index), machine, values);
    const std::size_t drop = std::min(hop, window);
    for (auto& ch : m.samples) ch.erase(ch.begin(), ch.begin() + static_cast<std::ptrdiff_t>(drop));
    if (ts_col >= 0) {
      m.timestamps.erase(m.timestamps.begin(),
                         m.timestamps.begin() + static_cast<std::ptrdiff_t>(drop));
    }
    m.first_index += drop;
    m.skip = hop - drop;
  }
  if (in.bad()) return Status::IOError(file + ": read error");
  return Status::OK();
}

int RunFeatures(const FeaturesArgs& a, CommandIo& io) {
  auto options = MakeOptions(a);
  if (!options.ok()) return UsageError(io, kCommand, options.status().message());
  auto ex = features::WindowFeatureExtractor::Create(*options);
  if (!ex.ok()) {
    const std::string& m = ex.status().message();
    return UsageError(io, kCommand, (m.rfind("band", 0) == 0 ? "--bands: " : "") + m);
  }

  if (a.out == "-") {
    Status s = ComputeFeatures(a, **ex, io.out);
    io.out.flush();
    return s.ok() ? kExitOk : ReportError(io, kCommand, s);
  }
  // Write next to the target and rename, so a failed run leaves no half file.
  const std::string tmp = a.out + ".tmp";
  Status s;
  {
    std::ofstream file(tmp, std::ios::trunc);
    if (!file) {
      return ReportError(io, kCommand, Status::IOError(a.out + ": cannot open for writing"));
    }
    s = ComputeFeatures(a, **ex, file);
    file.flush();
    if (s.ok() && !file) s = Status::IOError(a.out + ": write failed");
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
  return kExitOk;
}

}  // namespace

void AddFeaturesCommand(CLI::App& root, CommandIo& io, Action& action) {
  auto args = std::make_shared<FeaturesArgs>();
  CLI::App* sub = root.add_subcommand(
      "features",
      "Compute window features (RMS, kurtosis, spectral peak, band energy...) from a "
      "CSV of vibration samples");
  sub->add_option("--input", args->input, "CSV with a header and one column per channel")
      ->required();
  sub->add_option("--fs", args->fs, "Sampling rate in Hz")->required();
  sub->add_option("--channels", args->channels, "Comma-separated channel columns")
      ->capture_default_str();
  sub->add_option("--window", args->window, "Samples per window")->capture_default_str();
  CLI::Option* hop =
      sub->add_option("--hop", args->hop, "Samples between window starts (default: the window)");
  sub->add_option("--bands", args->bands, "Comma-separated LO-HI bands in Hz, e.g. 0-200,200-1000")
      ->capture_default_str();
  sub->add_option("--set", args->set, "Feature set: basic or full")->capture_default_str();
  sub->add_option("--unit", args->unit, "Unit of the samples for velocity_rms: g or m/s2")
      ->capture_default_str();
  sub->add_option("--out", args->out, "Output CSV file, or - for standard output")->required();
  sub->callback([args, hop, &io, &action] {
    args->hop_given = hop->count() > 0;
    action = [args, &io] { return RunFeatures(*args, io); };
  });
}

}  // namespace mh::app
