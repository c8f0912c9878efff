#include "csv/time_zone.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <set>

namespace mh::csv {
namespace {

constexpr std::int64_t kDay = 86400;

std::int64_t DaysFromCivil(int y, unsigned m, unsigned d) {
  using namespace std::chrono;
  return sys_days{year{y} / month{m} / day{d}}.time_since_epoch().count();
}

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

// Big-endian readers over a bounded byte range.
class ByteReader {
 public:
  explicit ByteReader(std::string_view bytes) : bytes_(bytes) {}
  bool Has(std::size_t n) const { return bytes_.size() - pos_ >= n; }
  std::size_t pos() const { return pos_; }
  void Skip(std::size_t n) { pos_ += n; }
  std::uint8_t U8() { return static_cast<std::uint8_t>(bytes_[pos_++]); }
  std::int64_t I32() {
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | U8();
    return static_cast<std::int32_t>(v);
  }
  std::int64_t I64() {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | U8();
    return static_cast<std::int64_t>(v);
  }
  std::string_view Rest() const { return bytes_.substr(pos_); }

 private:
  std::string_view bytes_;
  std::size_t pos_ = 0;
};

// Parses [+-]hh[:mm[:ss]] at the front of `s`; seconds, sign as written.
bool ParseHms(std::string_view* s, std::int64_t* out) {
  int sign = 1;
  if (!s->empty() && (s->front() == '+' || s->front() == '-')) {
    if (s->front() == '-') sign = -1;
    s->remove_prefix(1);
  }
  std::int64_t parts[3] = {0, 0, 0};
  for (int i = 0; i < 3; ++i) {
    if (i > 0) {
      if (s->empty() || s->front() != ':') break;
      s->remove_prefix(1);
    }
    int digits = 0;
    std::int64_t v = 0;
    while (!s->empty() && s->front() >= '0' && s->front() <= '9' && digits < 3) {
      v = v * 10 + (s->front() - '0');
      s->remove_prefix(1);
      ++digits;
    }
    if (digits == 0) return false;
    parts[i] = v;
  }
  if (parts[0] > 167 || parts[1] > 59 || parts[2] > 59) return false;
  *out = sign * (parts[0] * 3600 + parts[1] * 60 + parts[2]);
  return true;
}

bool ParseAbbrev(std::string_view* s) {
  if (!s->empty() && s->front() == '<') {
    const std::size_t close = s->find('>');
    if (close == std::string_view::npos || close < 2) return false;
    s->remove_prefix(close + 1);
    return true;
  }
  std::size_t n = 0;
  while (n < s->size() &&
         (((*s)[n] >= 'A' && (*s)[n] <= 'Z') || ((*s)[n] >= 'a' && (*s)[n] <= 'z'))) {
    ++n;
  }
  if (n < 3) return false;
  s->remove_prefix(n);
  return true;
}

bool ParseInt(std::string_view* s, int* out) {
  int digits = 0;
  int v = 0;
  while (!s->empty() && s->front() >= '0' && s->front() <= '9' && digits < 4) {
    v = v * 10 + (s->front() - '0');
    s->remove_prefix(1);
    ++digits;
  }
  *out = v;
  return digits > 0;
}

}  // namespace

TimeZone::TimeZone() : name_("UTC") {}

Result<TimeZone> TimeZone::Load(std::string_view name) {
  if (name.empty() || name == "UTC" || name == "Z" || name == "Etc/UTC" || name == "Etc/GMT" ||
      name == "GMT") {
    TimeZone utc;
    utc.name_ = name.empty() ? "UTC" : std::string(name);
    return utc;
  }
  const bool bad_char = std::any_of(name.begin(), name.end(), [](char c) {
    return !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
             c == '/' || c == '_' || c == '-' || c == '+');
  });
  if (bad_char || name.front() == '/' || name.find("..") != std::string_view::npos) {
    return Status::InvalidArgument("time zone '" + std::string(name) +
                                   "' is not an iana name such as Europe/Stockholm");
  }
  const char* dir = std::getenv("TZDIR");
  const std::string path =
      std::string(dir != nullptr && *dir != '\0' ? dir : "/usr/share/zoneinfo") + "/" +
      std::string(name);
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status::NotFound("time zone '" + std::string(name) + "': cannot read " + path +
                            " (is the tzdata package installed?)");
  }
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return FromTzif(name, bytes);
}

Result<TimeZone> TimeZone::FromTzif(std::string_view name, std::string_view bytes) {
  const std::string where = "time zone '" + std::string(name) + "': ";
  auto corrupt = [&](const std::string& what) { return Status::Corruption(where + what); };
  ByteReader r(bytes);
  if (!r.Has(44) || bytes.substr(0, 4) != "TZif") return corrupt("not a tzif file");
  r.Skip(4);
  const char version = static_cast<char>(r.U8());
  r.Skip(15);
  auto read_counts = [&](std::int64_t c[6]) {
    for (int i = 0; i < 6; ++i) c[i] = r.I32();
  };
  std::int64_t c[6];  // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
  read_counts(c);
  for (std::int64_t v : c) {
    if (v < 0 || v > (1 << 20)) return corrupt("implausible counts in header");
  }
  int time_size = 4;
  if (version >= '2') {
    // Skip the version 1 block; the 64-bit block follows with its own header.
    const std::int64_t v1 = c[3] * 4 + c[3] + c[4] * 6 + c[5] + c[2] * 8 + c[1] + c[0];
    if (!r.Has(static_cast<std::size_t>(v1) + 44)) return corrupt("truncated version 1 block");
    r.Skip(static_cast<std::size_t>(v1));
    if (r.Rest().substr(0, 4) != "TZif") return corrupt("missing second header");
    r.Skip(20);
    read_counts(c);
    for (std::int64_t v : c) {
      if (v < 0 || v > (1 << 20)) return corrupt("implausible counts in second header");
    }
    time_size = 8;
  }
  const std::int64_t isutcnt = c[0], isstdcnt = c[1], leapcnt = c[2], timecnt = c[3],
                     typecnt = c[4], charcnt = c[5];
  if (typecnt == 0) return corrupt("no local time types");
  const std::int64_t need = timecnt * time_size + timecnt + typecnt * 6 + charcnt +
                            leapcnt * (time_size + 4) + isstdcnt + isutcnt;
  if (!r.Has(static_cast<std::size_t>(need))) return corrupt("truncated data block");
  TimeZone tz;
  tz.name_ = std::string(name);
  std::vector<std::int64_t> times(static_cast<std::size_t>(timecnt));
  for (auto& t : times) t = time_size == 8 ? r.I64() : r.I32();
  std::vector<std::uint8_t> idx(static_cast<std::size_t>(timecnt));
  for (auto& i : idx) {
    i = r.U8();
    if (i >= typecnt) return corrupt("transition names a missing local time type");
  }
  std::vector<std::int64_t> offsets(static_cast<std::size_t>(typecnt));
  for (auto& o : offsets) {
    o = r.I32();
    r.Skip(2);  // isdst, abbreviation index
    if (o < -26 * 3600 || o > 26 * 3600) return corrupt("utc offset out of range");
  }
  r.Skip(static_cast<std::size_t>(charcnt + leapcnt * (time_size + 4) + isstdcnt + isutcnt));
  for (std::size_t i = 1; i < times.size(); ++i) {
    if (times[i] <= times[i - 1]) return corrupt("transitions not in ascending order");
  }
  tz.transitions_ = std::move(times);
  tz.offset_after_.reserve(idx.size());
  for (std::uint8_t i : idx) tz.offset_after_.push_back(offsets[i]);
  tz.initial_offset_ = offsets[0];
  if (time_size == 8) {
    std::string_view footer = r.Rest();
    if (footer.size() >= 2 && footer.front() == '\n') {
      footer.remove_prefix(1);
      const std::size_t nl = footer.find('\n');
      if (nl != std::string_view::npos && nl > 0) {
        if (!ParsePosix(footer.substr(0, nl), &tz.rule_)) {
          return corrupt("malformed footer tz string");
        }
      }
    }
  }
  return tz;
}

bool TimeZone::ParsePosix(std::string_view s, PosixRule* rule) {
  *rule = PosixRule();
  if (!ParseAbbrev(&s)) return false;
  std::int64_t off = 0;
  if (!ParseHms(&s, &off)) return false;
  rule->std_offset = -off;  // POSIX offsets are west-positive
  if (s.empty()) {
    rule->valid = true;
    return true;
  }
  if (!ParseAbbrev(&s)) return false;
  rule->has_dst = true;
  rule->dst_offset = rule->std_offset + 3600;
  if (!s.empty() && s.front() != ',') {
    if (!ParseHms(&s, &off)) return false;
    rule->dst_offset = -off;
  }
  for (PosixRule::Date* d : {&rule->start, &rule->end}) {
    if (s.empty() || s.front() != ',') return false;
    s.remove_prefix(1);
    if (s.empty()) return false;
    if (s.front() == 'M') {
      s.remove_prefix(1);
      d->kind = 'M';
      if (!ParseInt(&s, &d->a) || s.empty() || s.front() != '.') return false;
      s.remove_prefix(1);
      if (!ParseInt(&s, &d->b) || s.empty() || s.front() != '.') return false;
      s.remove_prefix(1);
      if (!ParseInt(&s, &d->c)) return false;
      if (d->a < 1 || d->a > 12 || d->b < 1 || d->b > 5 || d->c > 6) return false;
    } else if (s.front() == 'J') {
      s.remove_prefix(1);
      d->kind = 'J';
      if (!ParseInt(&s, &d->a) || d->a < 1 || d->a > 365) return false;
    } else {
      d->kind = 'N';
      if (!ParseInt(&s, &d->a) || d->a > 365) return false;
    }
    d->time = 7200;
    if (!s.empty() && s.front() == '/') {
      s.remove_prefix(1);
      if (!ParseHms(&s, &d->time)) return false;
    }
  }
  if (!s.empty()) return false;
  rule->valid = true;
  return true;
}

std::int64_t TimeZone::RuleDateUtc(const PosixRule::Date& d, int y, std::int64_t offset) {
  std::int64_t days = 0;
  if (d.kind == 'J') {
    days = DaysFromCivil(y, 1, 1) + d.a - 1;
    if (IsLeap(y) && d.a >= 60) ++days;  // Jn never counts Feb 29
  } else if (d.kind == 'N') {
    days = DaysFromCivil(y, 1, 1) + d.a;
  } else {
    // Day d.c (0 = Sunday) of week d.b (5 = last) of month d.a.
    const std::int64_t first = DaysFromCivil(y, static_cast<unsigned>(d.a), 1);
    const std::int64_t first_wday = ((first % 7) + 7 + 4) % 7;  // 1970-01-01 was a Thursday
    std::int64_t day = first + ((d.c - first_wday) + 7) % 7 + 7 * (d.b - 1);
    const int next_y = d.a == 12 ? y + 1 : y;
    const unsigned next_m = d.a == 12 ? 1 : static_cast<unsigned>(d.a + 1);
    const std::int64_t month_end = DaysFromCivil(next_y, next_m, 1);
    while (day >= month_end) day -= 7;
    days = day;
  }
  return days * kDay + d.time - offset;
}

std::int64_t TimeZone::PosixOffsetAt(std::int64_t t) const {
  if (!rule_.has_dst) return rule_.std_offset;
  // Year of t (UTC, close enough: neighbours are examined too).
  const auto days = std::chrono::sys_days{std::chrono::days{t / kDay - (t % kDay < 0 ? 1 : 0)}};
  const int y = static_cast<int>(std::chrono::year_month_day{days}.year());
  std::int64_t best_time = INT64_MIN;
  std::int64_t best_offset = rule_.std_offset;
  for (int yy = y - 1; yy <= y + 1; ++yy) {
    // DST starts at a local standard time and ends at a local DST time.
    const std::int64_t start = RuleDateUtc(rule_.start, yy, rule_.std_offset);
    const std::int64_t end = RuleDateUtc(rule_.end, yy, rule_.dst_offset);
    if (start <= t && start > best_time) {
      best_time = start;
      best_offset = rule_.dst_offset;
    }
    if (end <= t && end > best_time) {
      best_time = end;
      best_offset = rule_.std_offset;
    }
  }
  return best_offset;
}

std::int64_t TimeZone::OffsetAt(std::int64_t t) const {
  if (transitions_.empty()) return rule_.valid ? PosixOffsetAt(t) : initial_offset_;
  if (t < transitions_.front()) return initial_offset_;
  if (t >= transitions_.back() && rule_.valid) return PosixOffsetAt(t);
  const auto it = std::upper_bound(transitions_.begin(), transitions_.end(), t);
  return offset_after_[static_cast<std::size_t>(it - transitions_.begin()) - 1];
}

Result<std::int64_t> TimeZone::LocalToUtc(std::int64_t local, AmbiguousTime ambiguous,
                                          NonexistentTime nonexistent) const {
  // Offsets in force a day either side bound the candidates: a local time L
  // corresponds to UTC L - o for every offset o that is in force at L - o.
  const std::int64_t before = OffsetAt(local - kDay);
  const std::int64_t after = OffsetAt(local + kDay);
  std::set<std::int64_t> candidates = {before, after, OffsetAt(local - before),
                                       OffsetAt(local - after)};
  std::vector<std::int64_t> valid;  // UTC instants, ascending after sort
  for (std::int64_t o : candidates) {
    if (OffsetAt(local - o) == o) valid.push_back(local - o);
  }
  std::sort(valid.begin(), valid.end());
  valid.erase(std::unique(valid.begin(), valid.end()), valid.end());
  if (valid.size() == 1) return valid.front();
  if (valid.size() >= 2) {
    switch (ambiguous) {
      case AmbiguousTime::kEarlier:
        return valid.front();
      case AmbiguousTime::kLater:
        return valid.back();
      case AmbiguousTime::kError:
        break;
    }
    return Status::InvalidArgument("local time is ambiguous in " + name_ +
                                   " (it occurs twice when dst ends)");
  }
  switch (nonexistent) {
    case NonexistentTime::kShiftForward:
      return local - before;
    case NonexistentTime::kShiftBackward:
      return local - after;
    case NonexistentTime::kError:
      break;
  }
  return Status::InvalidArgument("local time does not exist in " + name_ +
                                 " (it is skipped when dst starts)");
}

}  // namespace mh::csv
