// The replayer: reads a table (CSV or Parquet, see replay/table_file.h) and
// publishes one event per row (feature rows) or per window of samples (raw
// waveforms), batched and paced, compatible with the prototype's replayer.
// See docs/replay.md for every rule.
//
// Thread safety: Replay runs on the calling thread; its arguments must not be
// used elsewhere meanwhile.
#ifndef MH_REPLAY_REPLAYER_H_
#define MH_REPLAY_REPLAYER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/epoch_time.h"
#include "core/result.h"
#include "core/table.h"
#include "transport/transport.h"

namespace mh::replay {

// Unit of numeric timestamps: the one rule of core/epoch_time.h (kAuto: one
// unit per column by the plausible range of dates, else an error;
// kPrototype: the prototype's per-value guess, wrong for epoch seconds).
using TimestampUnit = ::mh::EpochUnit;

// What a value that is not a number (text, null, NaN, infinity) does.
enum class OnBad : std::uint8_t {
  kError = 0,  // stop with InvalidArgument naming row and column
  kSkip = 1,   // skip the row, count it in ReplayStats::skipped_rows
};

// The largest --window (samples per waveform event): 16 Mi samples, 11
// minutes at 25.6 kHz. Window buffers grow with the input read, so memory
// stays bounded by the input, not by the option.
inline constexpr std::size_t kMaxWindowSamples = std::size_t{1} << 24;

struct ReplayOptions {
  // --- Features (feature-row mode) ---
  // Columns to publish, in order. Empty: the first feature_count numeric
  // columns (bool, int, double), or all of them when feature_count is 0. The
  // sensor-id and timestamp columns are never picked automatically.
  std::vector<std::string> feature_keys;
  int feature_count = 0;
  // Keys are "feature_1".."feature_N" (the prototype's), or with keep_names
  // the column names.
  bool keep_names = false;

  // --- Identity and time ---
  // Column holding each row's sensor id; empty: round-robin over sensor_ids
  // by row index within the pass (as the prototype: row i -> ids[i % n]).
  std::string sensor_id_column;
  std::vector<std::string> sensor_ids = {"sim-1"};
  // Column holding event time; empty: the wall clock when the event is built.
  // Read by csv/timestamp_column.h: typed timestamps, ISO 8601 text, or epoch
  // numbers in timestamp_unit.
  std::string timestamp_column;
  TimestampUnit timestamp_unit = TimestampUnit::kAuto;
  // IANA zone of date-time text without an offset (as the CSV reader's).
  std::string time_zone = "UTC";

  // --- Raw waveform mode ---
  // When non-empty: rows are samples; these columns are channels, and every
  // window_samples rows of one sensor become one event with "fs".
  std::vector<std::string> waveform_channels;
  double fs_hz = 0;                // sampling rate, required with waveforms
  std::size_t window_samples = 0;  // samples per event, 1..kMaxWindowSamples with waveforms

  // --- Batching and pacing ---
  std::size_t batch = 100;  // events per Publish call (>= 1)
  double delay_s = 0.5;     // pause after each batch (not with rate/speed)
  bool loop = false;        // replay the table again and again
  double rate = 0;          // > 0: events per second (batch k due at k*batch/rate); 0: not paced
  double speed = 0;         // > 0: follow the table's timestamps, X times faster; 0: not paced
  std::int64_t max_events = 0;  // > 0: stop after this many events (tests, demos)

  OnBad on_bad = OnBad::kError;
  // A target that is down (Publish returns Unavailable) is retried with
  // backoff (0.1 s doubling to 5 s) for up to this many seconds; then the
  // replay stops with the error. 0: no retry.
  double retry_timeout_s = 60;
  // Name of the input for messages (a path or a redacted URL).
  std::string source_name = "input";
  // Called on the replaying thread after each batch the target acknowledged,
  // with its number of events (progress); may be empty.
  std::function<void(std::int64_t events)> on_published;
};

struct ReplayStats {
  std::int64_t events = 0;           // events published
  std::int64_t rows = 0;             // table rows read (all passes)
  std::int64_t skipped_rows = 0;     // rows skipped by OnBad::kSkip
  std::int64_t dropped_samples = 0;  // waveform samples in incomplete windows
  std::int64_t passes = 0;           // completed passes over the table
  std::int64_t publish_retries = 0;  // Publish calls retried (target unavailable)
};

// Time for the replayer: the wall clock stamps events without a timestamp
// column; the monotonic clock paces. Tests inject a fake.
class ReplayClock {
 public:
  virtual ~ReplayClock() = default;
  virtual std::int64_t WallNs() = 0;       // ns since the Unix epoch
  virtual std::int64_t MonotonicNs() = 0;  // ns, arbitrary origin
  // Returns at or after MonotonicNs() == deadline_ns (at once if past).
  virtual void SleepUntil(std::int64_t deadline_ns) = 0;
};

// The real clocks (std::chrono::system_clock / steady_clock).
ReplayClock& SystemReplayClock();

// Checks option values and combinations without reading anything:
// InvalidArgument naming the command-line option ("--batch: ...").
Status ValidateReplayOptions(const ReplayOptions& options);

// Opens the table afresh (once per pass).
using TableOpener = std::function<Result<std::unique_ptr<TableReader>>()>;

// Replays until the table ends (or forever with loop, up to max_events).
// InvalidArgument for bad options or columns (naming the option) and, with
// OnBad::kError, for a bad value ("<source>: row R, column 'C': ...", rows
// 1-based among data rows); InvalidArgument always (also with kSkip) for
// event times breaking the unit rule ("<source>: column 'C': row R: ...",
// core/epoch_time.h) and, without feature_keys and with kError, for a CSV
// column that looks numeric but has a bad cell ("<source>: line L, column
// 'C': ...", csv::CsvNumericSuspects); the opener's and publisher's errors
// otherwise.
// Each event is published with its sensor id as the message key. The
// publisher is not closed.
Result<ReplayStats> Replay(const TableOpener& open, const ReplayOptions& options,
                           transport::Publisher& publisher, ReplayClock& clock);

}  // namespace mh::replay

#endif  // MH_REPLAY_REPLAYER_H_
