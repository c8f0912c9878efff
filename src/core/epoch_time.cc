#include "core/epoch_time.h"

#include <cmath>
#include <limits>
#include <string>

#include "core/check.h"
#include "core/strings.h"

namespace mh {
namespace {

constexpr std::int64_t kNsPerS = 1'000'000'000;

// Units of `unit` per second.
std::int64_t PerSecond(EpochUnit unit) {
  switch (unit) {
    case EpochUnit::kSeconds:
      return 1;
    case EpochUnit::kMillis:
      return 1'000;
    case EpochUnit::kMicros:
      return 1'000'000;
    case EpochUnit::kNanos:
      return kNsPerS;
    default:
      break;
  }
  MH_CHECK(false);
  return 1;
}

// The prototype's rule, value by value.
EpochUnit PrototypeUnit(double v) {
  if (v > 1e12) return EpochUnit::kNanos;
  if (v > 1e9) return EpochUnit::kMillis;
  if (v > 1e6) return EpochUnit::kMicros;
  return EpochUnit::kSeconds;
}

std::string Hint() { return "; give the unit with --timestamp-unit s|ms|us|ns"; }

// "column 'C': row R: " (either part left out when empty or row <= 0).
std::string Where(std::string_view column, std::int64_t row) {
  std::string w;
  if (!column.empty()) w = "column '" + std::string(column) + "': ";
  if (row > 0) w += "row " + std::to_string(row) + ": ";
  return w;
}

Status FitsNoUnit(double v, std::int64_t row, std::string_view column) {
  return Status::InvalidArgument(Where(column, row) + FormatDouble(v) +
                                 " is not an epoch time between 1990 and 2100 in s, ms, us or ns" +
                                 Hint());
}

Status Mixed(double v, EpochUnit unit, std::int64_t row, double first_v, EpochUnit first_unit,
             std::int64_t first_row, std::string_view column) {
  return Status::InvalidArgument(Where(column, row) + FormatDouble(v) + " reads as " +
                                 EpochUnitWords(unit) + " but row " + std::to_string(first_row) +
                                 " (" + FormatDouble(first_v) + ") as " +
                                 EpochUnitWords(first_unit) + ": mixed units" + Hint());
}

Status Overflow(double v) {
  return Status::InvalidArgument(FormatDouble(v) + " is beyond the int64 nanosecond range of " +
                                 "instants (years 1677 to 2262)");
}

}  // namespace

Result<EpochUnit> ParseEpochUnit(std::string_view t) {
  if (t == "auto") return EpochUnit::kAuto;
  if (t == "s" || t == "sec" || t == "seconds") return EpochUnit::kSeconds;
  if (t == "ms" || t == "milliseconds") return EpochUnit::kMillis;
  if (t == "us" || t == "microseconds") return EpochUnit::kMicros;
  if (t == "ns" || t == "nanoseconds") return EpochUnit::kNanos;
  if (t == "prototype") return EpochUnit::kPrototype;
  return Status::InvalidArgument("unknown timestamp unit '" + std::string(t.substr(0, 40)) +
                                 "' (expected auto, s, ms, us, ns or prototype)");
}

const char* EpochUnitName(EpochUnit unit) {
  switch (unit) {
    case EpochUnit::kAuto:
      return "auto";
    case EpochUnit::kSeconds:
      return "s";
    case EpochUnit::kMillis:
      return "ms";
    case EpochUnit::kMicros:
      return "us";
    case EpochUnit::kNanos:
      return "ns";
    case EpochUnit::kPrototype:
      return "prototype";
  }
  return "unknown";
}

const char* EpochUnitWords(EpochUnit unit) {
  switch (unit) {
    case EpochUnit::kAuto:
      return "epoch numbers (auto)";
    case EpochUnit::kSeconds:
      return "epoch seconds";
    case EpochUnit::kMillis:
      return "epoch milliseconds";
    case EpochUnit::kMicros:
      return "epoch microseconds";
    case EpochUnit::kNanos:
      return "epoch nanoseconds";
    case EpochUnit::kPrototype:
      return "epoch numbers (prototype rule)";
  }
  return "unknown";
}

EpochUnit PlausibleEpochUnit(double v) {
  // Bounds scaled per unit are exact doubles (below 2^63), so the test is
  // exact too; the ranges do not overlap (2100 in s < 1990 in ms).
  for (EpochUnit unit :
       {EpochUnit::kSeconds, EpochUnit::kMillis, EpochUnit::kMicros, EpochUnit::kNanos}) {
    const double per = static_cast<double>(PerSecond(unit));
    if (v >= static_cast<double>(kPlausibleEpochBeginS) * per &&
        v < static_cast<double>(kPlausibleEpochEndS) * per) {
      return unit;
    }
  }
  return EpochUnit::kAuto;
}

Result<std::int64_t> EpochToNs(std::int64_t v, EpochUnit unit) {
  MH_CHECK(unit != EpochUnit::kAuto);
  if (unit == EpochUnit::kPrototype) unit = PrototypeUnit(static_cast<double>(v));
  std::int64_t ns = 0;
  if (__builtin_mul_overflow(v, kNsPerS / PerSecond(unit), &ns)) {
    return Overflow(static_cast<double>(v));
  }
  return ns;
}

Result<std::int64_t> EpochToNs(double v, EpochUnit unit) {
  MH_CHECK(unit != EpochUnit::kAuto);
  if (!std::isfinite(v)) return Status::InvalidArgument(FormatDouble(v) + " is not a finite time");
  if (unit == EpochUnit::kPrototype) unit = PrototypeUnit(v);
  const std::int64_t mult = kNsPerS / PerSecond(unit);
  // Whole units and the fraction apart, so that whole values stay exact.
  const double whole = std::floor(v);
  if (!(std::fabs(whole) < 9.2e18 / static_cast<double>(mult))) return Overflow(v);
  const auto w = static_cast<std::int64_t>(whole);
  const auto frac =
      static_cast<std::int64_t>(std::llround((v - whole) * static_cast<double>(mult)));
  std::int64_t ns = 0;
  if (__builtin_mul_overflow(w, mult, &ns) || __builtin_add_overflow(ns, frac, &ns)) {
    return Overflow(v);
  }
  return ns;
}

double NsToSeconds(std::int64_t ns) {
  // Below 2^53 ns (104 days) the conversion and one division are exact and
  // correctly rounded.
  constexpr std::int64_t kExact = std::int64_t{1} << 53;
  if (ns > -kExact && ns < kExact) return static_cast<double>(ns) / 1e9;
  if (ns == std::numeric_limits<std::int64_t>::min()) return static_cast<double>(ns) / 1e9;
  if (ns < 0) return -NsToSeconds(-ns);
  // A candidate within one ulp, then the nearest of it and its neighbours by
  // exact arithmetic: every double c here is >= 2^23, so c * 2^30 is an
  // integer below 2^64, and c * 2^30 * 1e9 - ns * 2^30 is exact in 128 bits.
  // (No ties: ns / 1e9 is never halfway between two doubles.)
  __extension__ typedef __int128 Int128;
  const double c0 = static_cast<double>(ns / kNsPerS) + static_cast<double>(ns % kNsPerS) / 1e9;
  const Int128 target = static_cast<Int128>(ns) << 30;
  auto error = [&](double c) {
    const Int128 scaled = static_cast<Int128>(std::ldexp(c, 30)) * kNsPerS - target;
    return scaled < 0 ? -scaled : scaled;
  };
  double best = c0;
  Int128 best_error = error(c0);
  for (double c : {std::nextafter(c0, 0.0), std::nextafter(c0, 1e300)}) {
    const Int128 e = error(c);
    if (e < best_error) {
      best = c;
      best_error = e;
    }
  }
  return best;
}

Result<EpochUnit> DecideEpochUnit(std::span<const double> values,
                                  std::span<const std::int64_t> rows, std::string_view column) {
  MH_CHECK(values.size() == rows.size());
  EpochUnit unit = EpochUnit::kAuto;
  std::size_t first = 0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    const EpochUnit u = PlausibleEpochUnit(values[i]);
    if (u == EpochUnit::kAuto) return FitsNoUnit(values[i], rows[i], column);
    if (unit == EpochUnit::kAuto) {
      unit = u;
      first = i;
    } else if (u != unit) {
      return Mixed(values[i], u, rows[i], values[first], unit, rows[first], column);
    }
  }
  return unit;
}

EpochColumnDecoder::EpochColumnDecoder(EpochUnit requested)
    : requested_(requested), chosen_(requested) {}

Status EpochColumnDecoder::Decide(std::span<const double> values,
                                  std::span<const std::int64_t> rows, std::string_view column) {
  if (chosen_ != EpochUnit::kAuto) return Status::OK();
  MH_ASSIGN_OR_RETURN(chosen_, DecideEpochUnit(values, rows, column));
  return Status::OK();
}

Status EpochColumnDecoder::Check(double v, std::int64_t row, std::string_view column) {
  if (requested_ != EpochUnit::kAuto) return Status::OK();
  const EpochUnit u = PlausibleEpochUnit(v);
  if (u == EpochUnit::kAuto) return FitsNoUnit(v, row, column);
  if (chosen_ == EpochUnit::kAuto) {
    chosen_ = u;
  } else if (u != chosen_) {
    return Status::InvalidArgument(Where(column, row) + FormatDouble(v) + " reads as " +
                                   EpochUnitWords(u) + " but the column's first values are " +
                                   EpochUnitWords(chosen_) + ": mixed units" + Hint());
  }
  return Status::OK();
}

Result<std::int64_t> EpochColumnDecoder::ToNs(double v, std::int64_t row, std::string_view column) {
  MH_RETURN_IF_ERROR(Check(v, row, column));
  auto ns = EpochToNs(v, chosen_);
  if (!ns.ok()) {
    const std::string w = Where(column, row);
    return w.empty() ? ns.status() : ns.status().WithContext(w.substr(0, w.size() - 2));
  }
  return ns;
}

Result<std::int64_t> EpochColumnDecoder::ToNs(std::int64_t v, std::int64_t row,
                                              std::string_view column) {
  MH_RETURN_IF_ERROR(Check(static_cast<double>(v), row, column));
  auto ns = EpochToNs(v, chosen_);
  if (!ns.ok()) {
    const std::string w = Where(column, row);
    return w.empty() ? ns.status() : ns.status().WithContext(w.substr(0, w.size() - 2));
  }
  return ns;
}

}  // namespace mh
