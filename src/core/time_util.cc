#include "core/time_util.h"

#include <cmath>
#include <cstdio>
#include <ctime>
#include <string>

#include "core/strings.h"

namespace mh {

std::int64_t WallNowNs() {
  return std::chrono::duration_cast<Nanos>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Result<Nanos> ParseDuration(std::string_view text) {
  auto bad = [&] {
    return Status::InvalidArgument("'" + std::string(text) +
                                   "' is not a duration (expected e.g. 90s, 10m, 1h30m, 250ms)");
  };
  if (text.empty()) return bad();
  double total_s = 0;
  std::size_t i = 0;
  bool any = false;
  while (i < text.size()) {
    std::size_t j = i;
    while (j < text.size() && (std::isdigit(static_cast<unsigned char>(text[j])) || text[j] == '.'))
      ++j;
    if (j == i) return bad();
    auto number = ParseDouble(text.substr(i, j - i));
    if (!number.ok()) return bad();
    std::size_t k = j;
    while (k < text.size() && std::isalpha(static_cast<unsigned char>(text[k]))) ++k;
    std::string_view unit = text.substr(j, k - j);
    double scale;
    if (unit.empty() || unit == "s")
      scale = 1;
    else if (unit == "ms")
      scale = 1e-3;
    else if (unit == "us")
      scale = 1e-6;
    else if (unit == "ns")
      scale = 1e-9;
    else if (unit == "m")
      scale = 60;
    else if (unit == "h")
      scale = 3600;
    else if (unit == "d")
      scale = 86400;
    else if (unit == "w")
      scale = 7 * 86400;
    else if (unit == "y")
      scale = 365 * 86400;  // a year of 365 days (retention periods)
    else
      return bad();
    if (unit.empty() && k != text.size()) return bad();
    total_s += *number * scale;
    any = true;
    i = k;
  }
  if (!any || !std::isfinite(total_s) || total_s > 1e9) return bad();
  return Nanos(static_cast<std::int64_t>(std::llround(total_s * 1e9)));
}

std::string FormatRfc3339(std::int64_t ns, int fraction_digits) {
  std::int64_t secs = ns / 1000000000;
  std::int64_t frac = ns % 1000000000;
  if (frac < 0) {
    frac += 1000000000;
    secs -= 1;
  }
  std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::size_t n = std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out(buf, n);
  if (fraction_digits > 0) {
    char fbuf[16];
    std::snprintf(fbuf, sizeof(fbuf), "%09lld", static_cast<long long>(frac));
    out += '.';
    out.append(fbuf, static_cast<std::size_t>(fraction_digits > 9 ? 9 : fraction_digits));
  }
  out += 'Z';
  return out;
}

Result<std::int64_t> ParseInstant(std::string_view text) {
  auto bad = [&] {
    return Status::InvalidArgument("'" + std::string(text) +
                                   "' is not an instant (expected RFC 3339 or epoch milliseconds)");
  };
  // Instants are int64 ns; the range leaves room for spans and offsets
  // (to - from, from + an hour) without overflow.
  auto out_of_range = [&] {
    return Status::InvalidArgument("'" + std::string(text) +
                                   "' is out of range (instants from 1897 to 2116)");
  };
  auto in_range = [&](std::int64_t ns) -> Result<std::int64_t> {
    if (ns < kMinInstantNs || ns > kMaxInstantNs) return out_of_range();
    return ns;
  };
  if (text.empty()) return bad();
  if (text.find('T') == std::string_view::npos && text.find('-', 1) == std::string_view::npos) {
    auto ms = ParseInt(text);
    if (!ms.ok()) return bad();
    std::int64_t ns = 0;
    if (__builtin_mul_overflow(*ms, std::int64_t{1000000}, &ns)) return out_of_range();
    return in_range(ns);
  }
  int y, mo, d, h, mi, s;
  int consumed = 0;
  std::string str(text);
  if (std::sscanf(str.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &consumed) !=
          6 ||
      consumed != 19) {
    return bad();
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return bad();
  std::size_t i = 19;
  std::int64_t frac_ns = 0;
  if (i < str.size() && str[i] == '.') {
    ++i;
    int digits = 0;
    while (i < str.size() && std::isdigit(static_cast<unsigned char>(str[i]))) {
      if (digits < 9) frac_ns = frac_ns * 10 + (str[i] - '0');
      ++digits;
      ++i;
    }
    if (digits == 0) return bad();
    for (int k = digits; k < 9; ++k) frac_ns *= 10;
  }
  std::int64_t offset_s = 0;
  if (i < str.size() && (str[i] == 'Z' || str[i] == 'z')) {
    ++i;
  } else if (i < str.size() && (str[i] == '+' || str[i] == '-')) {
    int oh, om;
    if (str.size() != i + 6 || std::sscanf(str.c_str() + i + 1, "%2d:%2d", &oh, &om) != 2) {
      return bad();
    }
    offset_s = (oh * 3600 + om * 60) * (str[i] == '+' ? 1 : -1);
    i += 6;
  } else {
    return bad();
  }
  if (i != str.size()) return bad();
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  if (y < 1897 || y > 2116) return out_of_range();
  std::int64_t secs = static_cast<std::int64_t>(timegm(&tm)) - offset_s;
  return in_range(secs * 1000000000 + frac_ns);
}

}  // namespace mh
