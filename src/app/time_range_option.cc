#include "app/time_range_option.h"

#include <CLI/CLI.hpp>

#include "core/time_util.h"

namespace mh::app {

void AddTimeRangeOptions(CLI::App& sub, TimeRangeText* text, const std::string& from_help,
                         const std::string& to_help) {
  sub.add_option("--from", text->from, from_help);
  sub.add_option("--to", text->to, to_help);
}

Result<TimeRange> ParseTimeRange(const TimeRangeText& text) {
  TimeRange range;
  if (!text.from.empty()) {
    auto t = ParseInstant(text.from);
    if (!t.ok()) return Status::InvalidArgument("--from: " + t.status().message());
    range.from_ns = *t;
    range.has_from = true;
  }
  if (!text.to.empty()) {
    auto t = ParseInstant(text.to);
    if (!t.ok()) return Status::InvalidArgument("--to: " + t.status().message());
    range.to_ns = *t;
    range.has_to = true;
  }
  if (range.from_ns > range.to_ns) return Status::InvalidArgument("--from is after --to");
  return range;
}

}  // namespace mh::app
