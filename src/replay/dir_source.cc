#include "replay/dir_source.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include <fnmatch.h>
#include <sys/stat.h>

#include "codec/waveform_binary.h"
#include "core/file_util.h"
#include "core/strings.h"
#include "core/table.h"
#include "core/time_util.h"
#include "csv/timestamp_column.h"
#include "log/log.h"
#include "replay/input_files.h"
#include "replay/sample_columns.h"
#include "replay/sample_file.h"
#include "replay/table_file.h"

namespace mh::replay {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr const char* kComponent = "dir";
constexpr const char* kStateHeader = "# machine-health dir progress v1";
constexpr std::int64_t kDayNs = 86'400'000'000'000;

// One data file seen by a scan.
struct FileEntry {
  std::string machine;
  std::string name;  // file name, without folder
  std::string path;
  std::uintmax_t size = 0;
  std::int64_t mtime_ns = 0;
};

// Size and mtime of a regular file (lstat would not follow a symlink into
// place; stat does). false when it is gone or not a regular file.
bool StatFile(const std::string& path, std::uintmax_t* size, std::int64_t* mtime_ns) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  *size = static_cast<std::uintmax_t>(st.st_size);
  *mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  return true;
}

// A file being written under a temporary name: "*.tmp", or "*.tmp-*" as
// machine-health's own writers name theirs (simulate, the Parquet writer).
bool IsTemporaryName(std::string_view name) {
  const std::string lower = AsciiLower(name);
  return EndsWith(lower, ".tmp") || lower.find(".tmp-") != std::string::npos;
}

// The instant with time of day `tod_ns` (UTC) nearest to `near_ns`.
std::int64_t NearestTimeOfDay(std::int64_t tod_ns, std::int64_t near_ns) {
  std::int64_t day = near_ns / kDayNs;
  if (near_ns % kDayNs < 0) --day;
  std::int64_t best = day * kDayNs + tod_ns;
  for (const std::int64_t d : {day - 1, day + 1}) {
    const std::int64_t t = d * kDayNs + tod_ns;
    if (std::llabs(t - near_ns) < std::llabs(best - near_ns)) best = t;
  }
  return best;
}

// Reads one snapshot file into a binary waveform record (machine = sensor
// id). Errors name the file.
Status ReadSnapshot(const DirSourceOptions& o, const FileEntry& f, std::string* payload,
                    std::int64_t* event_ns) {
  const std::string& shown = f.path;
  MH_ASSIGN_OR_RETURN(std::unique_ptr<TableReader> reader,
                      OpenTableFile(f.path, TableFileOptions{}));
  const std::vector<TableColumnInfo>& cols = reader->columns();
  TableBatch batch;
  MH_RETURN_IF_ERROR(reader->Next(&batch).status());
  if (batch.rows == 0) return Status::Corruption(shown + ": no samples after the header");
  std::vector<std::string> names = o.channels;
  if (names.empty()) {
    MH_ASSIGN_OR_RETURN(DefaultChannels chosen,
                        ChooseDefaultChannels(shown, cols, batch, "?channels="));
    names = std::move(chosen.channels);
  }
  // Event time of the first row (see the header for the order).
  const std::ptrdiff_t ts_col = FindColumn(cols, "timestamp");
  const std::vector<std::size_t> tod =
      ts_col < 0 ? TimeOfDayColumns(cols) : std::vector<std::size_t>{};
  if (ts_col >= 0) {
    csv::TimestampColumnOptions to;
    to.source = shown;
    MH_ASSIGN_OR_RETURN(csv::TimestampColumnReader ts, csv::TimestampColumnReader::Make(to));
    std::vector<std::int64_t> ns;
    std::vector<std::uint8_t> valid;
    MH_RETURN_IF_ERROR(
        ts.Convert(batch.columns[static_cast<std::size_t>(ts_col)], batch.first_row, &ns, &valid));
    if (!valid[0]) return Status::Corruption(shown + ": row 1: column 'timestamp' is null");
    *event_ns = ns[0];
  } else if (!tod.empty()) {
    MH_ASSIGN_OR_RETURN(const std::int64_t tod_ns, TimeOfDayNs(batch, tod, 0, shown));
    *event_ns = NearestTimeOfDay(tod_ns, f.mtime_ns);
  } else if (auto from_name = FileNameTimeNs(f.name)) {
    *event_ns = *from_name;
  } else {
    *event_ns = f.mtime_ns;
  }

  // The samples: the one reader of snapshot files (replay/sample_file.h),
  // from the rows already read on.
  SampleFileOptions so;
  so.channels = names;
  so.max_rows = o.max_samples_per_channel;
  MH_ASSIGN_OR_RETURN(const SampleFile file,
                      ReadSamples(*reader, batch, /*have_first=*/true, shown, so));
  codec::WaveformHeader h;
  h.sensor_id = f.machine;
  h.has_timestamp = true;
  h.timestamp_ns = *event_ns;
  const auto fs_entry = o.fs_by_machine.find(f.machine);
  h.fs_hz = fs_entry != o.fs_by_machine.end() ? fs_entry->second : o.fs_hz;
  if (!(h.fs_hz > 0)) {
    return Status::Corruption(shown + ": no sampling rate for machine '" + f.machine +
                              "' (add ?fs=HZ or the machine to the registry)");
  }
  h.type = codec::SampleType::kFloat64;
  Status s = codec::AppendWaveformBinary(h, file.channels, file.samples, o.max_samples_per_channel,
                                         payload);
  if (!s.ok()) return Status::Corruption(shown + ": " + s.message());
  return Status::OK();
}

class DirSubscriber final : public transport::Subscriber {
 public:
  DirSubscriber(DirSourceOptions o, std::string state_path, std::string default_machine,
                std::map<std::string, std::string> committed)
      : o_(std::move(o)),
        state_path_(std::move(state_path)),
        default_machine_(std::move(default_machine)),
        committed_(committed),
        handed_(std::move(committed)) {}

  Result<std::vector<transport::Message>> Poll(std::size_t max_messages,
                                               std::chrono::milliseconds timeout) override {
    std::vector<transport::Message> out;
    if (closed_ || at_end_ || max_messages == 0) return out;
    const Clock::time_point deadline = Clock::now() + timeout;
    for (;;) {
      const Clock::time_point now = Clock::now();
      if (!scanned_ || (!o_.once && now >= next_scan_)) {
        Scan(now);
        next_scan_ = now + o_.scan_interval;
      }
      std::vector<const FileEntry*> ready = Ready(max_messages);
      for (const FileEntry* f : ready) out.push_back(Read(*f));
      if (o_.once && Ready(1).empty()) at_end_ = true;
      if (!out.empty() || at_end_) return out;
      const Clock::time_point again = Clock::now();
      if (again >= deadline) return out;
      std::this_thread::sleep_until(std::min(next_scan_, deadline));
    }
  }

  Status Commit() override {
    if (closed_) return Status::InvalidArgument("dir: commit after close");
    if (handed_ == committed_) return Status::OK();
    std::string text = std::string(kStateHeader) + "\n";
    for (const auto& [machine, name] : handed_) {
      text += PercentEncode(machine) + " " + PercentEncode(name) + "\n";
    }
    Status s = WriteFileAtomic(state_path_, text);
    if (!s.ok()) return Status::Unavailable("dir: progress not saved: " + s.message());
    committed_ = handed_;
    return Status::OK();
  }

  Status Close() override {
    closed_ = true;
    return Status::OK();
  }

  bool AtEnd() const override { return at_end_; }

 private:
  struct Seen {
    FileEntry entry;
    Clock::time_point since;  // first scan that saw this size and mtime
  };

  // The last file handed out for `machine`, "" when none (no entry is made:
  // the progress file lists machines that have a file).
  const std::string& Mark(const std::string& machine) const {
    static const std::string kNone;
    const auto i = handed_.find(machine);
    return i == handed_.end() ? kNone : i->second;
  }

  bool Wanted(const std::string& name) const {
    if (name.empty() || name[0] == '.' || IsTemporaryName(name)) return false;
    if (o_.pattern.empty()) return IsDataFileName(name);
    return ::fnmatch(o_.pattern.c_str(), name.c_str(), 0) == 0;
  }

  // Adds the wanted files of `folder` to seen_ (and their paths to
  // *present). false when the folder could not be listed completely.
  bool AddFiles(const fs::path& folder, const std::string& machine, Clock::time_point now,
                std::set<std::string>* present) {
    std::error_code ec;
    // increment(ec), not a range-for: a folder changing under the iterator
    // must not throw.
    for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (!Wanted(name)) continue;
      FileEntry f;
      f.machine = machine;
      f.name = name;
      f.path = it->path().string();
      if (!StatFile(f.path, &f.size, &f.mtime_ns)) continue;  // not a file, or gone meanwhile
      present->insert(f.path);
      auto found = seen_.find(f.path);
      if (found == seen_.end()) {
        const std::string& mark = Mark(machine);
        if (scanned_ && !mark.empty() && !NaturalLess(mark, name)) {
          log::Warn(kComponent, f.path + ": arrived after later files of machine '" + machine +
                                    "' were read; skipped (files are read in name order)");
        }
        seen_.emplace(f.path, Seen{f, now});
      } else if (found->second.entry.size != f.size || found->second.entry.mtime_ns != f.mtime_ns) {
        found->second = Seen{f, now};
      }
    }
    if (ec) {
      if (!listing_failed_) {
        log::Warn(kComponent, folder.string() + ": cannot list: " + ec.message());
      }
      return false;
    }
    return true;
  }

  void Scan(Clock::time_point now) {
    std::set<std::string> present;
    bool complete = AddFiles(o_.path, default_machine_, now, &present);
    std::error_code ec;
    for (fs::directory_iterator it(o_.path, ec), end; !ec && it != end; it.increment(ec)) {
      const std::string name = it->path().filename().string();
      std::error_code tec;
      if (name.empty() || name[0] == '.' || !it->is_directory(tec)) continue;
      complete = AddFiles(it->path(), name, now, &present) && complete;
    }
    complete = complete && !ec;
    // Files no longer there are forgotten, but only after a complete listing:
    // a folder that could not be listed keeps what was seen of it.
    if (complete) {
      for (auto i = seen_.begin(); i != seen_.end();) {
        i = present.count(i->first) ? std::next(i) : seen_.erase(i);
      }
    }
    if (complete && listing_failed_) log::Info(kComponent, o_.path + ": listed again");
    listing_failed_ = !complete;
    last_scan_ = now;
    scanned_ = true;
  }

  // Up to `max` files to read next: per machine in natural order after its
  // mark, stopping at the first file that is not complete; machines in turn.
  std::vector<const FileEntry*> Ready(std::size_t max) {
    std::map<std::string, std::vector<const FileEntry*>> per_machine;
    for (const auto& [path, seen] : seen_) {
      const std::string& mark = Mark(seen.entry.machine);
      if (!mark.empty() && !NaturalLess(mark, seen.entry.name)) continue;
      per_machine[seen.entry.machine].push_back(&seen.entry);
    }
    std::vector<std::vector<const FileEntry*>> queues;
    for (auto& [machine, files] : per_machine) {
      std::sort(files.begin(), files.end(), [](const FileEntry* a, const FileEntry* b) {
        return NaturalLess(a->name, b->name);
      });
      std::vector<const FileEntry*> complete;
      for (const FileEntry* f : files) {
        if (!o_.once && last_scan_ - seen_.at(f->path).since < o_.settle) break;
        complete.push_back(f);
      }
      if (!complete.empty()) queues.push_back(std::move(complete));
    }
    std::vector<const FileEntry*> out;
    for (std::size_t round = 0; out.size() < max; ++round) {
      bool any = false;
      for (const auto& q : queues) {
        if (round < q.size() && out.size() < max) {
          out.push_back(q[round]);
          any = true;
        }
      }
      if (!any) break;
    }
    return out;
  }

  transport::Message Read(const FileEntry& f) {
    transport::Message m;
    m.key = f.machine;
    m.origin = f.path;
    std::string payload;
    std::int64_t event_ns = 0;
    Status s = Status::OK();
    try {
      s = ReadSnapshot(o_, f, &payload, &event_ns);
    } catch (const std::exception& e) {  // never let a file stop the source
      s = Status::Internal(f.path + ": " + e.what());
    }
    if (!s.ok()) {
      std::string reason = s.message();
      if (reason.rfind(f.path, 0) != 0) reason = f.path + ": " + reason;
      log::Warn(kComponent, reason);
      payload.clear();
      codec::AppendWaveformError("dir: " + reason, &payload);
      event_ns = f.mtime_ns;
    }
    transport::AssignPayload(m.payload, payload);
    m.timestamp_ns = event_ns;
    handed_[f.machine] = f.name;
    return m;
  }

  DirSourceOptions o_;
  std::string state_path_;
  std::string default_machine_;
  std::map<std::string, std::string> committed_;  // machine -> last committed file name
  std::map<std::string, std::string> handed_;     // machine -> last file handed out
  std::map<std::string, Seen> seen_;              // path -> what the scans saw
  Clock::time_point last_scan_{};
  Clock::time_point next_scan_{};
  bool scanned_ = false;
  bool listing_failed_ = false;  // the last scan could not list everything (logged once)
  bool at_end_ = false;
  bool closed_ = false;
};

Result<std::map<std::string, std::string>> LoadState(const std::string& path) {
  std::map<std::string, std::string> marks;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::error_code ec;
    if (fs::exists(path, ec)) return Status::IOError(path + ": cannot read the progress file");
    return marks;
  }
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.empty() || line[0] == '#') continue;
    const std::size_t sp = line.find(' ');
    auto machine = PercentDecode(line.substr(0, sp));
    auto name = sp == std::string::npos ? Result<std::string>(Status::InvalidArgument("no file"))
                                        : PercentDecode(line.substr(sp + 1));
    if (!machine.ok() || !name.ok() || machine->empty() || name->empty()) {
      return Status::Corruption(path + ": line " + std::to_string(n) +
                                ": expected 'MACHINE FILE' (percent-encoded)");
    }
    marks[*machine] = *name;
  }
  return marks;
}

}  // namespace

Result<DirSourceOptions> DirSourceOptionsFromUri(const Uri& uri, bool fs_optional) {
  MH_RETURN_IF_ERROR(uri.CheckParams(
      {"fs", "channels", "pattern", "machine", "state", "once", "scan_ms", "settle_ms"}));
  DirSourceOptions o;
  o.path = uri.path;
  if (o.path.empty()) {
    return Status::InvalidArgument("'" + uri.text +
                                   "': a folder is needed, e.g. dir:/data/logger?fs=25600");
  }
  auto bad = [&](std::string_view param, const std::string& what) {
    return Status::InvalidArgument("'" + uri.text + "': ?" + std::string(param) + "=: " + what);
  };
  if (uri.HasParam("fs")) {
    auto fs_hz = ParseDouble(uri.Param("fs"));
    if (!fs_hz.ok() || !(*fs_hz > 0) || !std::isfinite(*fs_hz)) {
      return bad("fs", "'" + uri.Param("fs") + "' is not a sampling rate in Hz > 0");
    }
    o.fs_hz = *fs_hz;
  } else if (!fs_optional) {
    return Status::InvalidArgument("'" + uri.text +
                                   "': the sampling rate is needed: add ?fs=HZ (e.g. ?fs=25600)");
  }
  if (uri.HasParam("channels")) {
    for (const std::string& c : Split(uri.Param("channels"), ',')) {
      const std::string name(TrimSpace(c));
      if (name.empty()) return bad("channels", "empty channel name");
      if (std::find(o.channels.begin(), o.channels.end(), name) != o.channels.end()) {
        return bad("channels", "channel '" + name + "' listed twice");
      }
      o.channels.push_back(name);
    }
  }
  o.pattern = uri.Param("pattern");
  o.machine = uri.Param("machine");
  o.state_path = uri.Param("state");
  const std::string once = uri.Param("once", "0");
  if (once != "0" && once != "1" && once != "true" && once != "false") {
    return bad("once", "'" + once + "', expected 1 or 0");
  }
  o.once = once == "1" || once == "true";
  auto millis = [&](std::string_view param, std::chrono::milliseconds* out) -> Status {
    if (!uri.HasParam(param)) return Status::OK();
    auto v = ParseInt(uri.Param(param));
    if (!v.ok() || *v < 1 || *v > 3'600'000) {
      return bad(param, "'" + uri.Param(param) + "', expected milliseconds 1..3600000");
    }
    *out = std::chrono::milliseconds(*v);
    return Status::OK();
  };
  MH_RETURN_IF_ERROR(millis("scan_ms", &o.scan_interval));
  MH_RETURN_IF_ERROR(millis("settle_ms", &o.settle));
  return o;
}

Result<std::unique_ptr<transport::Subscriber>> NewDirSubscriber(const DirSourceOptions& options) {
  if (options.fs_by_machine.empty() && (!(options.fs_hz > 0) || !std::isfinite(options.fs_hz))) {
    return Status::InvalidArgument("dir:" + options.path +
                                   ": the sampling rate is needed: add ?fs=HZ (e.g. ?fs=25600)");
  }
  for (const auto& [machine, fs_hz] : options.fs_by_machine) {
    if (!(fs_hz > 0) || !std::isfinite(fs_hz)) {
      return Status::InvalidArgument("dir:" + options.path + ": machine '" + machine +
                                     "': sampling rate " + FormatDouble(fs_hz) + " is not > 0");
    }
  }
  std::error_code ec;
  if (!fs::is_directory(options.path, ec)) {
    return Status::NotFound("dir:" + options.path + ": not a folder");
  }
  std::string machine = options.machine;
  if (machine.empty()) {
    fs::path canonical = fs::weakly_canonical(options.path, ec);
    if (ec) canonical = fs::path(options.path);
    machine = canonical.filename().string();
    if (machine.empty()) machine = canonical.parent_path().filename().string();  // "x/"
    if (machine.empty()) machine = "dir";
  }
  std::string state = options.state_path;
  if (state.empty()) state = (fs::path(options.path) / ".machine-health-progress").string();
  MH_ASSIGN_OR_RETURN(auto marks, LoadState(state));
  return std::unique_ptr<transport::Subscriber>(
      new DirSubscriber(options, state, machine, std::move(marks)));
}

}  // namespace mh::replay
