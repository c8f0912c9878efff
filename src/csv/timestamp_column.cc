#include "csv/timestamp_column.h"

#include <cmath>
#include <string_view>
#include <utility>

#include "core/strings.h"
#include "csv/datetime_parse.h"

namespace mh::csv {
namespace {

std::string_view TrimBlanks(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

enum class Cell : std::uint8_t { kNull, kInstant, kInt, kDouble, kBad };

}  // namespace

Result<TimestampColumnReader> TimestampColumnReader::Make(const TimestampColumnOptions& options) {
  MH_ASSIGN_OR_RETURN(TimeZone zone, TimeZone::Load(options.time_zone));
  return TimestampColumnReader(options, std::move(zone));
}

TimestampColumnReader::TimestampColumnReader(const TimestampColumnOptions& options, TimeZone zone)
    : options_(options), zone_(std::move(zone)), decoder_(options.unit) {}

Result<std::int64_t> TimestampColumnReader::LocalToUtc(std::int64_t local_ns) const {
  std::int64_t sec = local_ns / kNanosPerSecond;
  std::int64_t sub = local_ns % kNanosPerSecond;
  if (sub < 0) {
    sub += kNanosPerSecond;
    --sec;
  }
  MH_ASSIGN_OR_RETURN(std::int64_t utc, zone_.LocalToUtc(sec));
  return utc * kNanosPerSecond + sub;
}

std::string TimestampColumnReader::Describe() const {
  std::string d = "column '" + name_ + "': ";
  if (!saw_numbers_) return d + "date-times";
  if (saw_text_times_) d += "date-times and ";
  d += EpochUnitWords(decoder_.chosen());
  if (decoder_.requested() == EpochUnit::kAuto) return d + " (auto)";
  if (decoder_.requested() == EpochUnit::kPrototype) return d;
  return d + " (--timestamp-unit " + EpochUnitName(decoder_.requested()) + ")";
}

Status TimestampColumnReader::Convert(const TableColumn& c, std::int64_t first_row,
                                      std::vector<std::int64_t>* ns,
                                      std::vector<std::uint8_t>* valid) {
  name_ = c.info.name;
  const std::size_t n = c.valid.size();
  ns->assign(n, 0);
  valid->assign(n, 0);
  auto row_of = [&](std::size_t i) { return first_row + static_cast<std::int64_t>(i) + 1; };
  auto where = [&](std::size_t i) {
    return options_.source + ": column '" + name_ + "': row " + std::to_string(row_of(i)) + ": ";
  };

  switch (c.info.kind) {
    case ValueKind::kTimestamp:
      for (std::size_t i = 0; i < n; ++i) {
        if (c.valid[i] == 0) continue;
        (*ns)[i] = c.ints[i];
        (*valid)[i] = 1;
      }
      return Status::OK();
    case ValueKind::kDate:
      for (std::size_t i = 0; i < n; ++i) {
        if (c.valid[i] == 0) continue;
        auto local = DateTimeNs(c.ints[i], 0);
        if (!local) return Status::InvalidArgument(where(i) + "date out of range");
        MH_ASSIGN_OR_RETURN((*ns)[i], LocalToUtc(*local));
        (*valid)[i] = 1;
      }
      return Status::OK();
    case ValueKind::kInt:
    case ValueKind::kUInt64:
    case ValueKind::kDouble:
    case ValueKind::kString:
    case ValueKind::kDecimal:
      break;
    default:
      return Status::InvalidArgument(options_.source + ": column '" + name_ + "' holds " +
                                     ValueKindName(c.info.kind) + " values, not timestamps");
  }

  // One cell: an instant (text date-time), an epoch number, null or bad.
  auto classify = [&](std::size_t i, std::int64_t* iv, double* dv) -> Cell {
    if (c.valid[i] == 0) return Cell::kNull;
    switch (c.info.kind) {
      case ValueKind::kInt:
        *iv = c.ints[i];
        return Cell::kInt;
      case ValueKind::kUInt64:
        if (c.ints[i] >= 0) {
          *iv = c.ints[i];
          return Cell::kInt;
        }
        *dv = static_cast<double>(static_cast<std::uint64_t>(c.ints[i]));
        return Cell::kDouble;
      case ValueKind::kDouble:
        *dv = c.doubles[i];
        return std::isfinite(*dv) ? Cell::kDouble : Cell::kBad;
      default:
        break;
    }
    const std::string_view t = TrimBlanks(c.strings[i]);
    if (t.empty()) return Cell::kNull;
    if (auto dt = ParseDateTime(t)) {
      if (dt->has_zone) {
        *iv = dt->ns;
        return Cell::kInstant;
      }
      auto utc = LocalToUtc(dt->ns);
      if (!utc.ok()) return Cell::kBad;
      *iv = *utc;
      return Cell::kInstant;
    }
    if (auto days = ParseDate(t)) {
      auto local = DateTimeNs(*days, 0);
      auto utc = local ? LocalToUtc(*local) : Result<std::int64_t>(Status::InvalidArgument(""));
      if (!utc.ok()) return Cell::kBad;
      *iv = *utc;
      return Cell::kInstant;
    }
    if (auto v = ParseInt(t); v.ok()) {
      *iv = *v;
      return Cell::kInt;
    }
    if (auto v = ParseDouble(t); v.ok() && std::isfinite(*v)) {
      *dv = *v;
      return Cell::kDouble;
    }
    return Cell::kBad;
  };
  auto bad_text = [&](std::size_t i) {
    const std::string shown = c.info.kind == ValueKind::kDouble ? FormatDouble(c.doubles[i])
                                                                : QuoteForMessage(c.strings[i]);
    return Status::InvalidArgument(where(i) + shown +
                                   " is not a timestamp (an epoch number or an iso 8601 "
                                   "date-time)");
  };

  // kAuto decides on the first batch holding epoch numbers, all of them.
  std::int64_t iv = 0;
  double dv = 0;
  if (decoder_.chosen() == EpochUnit::kAuto) {
    pending_values_.clear();
    pending_rows_.clear();
    for (std::size_t i = 0; i < n; ++i) {
      const Cell k = classify(i, &iv, &dv);
      if (k != Cell::kInt && k != Cell::kDouble) continue;
      pending_values_.push_back(k == Cell::kInt ? static_cast<double>(iv) : dv);
      pending_rows_.push_back(row_of(i));
    }
    Status s = decoder_.Decide(pending_values_, pending_rows_, name_);
    if (!s.ok()) return s.WithContext(options_.source);
  }
  for (std::size_t i = 0; i < n; ++i) {
    const Cell k = classify(i, &iv, &dv);
    switch (k) {
      case Cell::kNull:
        continue;
      case Cell::kBad:
        if (options_.bad_as_invalid) {
          ++bad_cells_;
          continue;
        }
        return bad_text(i);
      case Cell::kInstant:
        saw_text_times_ = true;
        (*ns)[i] = iv;
        break;
      case Cell::kInt:
      case Cell::kDouble: {
        saw_numbers_ = true;
        auto got = k == Cell::kInt ? decoder_.ToNs(iv, row_of(i), name_)
                                   : decoder_.ToNs(dv, row_of(i), name_);
        if (!got.ok()) return got.status().WithContext(options_.source);
        (*ns)[i] = *got;
        break;
      }
    }
    (*valid)[i] = 1;
  }
  return Status::OK();
}

}  // namespace mh::csv
