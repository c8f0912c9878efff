#include "parquet/table_text.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace mh::parquet {

namespace {

std::int64_t FloorDiv(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

std::int64_t Pow10(int digits) {
  std::int64_t p = 1;
  for (int i = 0; i < digits; ++i) p *= 10;
  return p;
}

// Days since 1970-01-01 -> civil date (proleptic Gregorian).
void CivilFromDays(std::int64_t z, std::int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  *d = static_cast<unsigned>(doy - (153 * mp + 2) / 5 + 1);
  *m = static_cast<unsigned>(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2 ? 1 : 0);
}

void AppendFraction(std::int64_t frac, int digits, std::string* out) {
  if (digits <= 0) return;
  char buf[16];
  std::snprintf(buf, sizeof(buf), ".%0*lld", digits, static_cast<long long>(frac));
  out->append(buf);
}

int Digits(const TableColumn& c) {
  int d = c.info.fraction_digits;
  return d < 0 ? 0 : d > 9 ? 9 : d;
}

// Value of a time cell in units of 10^-digits seconds.
std::int64_t TimeValue(const TableColumn& c, std::size_t row, const TextOptions& o, int digits) {
  std::int64_t v = c.ints[row];
  if (o.times_in_ns) v = FloorDiv(v, Pow10(9 - digits));
  return v;
}

}  // namespace

std::string FormatDate(std::int64_t days) {
  std::int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%04lld-%02u-%02u", static_cast<long long>(y), m, d);
  return buf;
}

std::string FormatInstant(std::int64_t value, int digits) {
  std::int64_t unit = Pow10(digits);
  std::int64_t secs = FloorDiv(value, unit);
  std::int64_t frac = value - secs * unit;
  std::int64_t days = FloorDiv(secs, 86400);
  std::int64_t sod = secs - days * 86400;
  std::string s = FormatDate(days);
  char buf[32];
  std::snprintf(buf, sizeof(buf), "T%02d:%02d:%02d", static_cast<int>(sod / 3600),
                static_cast<int>(sod / 60 % 60), static_cast<int>(sod % 60));
  s += buf;
  AppendFraction(frac, digits, &s);
  s += 'Z';
  return s;
}

std::string FormatTimeOfDay(std::int64_t value, int digits) {
  std::int64_t unit = Pow10(digits);
  std::int64_t secs = FloorDiv(value, unit);
  std::int64_t frac = value - secs * unit;
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%02lld:%02d:%02d", static_cast<long long>(secs / 3600),
                static_cast<int>(secs / 60 % 60), static_cast<int>(secs % 60));
  std::string s = buf;
  AppendFraction(frac, digits, &s);
  return s;
}

namespace {

// Writes the text of a finite double (see FormatJsonDouble) to buf (>= 40
// bytes); returns the length.
std::size_t FiniteDoubleText(double value, char* buf) {
  // Shortest round-trip digits (scientific form gives the digits alone),
  // laid out as Python's repr: fixed for exponents -4..15, else d.ddde+XX.
  char sci[40];
  auto [ptr, ec] = std::to_chars(sci, sci + sizeof(sci) - 1, value, std::chars_format::scientific);
  (void)ec;
  *ptr = '\0';
  const char* p = sci;
  char* o = buf;
  if (*p == '-') {
    *o++ = '-';
    ++p;
  }
  char digits[24] = {};
  int n = 0;
  while (p < ptr && *p != 'e') {
    if (*p != '.') digits[n++] = *p;
    ++p;
  }
  // The exponent: e, a sign, then 2 or 3 digits (to_chars' scientific form).
  int exp = 0;
  const bool negative_exp = p + 1 < ptr && p[1] == '-';
  for (const char* q = p + 2; q < ptr; ++q) exp = exp * 10 + (*q - '0');
  if (negative_exp) exp = -exp;
  if (exp >= -4 && exp < 16) {
    if (exp < 0) {
      *o++ = '0';
      *o++ = '.';
      for (int i = 0; i < -exp - 1; ++i) *o++ = '0';
      for (int i = 0; i < n; ++i) *o++ = digits[i];
    } else if (exp + 1 >= n) {
      for (int i = 0; i < n; ++i) *o++ = digits[i];
      for (int i = n; i < exp + 1; ++i) *o++ = '0';
      *o++ = '.';
      *o++ = '0';
    } else {
      for (int i = 0; i <= exp; ++i) *o++ = digits[i];
      *o++ = '.';
      for (int i = exp + 1; i < n; ++i) *o++ = digits[i];
    }
  } else {
    *o++ = digits[0];
    if (n > 1) {
      *o++ = '.';
      for (int i = 1; i < n; ++i) *o++ = digits[i];
    }
    *o++ = 'e';
    *o++ = exp < 0 ? '-' : '+';
    int a = exp < 0 ? -exp : exp;
    if (a >= 100) *o++ = static_cast<char>('0' + a / 100);
    *o++ = static_cast<char>('0' + a / 10 % 10);
    *o++ = static_cast<char>('0' + a % 10);
  }
  return static_cast<std::size_t>(o - buf);
}

}  // namespace

std::string FormatJsonDouble(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  char buf[48];
  return std::string(buf, FiniteDoubleText(value, buf));
}

void AppendDoubleText(double value, std::string* out) {
  if (!std::isfinite(value)) {
    out->append(FormatJsonDouble(value));
    return;
  }
  char buf[48];
  out->append(buf, FiniteDoubleText(value, buf));
}

std::string HexString(const std::string& bytes) {
  static const char kHex[] = "0123456789abcdef";
  std::string s;
  s.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    s.push_back(kHex[c >> 4]);
    s.push_back(kHex[c & 15]);
  }
  return s;
}

void AppendJsonValue(const TableColumn& c, std::size_t row, const TextOptions& o,
                     std::string* out) {
  if (!c.valid[row]) {
    out->append("null");
    return;
  }
  switch (c.info.kind) {
    case ValueKind::kBool:
      out->append(c.ints[row] ? "true" : "false");
      return;
    case ValueKind::kInt:
    case ValueKind::kDate:
      if (c.info.kind == ValueKind::kDate) {
        AppendJsonString(FormatDate(c.ints[row]), out);
      } else {
        out->append(std::to_string(c.ints[row]));
      }
      return;
    case ValueKind::kUInt64:
      out->append(std::to_string(static_cast<std::uint64_t>(c.ints[row])));
      return;
    case ValueKind::kDouble: {
      double v = c.doubles[row];
      if (std::isfinite(v)) {
        char buf[48];
        out->append(buf, FiniteDoubleText(v, buf));
      } else {
        AppendJsonString(FormatJsonDouble(v), out);
      }
      return;
    }
    case ValueKind::kTimestamp: {
      int d = Digits(c);
      AppendJsonString(FormatInstant(TimeValue(c, row, o, d), d), out);
      return;
    }
    case ValueKind::kTime: {
      int d = Digits(c);
      AppendJsonString(FormatTimeOfDay(TimeValue(c, row, o, d), d), out);
      return;
    }
    case ValueKind::kBinary:
      AppendJsonString(HexString(c.strings[row]), out);
      return;
    case ValueKind::kString:
    case ValueKind::kDecimal:
      AppendJsonString(c.strings[row], out);
      return;
  }
}

void AppendCsvValue(const TableColumn& c, std::size_t row, const TextOptions& o, std::string* out) {
  if (!c.valid[row]) return;
  switch (c.info.kind) {
    case ValueKind::kString:
      break;
    case ValueKind::kDecimal:
      out->append(c.strings[row]);
      return;
    case ValueKind::kBinary:
      out->append(HexString(c.strings[row]));
      return;
    case ValueKind::kDouble:
      AppendDoubleText(c.doubles[row], out);
      return;
    case ValueKind::kInt: {
      char buf[24];
      auto [ptr, ec] = std::to_chars(buf, buf + sizeof(buf), c.ints[row]);
      (void)ec;
      out->append(buf, ptr);
      return;
    }
    default: {
      std::string json;
      AppendJsonValue(c, row, o, &json);
      if (!json.empty() && json.front() == '"') json = json.substr(1, json.size() - 2);
      out->append(json);
      return;
    }
  }
  const std::string& text = c.strings[row];
  bool plain = true;
  for (const char ch : text) {
    plain = plain && ch != o.csv_delimiter && ch != '"' && ch != '\r' && ch != '\n';
  }
  if (plain) {
    out->append(text);
    return;
  }
  out->push_back('"');
  for (char ch : text) {
    if (ch == '"') out->push_back('"');
    out->push_back(ch);
  }
  out->push_back('"');
}

}  // namespace mh::parquet
