// Time zones from the system's IANA database: TZif files (RFC 8536) read from
// /usr/share/zoneinfo (Debian package tzdata; $TZDIR overrides the folder),
// because GCC 12's libstdc++ has no std::chrono::tzdb. Converts local civil
// times to UTC instants, DST-correct, with explicit rules for local times
// that occur twice (autumn) or never (spring).
//
// Thread safety: a TimeZone is immutable after loading; share it freely.
#ifndef MH_CSV_TIME_ZONE_H_
#define MH_CSV_TIME_ZONE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace mh::csv {

// What a local time that occurs twice (the hour repeated when DST ends) means.
enum class AmbiguousTime : std::uint8_t {
  kEarlier = 0,  // the first occurrence (still DST); Python zoneinfo fold=0
  kLater = 1,    // the second occurrence (standard time); fold=1
  kError = 2,    // InvalidArgument
};

// What a local time that never occurs (skipped when DST starts) means.
enum class NonexistentTime : std::uint8_t {
  kShiftForward = 0,   // read with the offset before the change, so 02:30
                       // becomes 03:30 DST; Python zoneinfo fold=0
  kShiftBackward = 1,  // read with the offset after the change (01:30); fold=1
  kError = 2,          // InvalidArgument
};

class TimeZone {
 public:
  // UTC (no file needed).
  TimeZone();

  // Loads an IANA zone such as "Europe/Stockholm" from $TZDIR or
  // /usr/share/zoneinfo. "UTC", "Z" and "Etc/UTC" need no file. NotFound when
  // the file is missing (install tzdata), InvalidArgument for a malformed
  // name, Corruption for a file that is not TZif.
  static Result<TimeZone> Load(std::string_view name);

  // Parses TZif bytes (versions 1 to 4, footer TZ string honoured for
  // instants after the last transition). Corruption on malformed input.
  static Result<TimeZone> FromTzif(std::string_view name, std::string_view bytes);

  // The zone's name as given to Load.
  const std::string& name() const { return name_; }

  // UTC offset in seconds east of Greenwich in force at `utc_seconds`.
  std::int64_t OffsetAt(std::int64_t utc_seconds) const;

  // The UTC instant (seconds since the epoch) of a local civil time given as
  // seconds since 1970-01-01T00:00 local. InvalidArgument when the policy is
  // kError and the local time is ambiguous or nonexistent.
  Result<std::int64_t> LocalToUtc(
      std::int64_t local_seconds, AmbiguousTime ambiguous = AmbiguousTime::kEarlier,
      NonexistentTime nonexistent = NonexistentTime::kShiftForward) const;

 private:
  // A POSIX TZ rule (the TZif footer), e.g. "CET-1CEST,M3.5.0,M10.5.0/3".
  struct PosixRule {
    bool valid = false;
    std::int64_t std_offset = 0;  // seconds east
    bool has_dst = false;
    std::int64_t dst_offset = 0;
    // Rule dates: kind 'M' (month, week, weekday), 'J' (1..365, no Feb 29)
    // or 'N' (0..365); time of day in seconds local.
    struct Date {
      char kind = 'M';
      int a = 0, b = 0, c = 0;
      std::int64_t time = 7200;
    } start, end;
  };
  static bool ParsePosix(std::string_view text, PosixRule* rule);
  static std::int64_t RuleDateUtc(const PosixRule::Date& date, int year, std::int64_t offset);
  std::int64_t PosixOffsetAt(std::int64_t utc_seconds) const;

  std::string name_;
  std::vector<std::int64_t> transitions_;   // UTC seconds, ascending
  std::vector<std::int64_t> offset_after_;  // offset from each transition on
  std::int64_t initial_offset_ = 0;         // before the first transition
  PosixRule rule_;                          // after the last transition
};

}  // namespace mh::csv

#endif  // MH_CSV_TIME_ZONE_H_
