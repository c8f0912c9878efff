// machine-health replay: publishes the rows of a CSV or Parquet table (a file
// or an http(s) URL) as events, compatible with the prototype's replayer.
//
//   machine-health replay --input FILE|URL --to - [--feature-keys a,b |
//       --feature-count N] [--keep-names] [--sensor-id-column C |
//       --sensor-ids a,b] [--timestamp-column C] [--timestamp-unit U]
//       [--batch N] [--delay S] [--loop] [--rate R | --speed X] [--limit N]
//       [--on-bad error|skip] [--channels ax,ay --fs HZ --window N]
//       [--delimiter D] [--decimal M] [--no-header] [--time-zone TZ]
//       [--column-type NAME=KIND]...
//
// The prototype's environment variables (BATCH_SIZE, DELAY_SEC, LOOP,
// FEATURE_KEYS, FEATURE_COUNT, SENSOR_ID_COLUMN, SENSOR_IDS,
// TIMESTAMP_COLUMN) supply defaults for options not given. See
// docs/replay.md.
#include <cctype>
#include <cstdlib>
#include <ostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "app/builtin_plugins.h"
#include "app/command.h"
#include "app/progress_option.h"
#include "core/epoch_time.h"
#include "core/strings.h"
#include "core/uri.h"
#include "replay/replayer.h"
#include "replay/table_file.h"

namespace mh::app {
namespace {

constexpr const char* kCommand = "replay";

struct ReplayArgs {
  std::string input;
  std::string to;
  std::string feature_keys;
  int feature_count = 0;
  bool keep_names = false;
  std::string sensor_id_column;
  std::string sensor_ids = "sim-1";
  std::string timestamp_column;
  std::string timestamp_unit = "auto";
  std::int64_t batch = 100;
  double delay = 0.5;
  bool loop = false;
  double rate = 0;
  double speed = 0;
  bool rate_given = false;  // --rate/--speed on the command line (0 given is an error)
  bool speed_given = false;
  std::int64_t limit = 0;
  std::string progress = "auto";  // --progress
  std::string on_bad = "error";
  double retry_timeout_s = 60;
  std::string channels;
  double fs = 0;
  std::int64_t window = 0;
  std::string delimiter;
  std::string decimal;
  bool no_header = false;
  std::string time_zone = "UTC";
  std::vector<std::string> column_types;
};

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> out;
  for (const std::string& item : Split(text, ',')) {
    std::string_view s = item;
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    if (!s.empty()) out.emplace_back(s);
  }
  return out;
}

// Applies the prototype's environment variables to options not given.
Status ApplyEnvironment(const CLI::App& sub, ReplayArgs* a) {
  auto env = [](const char* name) -> const char* {
    const char* v = std::getenv(name);
    return v != nullptr && *v != '\0' ? v : nullptr;
  };
  if (sub.count("--batch") == 0) {
    if (const char* v = env("BATCH_SIZE")) {
      auto n = ParseInt(v);
      if (!n.ok() || *n < 1) return Status::InvalidArgument("BATCH_SIZE: expected an integer >= 1");
      a->batch = *n;
    }
  }
  if (sub.count("--delay") == 0) {
    if (const char* v = env("DELAY_SEC")) {
      auto d = ParseDouble(v);
      if (!d.ok() || !(*d >= 0)) return Status::InvalidArgument("DELAY_SEC: expected seconds >= 0");
      a->delay = *d;
    }
  }
  if (sub.count("--loop") == 0) {
    if (const char* v = env("LOOP")) {
      std::string s(v);
      for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      a->loop = s == "1" || s == "true" || s == "yes" || s == "y";
    }
  }
  if (sub.count("--feature-keys") == 0) {
    if (const char* v = env("FEATURE_KEYS")) a->feature_keys = v;
  }
  if (sub.count("--feature-count") == 0) {
    if (const char* v = env("FEATURE_COUNT")) {
      auto n = ParseInt(v);
      if (!n.ok() || *n < 0 || *n > 100000) {
        return Status::InvalidArgument("FEATURE_COUNT: expected an integer >= 0");
      }
      a->feature_count = static_cast<int>(*n);
    }
  }
  if (sub.count("--sensor-id-column") == 0) {
    if (const char* v = env("SENSOR_ID_COLUMN")) a->sensor_id_column = v;
  }
  if (sub.count("--sensor-ids") == 0) {
    if (const char* v = env("SENSOR_IDS")) a->sensor_ids = v;
  }
  if (sub.count("--timestamp-column") == 0) {
    if (const char* v = env("TIMESTAMP_COLUMN")) a->timestamp_column = v;
  }
  return Status::OK();
}

Result<ValueKind> ParseKind(const std::string& s) {
  if (s == "bool") return ValueKind::kBool;
  if (s == "int") return ValueKind::kInt;
  if (s == "double") return ValueKind::kDouble;
  if (s == "string") return ValueKind::kString;
  if (s == "timestamp") return ValueKind::kTimestamp;
  if (s == "date") return ValueKind::kDate;
  if (s == "time") return ValueKind::kTime;
  return Status::InvalidArgument("--column-type: unknown kind '" + s +
                                 "' (bool, int, double, string, timestamp, date, time)");
}

// Builds the replay and table options (InvalidArgument -> exit 2).
Status MakeOptions(const ReplayArgs& a, replay::ReplayOptions* r, replay::TableFileOptions* t) {
  if (auto to = ParseUri(a.to); !to.ok()) return to.status().WithContext("--to");
  r->feature_keys = SplitList(a.feature_keys);
  r->feature_count = a.feature_count;
  r->keep_names = a.keep_names;
  r->sensor_id_column = a.sensor_id_column;
  r->sensor_ids = SplitList(a.sensor_ids);
  r->timestamp_column = a.timestamp_column;
  {
    auto unit = ParseEpochUnit(a.timestamp_unit);
    if (!unit.ok()) return unit.status().WithContext("--timestamp-unit");
    r->timestamp_unit = *unit;
  }
  r->time_zone = a.time_zone;
  if (a.batch < 1) return Status::InvalidArgument("--batch: expected an integer >= 1");
  r->batch = static_cast<std::size_t>(a.batch);
  r->delay_s = a.delay;
  r->loop = a.loop;
  // Given, --rate and --speed must be > 0 (0 is the default "not paced").
  if (a.rate_given && !(a.rate > 0)) {
    return Status::InvalidArgument("--rate: expected events per second > 0");
  }
  if (a.speed_given && !(a.speed > 0)) {
    return Status::InvalidArgument("--speed: expected a factor > 0");
  }
  r->rate = a.rate;
  r->speed = a.speed;
  r->max_events = a.limit;
  r->retry_timeout_s = a.retry_timeout_s;
  if (a.on_bad == "error") {
    r->on_bad = replay::OnBad::kError;
  } else if (a.on_bad == "skip") {
    r->on_bad = replay::OnBad::kSkip;
  } else {
    return Status::InvalidArgument("--on-bad: expected error or skip");
  }
  r->waveform_channels = SplitList(a.channels);
  r->fs_hz = a.fs;
  if (a.window < 0) return Status::InvalidArgument("--window: expected >= 1");
  r->window_samples = static_cast<std::size_t>(a.window);
  if (r->waveform_channels.empty() && (a.fs != 0 || a.window != 0)) {
    return Status::InvalidArgument("--fs and --window need --channels (waveform replay)");
  }
  r->source_name = replay::RedactUrl(a.input);

  csv::CsvOptions& c = t->csv;
  if (a.delimiter.empty()) {
    c.delimiter = '\0';
  } else if (a.delimiter == "," || a.delimiter == ";") {
    c.delimiter = a.delimiter[0];
  } else if (a.delimiter == "tab" || a.delimiter == "\t") {
    c.delimiter = '\t';
  } else {
    return Status::InvalidArgument("--delimiter: expected ',', ';' or tab");
  }
  if (a.decimal.empty()) {
    c.decimal_mark = '\0';
  } else if (a.decimal == "." || a.decimal == ",") {
    c.decimal_mark = a.decimal[0];
  } else {
    return Status::InvalidArgument("--decimal: expected '.' or ','");
  }
  c.header = !a.no_header;
  c.time_zone = a.time_zone;
  c.epoch_unit = r->timestamp_unit;  // for --column-type NAME=timestamp
  for (const std::string& spec : a.column_types) {
    const std::size_t eq = spec.rfind('=');
    if (eq == std::string::npos || eq == 0) {
      return Status::InvalidArgument("--column-type: expected NAME=KIND, got '" + spec + "'");
    }
    MH_ASSIGN_OR_RETURN(ValueKind kind, ParseKind(spec.substr(eq + 1)));
    c.column_types.emplace_back(spec.substr(0, eq), kind);
  }
  // Bad cells reach the replayer as nulls so that --on-bad skip can skip them.
  c.bad_cells_as_null = r->on_bad == replay::OnBad::kSkip;
  return replay::ValidateReplayOptions(*r);
}

int RunReplay(CommandIo& io, const CLI::App& sub, ReplayArgs a) {
  Status env = ApplyEnvironment(sub, &a);
  a.rate_given = sub.count("--rate") > 0;
  a.speed_given = sub.count("--speed") > 0;
  if (!env.ok()) return UsageError(io, kCommand, env.message());
  replay::ReplayOptions options;
  replay::TableFileOptions table_options;
  Status s = MakeOptions(a, &options, &table_options);
  if (!s.ok()) return UsageError(io, kCommand, s.message());

  // A URL is fetched once; every pass re-reads the bytes in memory.
  std::string body;
  const bool url = replay::IsHttpUrl(a.input);
  if (url) {
    auto fetched = replay::FetchUrl(a.input, table_options);
    if (!fetched.ok()) {
      PrintError(io, "replay", fetched.status().message());
      return kExitFailure;
    }
    body = std::move(fetched).value();
  }
  replay::TableOpener open = [&]() -> Result<std::unique_ptr<TableReader>> {
    if (url) return replay::OpenTableBytes(body, options.source_name, table_options);
    return replay::OpenTableFile(a.input, table_options);
  };
  auto publisher_or = OpenPublisher(ParseUri(a.to).value(), io.out);
  if (!publisher_or.ok())
    return ReportOptionError(io, kCommand, publisher_or.status().WithContext("--to"));
  std::unique_ptr<transport::Publisher> publisher = std::move(publisher_or).value();
  // Events out of --limit, else of an unknown total (count and rate only).
  const std::unique_ptr<Progress> progress =
      StartProgress(a.progress, kCommand, a.limit > 0 ? a.limit : 0, "events", io);
  options.on_published = [&progress](std::int64_t n) { progress->Advance(n); };
  auto stats = replay::Replay(open, options, *publisher, replay::SystemReplayClock());
  if (stats.ok()) progress->Finish();
  Status closed = publisher->Close();
  if (!stats.ok()) {
    const Status& e = stats.status();
    PrintError(io, "replay", e.message());
    const bool usage = e.IsInvalidArgument() && e.message().rfind("--", 0) == 0;
    return usage ? kExitUsage : kExitFailure;
  }
  if (!closed.ok()) return ReportError(io, kCommand, closed);
  io.err << "machine-health replay: " << stats->events << " events from " << stats->rows << " rows";
  if (stats->skipped_rows > 0 || options.on_bad == replay::OnBad::kSkip) {
    io.err << ", " << stats->skipped_rows << " rows skipped (bad values)";
  }
  if (stats->dropped_samples > 0) {
    io.err << ", " << stats->dropped_samples << " samples in incomplete windows dropped";
  }
  io.err << "\n";
  return kExitOk;
}

}  // namespace

void AddReplayCommand(CLI::App& root, CommandIo& io, Action& action) {
  auto args = std::make_shared<ReplayArgs>();
  CLI::App* sub = root.add_subcommand(
      "replay", "Publish the rows of a CSV or Parquet table (file or http(s) url) as events");
  sub->add_option("--input", args->input, "CSV or Parquet file, or http(s) url")->required();
  sub->add_option("--to", args->to,
                  "target address: '-' (json lines on stdout), jsonl:PATH, "
                  "kafka://HOST:PORT/TOPIC, eventhubs://NS/HUB, mqtt://HOST:PORT/TOPIC")
      ->required();
  sub->add_option("--feature-keys", args->feature_keys, "feature columns, comma separated");
  sub->add_option("--feature-count", args->feature_count, "use the first N numeric columns");
  sub->add_flag("--keep-names", args->keep_names, "use column names as keys, not feature_N");
  sub->add_option("--sensor-id-column", args->sensor_id_column, "column with the sensor id");
  sub->add_option("--sensor-ids", args->sensor_ids, "round-robin ids, comma separated")
      ->capture_default_str();
  sub->add_option("--timestamp-column", args->timestamp_column, "column with the event time");
  sub->add_option("--timestamp-unit", args->timestamp_unit,
                  "unit of epoch numbers: auto (one unit per column, by dates in 1990..2100; "
                  "else an error), s, ms, us, ns, or prototype (the prototype's per-value "
                  "guess: wrong for epoch seconds, which it reads as ms)")
      ->capture_default_str();
  sub->add_option("--batch", args->batch, "events per batch")->capture_default_str();
  sub->add_option("--delay", args->delay, "seconds between batches")->capture_default_str();
  sub->add_flag("--loop", args->loop, "replay the table again and again");
  sub->add_option("--rate", args->rate, "pace at EVENTS per second");
  sub->add_option("--speed", args->speed, "pace by the table's timestamps, X times faster");
  sub->add_option("--limit", args->limit, "stop after N events (0: no limit)");
  AddProgressOption(*sub, &args->progress);
  sub->add_option("--on-bad", args->on_bad, "error or skip")->capture_default_str();
  sub->add_option("--retry-timeout", args->retry_timeout_s,
                  "seconds to keep retrying a target that is down (0: fail at once)")
      ->check(CLI::Range(0.0, 86400.0))
      ->capture_default_str();
  sub->add_option("--channels", args->channels, "waveform replay: sample columns, e.g. ax,ay,az");
  sub->add_option("--fs", args->fs, "waveform replay: sampling rate in hz");
  sub->add_option("--window", args->window, "waveform replay: samples per event");
  sub->add_option("--delimiter", args->delimiter, "csv: ',', ';' or tab (default: detect)");
  sub->add_option("--decimal", args->decimal, "csv: '.' or ',' (default: detect)");
  sub->add_flag("--no-header", args->no_header, "csv: the first row is data");
  sub->add_option("--time-zone", args->time_zone, "csv: iana zone of local times")
      ->capture_default_str();
  sub->add_option("--column-type", args->column_types, "csv: NAME=KIND (repeatable)");
  sub->callback([&io, &action, sub, args] {
    action = [&io, sub, args] { return RunReplay(io, *sub, *args); };
  });
}

}  // namespace mh::app
