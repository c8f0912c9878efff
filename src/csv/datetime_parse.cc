#include "csv/datetime_parse.h"

#include <array>
#include <chrono>

namespace mh::csv {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Reads exactly `n` digits from the front of `s`.
bool TakeDigits(std::string_view* s, int n, int* out) {
  if (s->size() < static_cast<std::size_t>(n)) return false;
  int v = 0;
  for (int i = 0; i < n; ++i) {
    if (!IsDigit((*s)[i])) return false;
    v = v * 10 + ((*s)[i] - '0');
  }
  s->remove_prefix(n);
  *out = v;
  return true;
}

// Reads 1..max_n digits.
bool TakeUpTo(std::string_view* s, int max_n, int* out) {
  int v = 0, n = 0;
  while (n < max_n && !s->empty() && IsDigit(s->front())) {
    v = v * 10 + (s->front() - '0');
    s->remove_prefix(1);
    ++n;
  }
  *out = v;
  return n > 0;
}

std::optional<std::int64_t> CivilDays(int y, int m, int d) {
  using namespace std::chrono;
  if (y < 1 || y > 9999 || m < 1 || m > 12 || d < 1) return std::nullopt;
  const year_month_day ymd{year{y}, month{static_cast<unsigned>(m)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return std::nullopt;
  return sys_days{ymd}.time_since_epoch().count();
}

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

// Month number for a Swedish or English name or abbreviation, else 0.
int MonthFromName(std::string_view w) {
  if (!w.empty() && w.back() == '.') w.remove_suffix(1);
  struct Name {
    const char* name;
    int month;
  };
  static constexpr Name kNames[] = {
      {"januari", 1},   {"februari", 2},  {"mars", 3},    {"april", 4},     {"maj", 5},
      {"juni", 6},      {"juli", 7},      {"augusti", 8}, {"september", 9}, {"oktober", 10},
      {"november", 11}, {"december", 12}, {"january", 1}, {"february", 2},  {"march", 3},
      {"may", 5},       {"june", 6},      {"july", 7},    {"august", 8},    {"october", 10},
      {"jan", 1},       {"feb", 2},       {"mar", 3},     {"apr", 4},       {"jun", 6},
      {"jul", 7},       {"aug", 8},       {"sep", 9},     {"sept", 9},      {"okt", 10},
      {"oct", 10},      {"nov", 11},      {"dec", 12},
  };
  for (const Name& n : kNames) {
    if (EqualsIgnoreCase(w, n.name)) return n.month;
  }
  return 0;
}

bool IsWeekdayName(std::string_view w) {
  if (!w.empty() && w.back() == ',') w.remove_suffix(1);
  static constexpr std::array<const char*, 14> kDays = {
      "m\xc3\xa5ndag", "tisdag",        "onsdag",   "torsdag", "fredag",
      "l\xc3\xb6rdag", "s\xc3\xb6ndag", "monday",   "tuesday", "wednesday",
      "thursday",      "friday",        "saturday", "sunday"};
  for (const char* d : kDays) {
    if (EqualsIgnoreCase(w, d)) return true;
  }
  return false;
}

// "[weekday] [den] D[.] month YYYY".
std::optional<std::int64_t> ParseLongDate(std::string_view s) {
  std::array<std::string_view, 6> words;
  std::size_t n = 0;
  while (!s.empty()) {
    const std::size_t sp = s.find(' ');
    const std::string_view w = s.substr(0, sp);
    if (w.empty()) return std::nullopt;  // double blank or leading blank
    if (n == words.size()) return std::nullopt;
    words[n++] = w;
    if (sp == std::string_view::npos) break;
    s.remove_prefix(sp + 1);
    if (s.empty()) return std::nullopt;  // trailing blank
  }
  std::size_t i = 0;
  if (i < n && IsWeekdayName(words[i])) ++i;
  if (i < n && EqualsIgnoreCase(words[i], "den")) ++i;
  if (n - i != 3) return std::nullopt;
  std::string_view day_text = words[i];
  if (!day_text.empty() && day_text.back() == '.') day_text.remove_suffix(1);
  int day = 0, year = 0;
  if (day_text.size() > 2 || !TakeUpTo(&day_text, 2, &day) || !day_text.empty()) {
    return std::nullopt;
  }
  const int month = MonthFromName(words[i + 1]);
  if (month == 0) return std::nullopt;
  std::string_view year_text = words[i + 2];
  if (!TakeDigits(&year_text, 4, &year) || !year_text.empty()) return std::nullopt;
  return CivilDays(year, month, day);
}

// ISO date at the front of `s` ("YYYY-MM-DD" or "YYYY/MM/DD").
std::optional<std::int64_t> TakeIsoDate(std::string_view* s) {
  int y = 0, m = 0, d = 0;
  if (!TakeDigits(s, 4, &y) || s->empty()) return std::nullopt;
  const char sep = s->front();
  if (sep != '-' && sep != '/') return std::nullopt;
  s->remove_prefix(1);
  if (!TakeDigits(s, 2, &m) || s->empty() || s->front() != sep) return std::nullopt;
  s->remove_prefix(1);
  if (!TakeDigits(s, 2, &d)) return std::nullopt;
  return CivilDays(y, m, d);
}

// Time of day at the front of `s`.
std::optional<std::int64_t> TakeTime(std::string_view* s, int* fraction_digits) {
  int h = 0, mi = 0, sec = 0;
  if (!TakeDigits(s, 2, &h) || s->empty() || s->front() != ':') return std::nullopt;
  s->remove_prefix(1);
  if (!TakeDigits(s, 2, &mi)) return std::nullopt;
  std::int64_t frac = 0;
  int digits = 0;
  if (!s->empty() && s->front() == ':') {
    s->remove_prefix(1);
    if (!TakeDigits(s, 2, &sec)) return std::nullopt;
    if (!s->empty() && (s->front() == '.' || s->front() == ',')) {
      s->remove_prefix(1);
      while (!s->empty() && IsDigit(s->front())) {
        if (digits >= 9) return std::nullopt;
        frac = frac * 10 + (s->front() - '0');
        ++digits;
        s->remove_prefix(1);
      }
      if (digits == 0) return std::nullopt;
      for (int k = digits; k < 9; ++k) frac *= 10;
    }
  }
  if (h > 23 || mi > 59 || sec > 59) return std::nullopt;  // no leap seconds
  if (fraction_digits != nullptr) *fraction_digits = digits;
  return (h * 3600LL + mi * 60LL + sec) * kNanosPerSecond + frac;
}

}  // namespace

std::optional<std::int64_t> DateTimeNs(std::int64_t days, std::int64_t time_of_day_ns) {
  if (days < -kMaxDateTimeDays || days > kMaxDateTimeDays) return std::nullopt;
  return days * kNanosPerDay + time_of_day_ns;
}

std::optional<std::int64_t> ParseDate(std::string_view text) {
  if (text.empty()) return std::nullopt;
  if (IsDigit(text.front()) && text.size() == 10) {
    std::string_view s = text;
    auto days = TakeIsoDate(&s);
    if (days && s.empty()) return days;
    if (s.size() != text.size() && days) return std::nullopt;
  }
  return ParseLongDate(text);
}

std::optional<std::int64_t> ParseTimeOfDay(std::string_view text, int* fraction_digits) {
  std::string_view s = text;
  auto t = TakeTime(&s, fraction_digits);
  if (!t || !s.empty()) return std::nullopt;
  return t;
}

std::optional<ParsedDateTime> ParseDateTime(std::string_view text) {
  std::string_view s = text;
  auto days = TakeIsoDate(&s);
  if (!days || s.empty() || (s.front() != 'T' && s.front() != 't' && s.front() != ' ')) {
    return std::nullopt;
  }
  s.remove_prefix(1);
  ParsedDateTime out;
  auto tod = TakeTime(&s, &out.fraction_digits);
  if (!tod) return std::nullopt;
  auto ns = DateTimeNs(*days, *tod);
  if (!ns) return std::nullopt;
  out.ns = *ns;
  if (s.empty()) return out;
  if (s.front() == ' ') s.remove_prefix(1);
  if (s == "Z" || s == "z" || s == "UTC") {
    out.has_zone = true;
    return out;
  }
  if (s.empty() || (s.front() != '+' && s.front() != '-')) return std::nullopt;
  const int sign = s.front() == '-' ? -1 : 1;
  s.remove_prefix(1);
  int oh = 0, om = 0;
  if (!TakeDigits(&s, 2, &oh)) return std::nullopt;
  if (!s.empty() && s.front() == ':') s.remove_prefix(1);
  if (!s.empty() && !TakeDigits(&s, 2, &om)) return std::nullopt;
  if (!s.empty() || oh > 23 || om > 59) return std::nullopt;
  out.ns -= sign * (oh * 3600LL + om * 60LL) * kNanosPerSecond;
  out.has_zone = true;
  return out;
}

}  // namespace mh::csv
