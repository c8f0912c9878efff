// Epoch numbers (seconds, milliseconds, microseconds or nanoseconds since
// the Unix epoch) as instants: the one rule for choosing their unit, used
// wherever timestamps are read (replay, features, score, train, the CSV
// reader). The column-level entry point, which also reads date-time text and
// typed timestamp columns, is csv/timestamp_column.h (it needs the CSV
// date-time parser and time zones, which core may not depend on).
//
// The rule (docs/replay.md, "Timestamps"): kAuto chooses, per column, the one
// unit under which the column's values are dates in [1990-01-01, 2100-01-01)
// UTC. Those ranges are disjoint across units, so the choice is never a
// guess: a value that fits no unit (negative values included), or a column
// whose values fit different units, is an error naming the column, a row and
// the value. With an explicit unit any finite value is converted. kPrototype
// is the prototype's per-value rule (> 1e12 ns, > 1e9 ms, > 1e6 us, else s),
// kept only by name: it reads epoch seconds as milliseconds.
//
// Thread safety: free functions are pure; an EpochColumnDecoder is used by
// one thread at a time.
#ifndef MH_CORE_EPOCH_TIME_H_
#define MH_CORE_EPOCH_TIME_H_

#include <cstdint>
#include <span>
#include <string_view>

#include "core/result.h"

namespace mh {

// The unit of epoch numbers. Values fixed (they appear in options).
enum class EpochUnit : std::uint8_t {
  kAuto = 0,  // per column, by the plausible range of dates (see above)
  kSeconds = 1,
  kMillis = 2,
  kMicros = 3,
  kNanos = 4,
  kPrototype = 5,  // the prototype's per-value guess; wrong for epoch seconds
};

// "auto", "s", "ms", "us", "ns", "prototype" (also "seconds", "sec",
// "milliseconds", "microseconds", "nanoseconds"). InvalidArgument otherwise.
Result<EpochUnit> ParseEpochUnit(std::string_view text);

// The short name: "auto", "s", "ms", "us", "ns", "prototype".
const char* EpochUnitName(EpochUnit unit);

// For messages and logs: "epoch seconds", "epoch milliseconds", ...,
// "epoch numbers (prototype rule)", "epoch numbers (auto)".
const char* EpochUnitWords(EpochUnit unit);

// The plausible dates of kAuto, in seconds since the epoch: [1990-01-01,
// 2100-01-01) UTC.
inline constexpr std::int64_t kPlausibleEpochBeginS = 631'152'000;
inline constexpr std::int64_t kPlausibleEpochEndS = 4'102'444'800;

// The unit (kSeconds..kNanos) under which `value` is a plausible date, or
// kAuto when there is none (NaN, negative, out of every range).
EpochUnit PlausibleEpochUnit(double value);

// `value` in `unit` as ns since the epoch: exact for integers, the nearest
// ns for fractions. kPrototype chooses the unit by the prototype's rule.
// InvalidArgument for a value that is not finite or beyond int64 ns (about
// years 1677..2262). `unit` must not be kAuto (checked).
Result<std::int64_t> EpochToNs(double value, EpochUnit unit);
Result<std::int64_t> EpochToNs(std::int64_t value, EpochUnit unit);

// ns since the epoch as seconds: the double nearest ns / 1e9 (what Python's
// ns / 1e9 and pandas give for integral epoch numbers).
double NsToSeconds(std::int64_t ns);

// The unit of a column under kAuto, from its first values (rows[i] is the
// 1-based data row of values[i], for messages). InvalidArgument when a value
// fits no unit or two values fit different ones:
//   "column 't': row 3: 12 is not an epoch time between 1990 and 2100 in s,
//    ms, us or ns; give the unit with --timestamp-unit s|ms|us|ns"
// kAuto (no error) when `values` is empty.
Result<EpochUnit> DecideEpochUnit(std::span<const double> values,
                                  std::span<const std::int64_t> rows, std::string_view column);

// Converts one column's epoch numbers while streaming: with kAuto the unit is
// decided once, on the first values seen (Decide with the first batch, or
// the first ToNs), and every later value must fit it (else the same error
// naming its row). Other units convert at once.
class EpochColumnDecoder {
 public:
  explicit EpochColumnDecoder(EpochUnit requested = EpochUnit::kAuto);

  // Decides kAuto's unit from the first batch (see DecideEpochUnit); a no-op
  // once decided, for other units, or for no values.
  Status Decide(std::span<const double> values, std::span<const std::int64_t> rows,
                std::string_view column);

  // One value as ns since the epoch; `row` (1-based) and `column` name it in
  // errors (left out of the message when <= 0 or empty, for callers that
  // name the place themselves). InvalidArgument as DecideEpochUnit and
  // EpochToNs.
  Result<std::int64_t> ToNs(double value, std::int64_t row, std::string_view column);
  Result<std::int64_t> ToNs(std::int64_t value, std::int64_t row, std::string_view column);

  EpochUnit requested() const { return requested_; }
  // The unit in use: the requested one, or under kAuto the decided one
  // (kAuto until decided).
  EpochUnit chosen() const { return chosen_; }

 private:
  Status Check(double value, std::int64_t row, std::string_view column);

  EpochUnit requested_;
  EpochUnit chosen_;
};

}  // namespace mh

#endif  // MH_CORE_EPOCH_TIME_H_
