// The --from/--to options of the commands that read a stored range
// (export, report --db, alarms list, baseline retrain), registered with one
// parser and one set of error messages.
//
// Both take an RFC 3339 time or epoch milliseconds (core/time_util.h
// ParseInstant). The range is half-open, [FROM, TO): a missing --from is the
// earliest instant, a missing --to the latest. A value that does not parse is
// an error "--from: <why>" / "--to: <why>"; --from after --to is the error
// "--from is after --to" (equal bounds are an empty range, not an error).
#ifndef MH_APP_TIME_RANGE_OPTION_H_
#define MH_APP_TIME_RANGE_OPTION_H_

#include <cstdint>
#include <limits>
#include <string>

#include "core/result.h"

namespace CLI {
class App;
}  // namespace CLI

namespace mh::app {

// The options' text as CLI11 stored it.
struct TimeRangeText {
  std::string from;
  std::string to;
};

struct TimeRange {
  bool has_from = false;
  bool has_to = false;
  std::int64_t from_ns = std::numeric_limits<std::int64_t>::min();
  std::int64_t to_ns = std::numeric_limits<std::int64_t>::max();
};

// Adds --from (help `from_help`) and --to (help `to_help`) to `sub`, stored
// in *text.
void AddTimeRangeOptions(CLI::App& sub, TimeRangeText* text, const std::string& from_help,
                         const std::string& to_help = "see --from");

// Parses what AddTimeRangeOptions stored; errors as in the header comment.
Result<TimeRange> ParseTimeRange(const TimeRangeText& text);

}  // namespace mh::app

#endif  // MH_APP_TIME_RANGE_OPTION_H_
