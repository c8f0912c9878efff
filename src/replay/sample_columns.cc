#include "replay/sample_columns.h"

#include <cmath>
#include <optional>

#include "core/strings.h"
#include "core/time_util.h"

namespace mh::replay {
namespace {

// Column names (lowercase) that are never channels by default: time, date,
// index and id columns. See IsTimeOrIndexColumn.
constexpr std::string_view kTimeOrIndexNames[] = {
    "index",       "idx",        "id",       "i",         "n",      "t",         "time",
    "times",       "ts",         "datetime", "date",      "epoch",  "unix",      "unix_time",
    "elapsed",     "sample",     "samples",  "sample_no", "row",    "row_id",    "record",
    "year",        "month",      "day",      "hour",      "minute", "second",    "millisecond",
    "microsecond", "nanosecond", "machine",  "sensor",    "device", "device_id", "asset",
    "asset_id",    "channel_id", "label",    "class"};

}  // namespace

bool IsTimeOrIndexColumn(std::string_view name) {
  const std::string lower = AsciiLower(TrimSpace(name));
  if (IsKeyColumn(lower)) return true;
  for (const std::string_view n : kTimeOrIndexNames) {
    if (lower == n) return true;
  }
  auto ends = [&](std::string_view suffix) { return EndsWith(lower, suffix); };
  auto starts = [&](std::string_view prefix) { return lower.rfind(prefix, 0) == 0; };
  return ends("_id") || ends("_index") || ends("_idx") || ends("_time") || ends("_ts") ||
         ends("_timestamp") || starts("time_") || starts("timestamp_") || starts("unnamed:");
}

Result<DefaultChannels> ChooseDefaultChannels(const std::string& file,
                                              const std::vector<TableColumnInfo>& cols,
                                              const TableBatch& first, std::string_view hint) {
  // A text column whose cells are mostly numbers has a bad cell: an error
  // naming it, not a channel silently left out.
  for (std::size_t c = 0; c < cols.size() && c < first.columns.size(); ++c) {
    const NumberCells n = CountNumberCells(first.columns[c], first.rows);
    if (LooksNumericText(n.numbers, n.others) && !IsTimeOrIndexColumn(cols[c].name)) {
      return Status::Corruption(NotNumericError(file, first, c).message() +
                                " (the column's other cells are numbers; fix the cell or name "
                                "the channels with " +
                                std::string(hint) + ")");
    }
  }
  DefaultChannels out;
  std::string listing;
  for (const TableColumnInfo& c : cols) {
    listing += (listing.empty() ? "" : ", ") + c.name + " (" + ValueKindName(c.kind) + ")";
    if (IsSampleKind(c.kind) && !IsTimeOrIndexColumn(c.name)) {
      out.channels.push_back(c.name);
    } else {
      out.skipped += (out.skipped.empty() ? "" : ", ") + c.name +
                     (IsSampleKind(c.kind) ? " (time/index)"
                                           : std::string(" (") + ValueKindName(c.kind) + ")");
    }
  }
  if (out.channels.empty()) {
    if (listing.size() > 400) listing = listing.substr(0, 400) + "...";
    return Status::Corruption(file +
                              ": no channel column (numeric and not a time or index column) "
                              "among its columns: " +
                              listing + "; name the channels with " + std::string(hint));
  }
  if (out.skipped.size() > 400) out.skipped = out.skipped.substr(0, 400) + "...";
  return out;
}

Status NotNumericError(const std::string& shown, const TableBatch& batch, std::size_t c) {
  const TableColumn& col = batch.columns[c];
  const std::ptrdiff_t bad = CountNumberCells(col, batch.rows).first_other;
  if (bad < 0 && col.info.kind == ValueKind::kString) {
    // No text cell at all: the first rows are empty (null).
    for (std::size_t r = 0; r < batch.rows; ++r) {
      if (col.valid[r]) continue;
      return Status::Corruption(shown + ": row " + std::to_string(batch.first_row + 1 + r) +
                                ": column '" + col.info.name + "' is null");
    }
  }
  if (bad >= 0) {
    const auto r = static_cast<std::size_t>(bad);
    return Status::Corruption(shown + ": row " + std::to_string(batch.first_row + bad + 1) +
                              ": column '" + col.info.name +
                              "': " + QuoteForMessage(col.strings[r]) + " is not a number");
  }
  return Status::Corruption(shown + ": column '" + col.info.name + "' is not numeric (" +
                            ValueKindName(col.info.kind) + ")");
}

Result<std::vector<std::size_t>> FindChannelColumns(const std::string& shown,
                                                    const std::vector<TableColumnInfo>& cols,
                                                    const std::vector<std::string>& channels,
                                                    const TableBatch* first) {
  std::vector<std::size_t> index;
  for (const std::string& c : channels) {
    const std::ptrdiff_t i = FindColumn(cols, c);
    if (i < 0) {
      std::string names;
      for (const TableColumnInfo& info : cols) names += (names.empty() ? "" : ", ") + info.name;
      if (names.size() > 400) names = names.substr(0, 400) + "...";
      return Status::Corruption(shown + ": no column '" + c + "' (columns: " + names + ")");
    }
    const auto u = static_cast<std::size_t>(i);
    const ValueKind k = cols[u].kind;
    if (!IsSampleKind(k)) {
      if (first != nullptr && u < first->columns.size()) return NotNumericError(shown, *first, u);
      return Status::Corruption(shown + ": column '" + c + "' is " + ValueKindName(k) +
                                ", not numbers");
    }
    index.push_back(u);
  }
  return index;
}

Status SampleCellError(const std::string& where, const TableColumn& col, std::size_t r,
                       std::string_view channel) {
  const std::string head = where + ": column '" + std::string(channel) + "'";
  if (!col.valid[r]) return Status::Corruption(head + " is null");
  const double v =
      col.info.kind == ValueKind::kDouble ? col.doubles[r] : static_cast<double>(col.ints[r]);
  return Status::Corruption(head + ": '" + FormatDouble(v) + "' is not a finite number");
}

std::vector<std::size_t> TimeOfDayColumns(const std::vector<TableColumnInfo>& cols) {
  std::vector<std::size_t> out;
  for (const std::string_view want : {"hour", "minute", "second", "microsecond"}) {
    bool found = false;
    for (std::size_t i = 0; i < cols.size() && !found; ++i) {
      if (AsciiLower(cols[i].name) == want && IsSampleKind(cols[i].kind)) {
        out.push_back(i);
        found = true;
      }
    }
    if (!found) return {};
  }
  return out;
}

Result<std::int64_t> TimeOfDayNs(const TableBatch& batch, const std::vector<std::size_t>& cols,
                                 std::size_t r, const std::string& shown) {
  auto where = [&] {
    return shown + ": row " + std::to_string(batch.first_row + static_cast<std::int64_t>(r) + 1);
  };
  constexpr std::int64_t kMax[] = {23, 59, 60, 999999};
  constexpr std::int64_t kNs[] = {3'600'000'000'000, 60'000'000'000, 1'000'000'000, 1'000};
  std::int64_t ns = 0;
  for (std::size_t k = 0; k < 4; ++k) {
    const TableColumn& col = batch.columns[cols[k]];
    if (!col.valid[r]) {
      return Status::Corruption(where() + ": column '" + col.info.name + "' is null");
    }
    const double d =
        col.info.kind == ValueKind::kDouble ? col.doubles[r] : static_cast<double>(col.ints[r]);
    if (!(d >= 0) || d > static_cast<double>(kMax[k]) || d != std::floor(d)) {
      return Status::Corruption(where() + ": column '" + col.info.name + "': '" + FormatDouble(d) +
                                "' is not a time-of-day field (integer 0.." +
                                std::to_string(kMax[k]) + ")");
    }
    ns += static_cast<std::int64_t>(d) * kNs[k];
  }
  return ns;
}

std::optional<std::int64_t> FileNameTimeNs(std::string_view name) {
  static constexpr int kWidths[] = {4, 2, 2, 2, 2, 2};
  auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
  auto is_sep = [](char c) { return c == '.' || c == '-' || c == '_' || c == 'T' || c == ' '; };
  for (std::size_t start = 0; start < name.size(); ++start) {
    if (start > 0 && is_digit(name[start - 1])) continue;  // a group starts a number
    std::size_t i = start;
    std::string_view groups[6];
    bool ok = true;
    for (int g = 0; g < 6 && ok; ++g) {
      if (g > 0) {
        if (i >= name.size() || !is_sep(name[i])) ok = false;
        ++i;
      }
      const std::size_t w = static_cast<std::size_t>(kWidths[g]);
      if (!ok || i + w > name.size()) {
        ok = false;
        break;
      }
      for (std::size_t k = 0; k < w; ++k) ok = ok && is_digit(name[i + k]);
      groups[g] = name.substr(i, w);
      i += w;
    }
    if (!ok || (i < name.size() && is_digit(name[i]))) continue;
    const std::string text = std::string(groups[0]) + "-" + std::string(groups[1]) + "-" +
                             std::string(groups[2]) + "T" + std::string(groups[3]) + ":" +
                             std::string(groups[4]) + ":" + std::string(groups[5]) + "Z";
    auto ns = ParseInstant(text);
    if (ns.ok()) return *ns;
  }
  return std::nullopt;
}

}  // namespace mh::replay
