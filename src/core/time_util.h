// Time units and conversions. Instants are int64 nanoseconds since the Unix
// epoch (UTC), named `*_ns`; durations in APIs are std::chrono types.
#ifndef MH_CORE_TIME_UTIL_H_
#define MH_CORE_TIME_UTIL_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace mh {

using Nanos = std::chrono::nanoseconds;

// Wall-clock now, ns since the epoch.
std::int64_t WallNowNs();

// Parses a duration such as "90s", "10m", "1h30m", "250ms", "2.5s", "1d",
// "2w", "5y" (w: 7 days, y: 365 days). A bare number is seconds. InvalidArgument names what was
// expected.
Result<Nanos> ParseDuration(std::string_view text);

// Formats ns since the epoch as RFC 3339 UTC ("2026-11-27T20:10:51.123Z")
// with `fraction_digits` (0, 3, 6 or 9) digits after the second.
std::string FormatRfc3339(std::int64_t ns, int fraction_digits = 3);

// The instants ParseInstant accepts: -2^61 .. 2^62 ns (1896-12-13 to
// 2116-02-20), so that a span between two of them, or one plus a day, fits
// in int64.
inline constexpr std::int64_t kMinInstantNs = -(std::int64_t{1} << 61);
inline constexpr std::int64_t kMaxInstantNs = std::int64_t{1} << 62;

// Parses an RFC 3339 instant ("2026-11-27T20:10:51Z", optional fraction,
// "Z" or "+hh:mm") or integer epoch milliseconds into ns since the epoch.
// InvalidArgument for anything else, and "out of range" outside
// [kMinInstantNs, kMaxInstantNs].
Result<std::int64_t> ParseInstant(std::string_view text);

}  // namespace mh

#endif  // MH_CORE_TIME_UTIL_H_
