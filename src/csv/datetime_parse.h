// Parsers for the date and time forms found in CSV files. Pure functions, no
// time zone knowledge: a time without a zone is returned as a local civil
// time for the caller to convert (see csv/time_zone.h).
//
// Accepted forms (surrounding blanks are not accepted; the reader trims):
//   dates:  "2025-10-27", "2025/10/27", Swedish long dates
//           "den 27 oktober 2025", "måndag 27 oktober 2025", "27 okt. 2025",
//           and English "27 October 2025" (month names case-insensitive)
//   times:  "HH:MM", "HH:MM:SS", "HH:MM:SS.f" (1..9 digits; ',' also accepted
//           as the decimal mark)
//   date-times: a date in ISO form, 'T' or ' ', a time, then optionally a
//           zone: "Z", "UTC", "+hh:mm", "+hhmm", "+hh" (also after a blank)
//
// Thread safety: pure functions.
#ifndef MH_CSV_DATETIME_PARSE_H_
#define MH_CSV_DATETIME_PARSE_H_

#include <cstdint>
#include <optional>
#include <string_view>

namespace mh::csv {

inline constexpr std::int64_t kNanosPerSecond = 1'000'000'000;
inline constexpr std::int64_t kNanosPerDay = 86'400 * kNanosPerSecond;
// Date-times are int64 ns since the epoch; dates further than this many days
// from 1970-01-01 (about 290 years: 1680..2260) are refused as date-times.
inline constexpr std::int64_t kMaxDateTimeDays = 106'000;

// days * kNanosPerDay + time_of_day_ns, or nullopt when |days| is beyond
// kMaxDateTimeDays.
std::optional<std::int64_t> DateTimeNs(std::int64_t days, std::int64_t time_of_day_ns);

// Days since 1970-01-01 for a valid date in years 1..9999, else nullopt.
std::optional<std::int64_t> ParseDate(std::string_view text);

// Nanoseconds since midnight (0 <= value < 24 h; "24:00" is refused), else
// nullopt. `fraction_digits` (optional) receives the digits after the second.
std::optional<std::int64_t> ParseTimeOfDay(std::string_view text, int* fraction_digits = nullptr);

struct ParsedDateTime {
  // With has_zone: ns since the Unix epoch, UTC. Without: the local civil
  // time as ns since 1970-01-01T00:00 local.
  std::int64_t ns = 0;
  bool has_zone = false;
  int fraction_digits = 0;  // digits written after the second
};

// An ISO 8601 / RFC 3339 date-time (see above), else nullopt. A date alone is
// not a date-time; dates beyond kMaxDateTimeDays are refused.
std::optional<ParsedDateTime> ParseDateTime(std::string_view text);

}  // namespace mh::csv

#endif  // MH_CSV_DATETIME_PARSE_H_
