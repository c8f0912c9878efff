// machine-health simulate: writes simulated tri-axial vibration of N machines
// as CSV (or TSV, JSON Lines, Parquet by the --out extension or --format),
// and the ground-truth fault labels as CSV. Deterministic: the same options
// give the same bytes; the start time is an option, never the wall clock.
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include "app/command.h"
#include "app/output_options.h"
#include "core/strings.h"
#include "core/time_util.h"
#include "sim/fault.h"
#include "sim/plant.h"
#include "sim/recording.h"

namespace mh::app {
namespace {

constexpr char kCommand[] = "simulate";

struct SimulateArgs {
  std::string machines = "4";
  std::string duration = "10s";
  std::string fs = "25600";
  std::string seed = "1";
  std::string start = "2026-01-01T00:00:00Z";
  std::vector<std::string> faults;
  OutputArgs output{"-", ""};  // --out, --format
  std::string labels;          // empty: <out>.labels.csv for a file, none for stdout
};

// A file written under a temporary name and renamed into place on Commit, so
// that readers never see a partial file. Removes the temporary on failure.
class AtomicFile {
 public:
  AtomicFile() = default;
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  ~AtomicFile() {
    if (file_ != nullptr) std::fclose(file_);
    if (!temp_.empty()) ::unlink(temp_.c_str());
  }

  Status Open(const std::string& path) {
    path_ = path;
    std::string temp = path + ".tmp-XXXXXX";
    const int fd = ::mkstemp(temp.data());
    if (fd < 0) return Status::IOError("cannot create '" + temp + "': " + std::strerror(errno));
    temp_ = temp;
    file_ = ::fdopen(fd, "wb");
    if (file_ == nullptr) {
      ::close(fd);
      return Status::IOError("cannot open '" + temp_ + "': " + std::strerror(errno));
    }
    return Status::OK();
  }
  Status Write(std::string_view chunk) {
    if (std::fwrite(chunk.data(), 1, chunk.size(), file_) != chunk.size()) {
      return Status::IOError("cannot write '" + temp_ + "': " + std::strerror(errno));
    }
    return Status::OK();
  }
  Status Commit() {
    const bool flushed = std::fflush(file_) == 0 && ::fsync(::fileno(file_)) == 0;
    const int saved = errno;
    const bool closed = std::fclose(file_) == 0;
    file_ = nullptr;
    if (!flushed || !closed) {
      return Status::IOError("cannot write '" + temp_ +
                             "': " + std::strerror(flushed ? errno : saved));
    }
    // mkstemp creates 0600; give the file the usual permissions.
    const mode_t mask = ::umask(0);
    ::umask(mask);
    ::chmod(temp_.c_str(), 0666 & ~mask);
    if (std::rename(temp_.c_str(), path_.c_str()) != 0) {
      return Status::IOError("cannot rename '" + temp_ + "' to '" + path_ +
                             "': " + std::strerror(errno));
    }
    temp_.clear();
    return Status::OK();
  }

 private:
  std::string path_;
  std::string temp_;
  std::FILE* file_ = nullptr;
};

int RunSimulate(const SimulateArgs& args, CommandIo& io) {
  auto usage = [&](const std::string& message) { return UsageError(io, kCommand, message); };
  sim::PlantOptions plant;
  auto machines = ParseInt(args.machines);
  if (!machines.ok()) return usage("--machines: " + machines.status().message());
  if (*machines < 1 || *machines > sim::kMaxMachines) {
    return usage("--machines: must be in 1.." + std::to_string(sim::kMaxMachines) + ", got " +
                 args.machines);
  }
  plant.machines = static_cast<int>(*machines);
  auto fs = ParseDouble(args.fs);
  if (!fs.ok()) return usage("--fs: " + fs.status().message());
  if (!(*fs > 0) || !(*fs <= sim::kMaxSampleRateHz)) {
    return usage("--fs: sample rate must be > 0 and <= 10000000 hz, got " + args.fs);
  }
  plant.sample_rate_hz = *fs;
  auto duration = ParseDuration(args.duration);
  if (!duration.ok()) return usage("--duration: " + duration.status().message());
  const double duration_s = static_cast<double>(duration->count()) / 1e9;
  const double samples_d = std::round(duration_s * *fs);
  if (!(samples_d >= 1))
    return usage("--duration: must cover at least one sample, got " + args.duration);
  if (samples_d > 9e15) return usage("--duration: too long, got " + args.duration);
  const auto samples = static_cast<std::int64_t>(samples_d);
  {
    std::uint64_t seed = 0;
    const char* begin = args.seed.data();
    const char* end = begin + args.seed.size();
    auto [ptr, ec] = std::from_chars(begin, end, seed);
    if (args.seed.empty() || ec != std::errc() || ptr != end) {
      return usage("--seed: '" + args.seed + "' is not an integer in 0..18446744073709551615");
    }
    plant.seed = seed;
  }
  auto start = ParseInstant(args.start);
  if (!start.ok()) return usage("--start: " + start.status().message());
  for (const std::string& text : args.faults) {
    auto fault = sim::ParseFaultSpec(text);
    if (!fault.ok()) return usage("--fault: " + fault.status().message());
    plant.faults.push_back(*fault);
  }
  auto configs = sim::MakePlant(plant);
  if (!configs.ok()) return usage("--fault: " + configs.status().message());
  if (args.output.out.empty()) return usage("--out: must be a file or '-'");
  Result<tableio::TableFormat> format = ResolveOutputFormat(args.output);
  if (!format.ok()) return usage(format.status().message());
  const std::string& out = args.output.out;
  std::string labels_path = args.labels;
  if (labels_path == "-") return usage("--labels: must be a file, not '-'");
  if (labels_path.empty() && out != "-") labels_path = out + ".labels.csv";
  if (!labels_path.empty() && labels_path == out) {
    return usage("--labels: must differ from --out");
  }

  // Both files are written under temporary names and renamed at the end, so
  // a failure leaves neither a partial data file nor orphan labels.
  AtomicFile data_file, labels_file;
  // CSV keeps its own fast writer (the documented 6-decimal text); the other
  // formats go through tableio (app/output_options.h).
  const bool csv = *format == tableio::TableFormat::kCsv;
  std::unique_ptr<tableio::TableOutput> table_out;
  if (!csv) {
    const std::vector<TableColumnInfo> schema = {
        {"timestamp", ValueKind::kTimestamp, 9}, {"machine_id", ValueKind::kString, 9},
        {"sensor_id", ValueKind::kString, 9},    {"ax", ValueKind::kDouble, 9},
        {"ay", ValueKind::kDouble, 9},           {"az", ValueKind::kDouble, 9}};
    auto opened = OpenOutput(args.output, schema, io.out);
    if (!opened.ok()) return ReportError(io, kCommand, opened.status().WithContext("--out"));
    table_out = std::move(*opened);
  } else if (out != "-") {
    Status s = data_file.Open(out);
    if (!s.ok()) return ReportError(io, kCommand, s.WithContext("--out"));
  }
  if (!labels_path.empty()) {
    Status s = labels_file.Open(labels_path);
    if (!s.ok()) return ReportError(io, kCommand, s.WithContext("--labels"));
  }
  if (!csv) {
    Status s = sim::GenerateData(*configs, *start, samples,
                                 [&table_out](const TableBatch& b) { return table_out->Write(b); });
    if (s.ok()) s = table_out->Close();
    if (!s.ok()) return ReportError(io, kCommand, s.WithContext("--out"));
  } else if (out == "-") {
    Status s = sim::WriteDataCsv(*configs, *start, samples, [&io](std::string_view chunk) {
      io.out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
      return io.out.good() ? Status::OK() : Status::IOError("cannot write standard output");
    });
    io.out.flush();
    if (!s.ok()) return ReportError(io, kCommand, s.WithContext("--out"));
  } else {
    Status s = sim::WriteDataCsv(*configs, *start, samples, [&data_file](std::string_view chunk) {
      return data_file.Write(chunk);
    });
    if (s.ok()) s = data_file.Commit();
    if (!s.ok()) return ReportError(io, kCommand, s.WithContext("--out"));
  }
  if (!labels_path.empty()) {
    Status s = sim::WriteLabelsCsv(
        *configs, *start, duration_s,
        [&labels_file](std::string_view chunk) { return labels_file.Write(chunk); });
    if (s.ok()) s = labels_file.Commit();
    if (!s.ok()) return ReportError(io, kCommand, s.WithContext("--labels"));
  }
  if (out == "-") return kExitOk;
  io.err << "machine-health simulate: wrote " << samples * plant.machines << " rows ("
         << plant.machines << " machines x " << samples << " samples) to " << out;
  if (!labels_path.empty()) io.err << ", labels to " << labels_path;
  io.err << "\n";
  return kExitOk;
}

}  // namespace

void AddSimulateCommand(CLI::App& root, CommandIo& io, Action& action) {
  auto args = std::make_shared<SimulateArgs>();
  CLI::App* sub = root.add_subcommand(
      "simulate",
      "Write simulated tri-axial vibration (g) of N machines as CSV "
      "(timestamp,machine_id,sensor_id,ax,ay,az), plus ground-truth fault labels.");
  sub->add_option("--machines", args->machines, "Number of machines m1..mN")
      ->type_name("N")
      ->capture_default_str();
  sub->add_option("--duration", args->duration, "Simulated duration, e.g. 90s, 10m")
      ->type_name("DURATION")
      ->capture_default_str();
  sub->add_option("--fs", args->fs, "Sample rate per axis, Hz")
      ->type_name("HZ")
      ->capture_default_str();
  sub->add_option("--seed", args->seed, "Plant seed; same seed -> same bytes")
      ->type_name("N")
      ->capture_default_str();
  sub->add_option("--start", args->start, "Timestamp of the first sample (RFC 3339)")
      ->type_name("RFC3339")
      ->capture_default_str();
  sub->add_option("--fault", args->faults,
                  "MACHINE:KIND[@START[/RAMP]] (repeatable); kinds: outer-race, inner-race, "
                  "imbalance, misalignment, looseness; e.g. 3:outer-race@40s")
      ->type_name("SPEC")
      ->allow_extra_args(false);
  AddOutputOptions(*sub, args->output, "samples (CSV is written with 6 decimals, exact)",
                   /*required=*/false)
      ->type_name("FILE")
      ->capture_default_str();
  sub->add_option("--labels", args->labels,
                  "Labels CSV (timestamp,machine_id,fault,severity every 0.1 s); default "
                  "<out>.labels.csv when --out is a file, none for standard output")
      ->type_name("FILE");
  sub->callback([args, &io, &action] { action = [args, &io] { return RunSimulate(*args, io); }; });
}

}  // namespace mh::app
