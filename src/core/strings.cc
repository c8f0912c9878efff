#include "core/strings.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <string>
#include <string_view>

#include "core/check.h"

namespace mh {

namespace {

// For a text std::from_chars read whole but found out of range: true when
// the value's magnitude is below 1 (so it underflowed), false when it is at
// least 1 (it overflowed). The decimal exponent of the first nonzero digit
// decides; the text holds one (from_chars reports zero as in range).
bool MagnitudeBelowOne(std::string_view s) {
  std::size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  while (i < s.size() && s[i] == '0') ++i;
  std::int64_t e10 = 0;  // decimal exponent of the first nonzero digit
  std::size_t int_digits = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
    ++int_digits;
    ++i;
  }
  if (int_digits > 0) {
    e10 = static_cast<std::int64_t>(std::min<std::size_t>(int_digits, 1'000'000'000)) - 1;
  }
  if (i < s.size() && s[i] == '.') ++i;
  if (int_digits == 0) {
    std::int64_t zeros = 0;
    while (i < s.size() && s[i] == '0') {
      if (zeros < 1'000'000'000) ++zeros;
      ++i;
    }
    e10 = -(zeros + 1);
  }
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    bool negative = false;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) negative = s[i++] == '-';
    std::int64_t exp = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      if (exp < 1'000'000'000) exp = exp * 10 + (s[i] - '0');
      ++i;
    }
    e10 += negative ? -exp : exp;
  }
  return e10 < 0;
}

}  // namespace

DoubleParse ParseDoubleExact(std::string_view text, double* out) {
  const char* begin = text.data();
  const char* end = begin + text.size();
  if (begin != end && *begin == '+') {
    ++begin;
    if (begin != end && *begin == '-') return DoubleParse::kInvalid;  // "+-1"
  }
  if (begin == end) return DoubleParse::kInvalid;
  double value = 0;
  const auto [ptr, ec] = std::from_chars(begin, end, value);
  if (ptr != end) return DoubleParse::kInvalid;
  if (ec == std::errc()) {
    if (std::isnan(value) && end[-1] == ')') return DoubleParse::kInvalid;  // "nan(1)"
    *out = value;
    return DoubleParse::kOk;
  }
  if (ec != std::errc::result_out_of_range) return DoubleParse::kInvalid;
  if (!MagnitudeBelowOne(std::string_view(begin, static_cast<std::size_t>(end - begin)))) {
    return DoubleParse::kOverflow;
  }
  *out = *begin == '-' ? -0.0 : 0.0;
  return DoubleParse::kOk;
}

Result<double> ParseDouble(std::string_view text) {
  double value = 0;
  switch (ParseDoubleExact(text, &value)) {
    case DoubleParse::kOk:
      return value;
    case DoubleParse::kOverflow:
      return Status::InvalidArgument(QuoteForMessage(text) + " is too large for a double");
    case DoubleParse::kInvalid:
      break;
  }
  return Status::InvalidArgument(QuoteForMessage(text) + " is not a number");
}

Result<std::int64_t> ParseInt(std::string_view text) {
  std::int64_t value = 0;
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  if (!text.empty() && *begin == '+') ++begin;
  auto [ptr, ec] = std::from_chars(begin, end, value);
  if (text.empty() || ec != std::errc() || ptr != end || (begin != text.data() && *begin == '-')) {
    return Status::InvalidArgument(QuoteForMessage(text) + " is not an integer");
  }
  return value;
}

Result<std::uint64_t> ParseByteSize(std::string_view text) {
  auto bad = [&] {
    return Status::InvalidArgument(QuoteForMessage(text) +
                                   " is not a size (expected e.g. 20GB, 512MiB, 4096)");
  };
  std::size_t digits = 0;
  while (digits < text.size() &&
         (std::isdigit(static_cast<unsigned char>(text[digits])) || text[digits] == '.')) {
    ++digits;
  }
  if (digits == 0) return bad();
  double number = 0;
  if (ParseDoubleExact(text.substr(0, digits), &number) != DoubleParse::kOk) return bad();
  const std::string unit = AsciiLower(text.substr(digits));
  static const std::pair<const char*, double> kUnits[] = {{"", 1},
                                                          {"b", 1},
                                                          {"kb", 1e3},
                                                          {"mb", 1e6},
                                                          {"gb", 1e9},
                                                          {"tb", 1e12},
                                                          {"kib", 1024.0},
                                                          {"mib", 1048576.0},
                                                          {"gib", 1073741824.0},
                                                          {"tib", 1099511627776.0}};
  for (const auto& [name, scale] : kUnits) {
    if (unit != name) continue;
    const double bytes = number * scale;
    if (!std::isfinite(bytes) || bytes >= 1.8e19) return bad();
    return static_cast<std::uint64_t>(bytes + 0.5);
  }
  return bad();
}

std::string_view TrimSpace(std::string_view text) {
  auto space = [](char c) { return c == ' ' || (c >= '\t' && c <= '\r'); };
  while (!text.empty() && space(text.front())) text.remove_prefix(1);
  while (!text.empty() && space(text.back())) text.remove_suffix(1);
  return text;
}

std::string AsciiLower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string EscapeControls(std::string_view text) {
  std::string s;
  s.reserve(text.size());
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\n') {
      s += "\\n";
    } else if (c == '\t') {
      s += "\\t";
    } else if (u < 0x20 || u == 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      s += "\\x";
      s += kHex[u >> 4];
      s += kHex[u & 15];
    } else {
      s += c;
    }
  }
  return s;
}

std::vector<std::string> Split(std::string_view text, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    std::size_t pos = text.find(sep, start);
    if (pos == std::string_view::npos) {
      out.emplace_back(text.substr(start));
      return out;
    }
    out.emplace_back(text.substr(start, pos - start));
    start = pos + 1;
  }
}

std::string FormatDouble(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  char buf[32];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  return std::string(buf, ptr);
}

void AppendJsonNumber(double value, std::string* out) {
  MH_CHECK(std::isfinite(value));
  char buf[32];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  MH_CHECK(ec == std::errc());
  // Integer-looking text of 19 or more digits may not fit in int64/uint64.
  if (std::fabs(value) >= 1e18 &&
      std::string_view(buf, static_cast<std::size_t>(ptr - buf)).find_first_of(".e") ==
          std::string_view::npos) {
    const auto sci = std::to_chars(buf, buf + sizeof(buf), value, std::chars_format::scientific);
    MH_CHECK(sci.ec == std::errc());
    ptr = sci.ptr;
  }
  out->append(buf, ptr);
}

void AppendJsonString(std::string_view text, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  std::size_t run = 0;  // start of the pending run of plain bytes
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out->append(text.substr(run, i - run));
    run = i + 1;
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default: {
        const char esc[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
        out->append(esc, sizeof(esc));
      }
    }
  }
  out->append(text.substr(run));
  out->push_back('"');
}

std::string PercentEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

namespace {

// Length of the valid UTF-8 sequence (2 to 4 bytes, no overlong forms or
// surrogates) starting at text[i], or 0.
std::size_t Utf8SequenceLength(std::string_view text, std::size_t i) {
  const auto b0 = static_cast<unsigned char>(text[i]);
  std::size_t n = 0;
  unsigned char lo = 0x80, hi = 0xbf;  // allowed range of the second byte
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    n = 2;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    n = 3;
    if (b0 == 0xe0) lo = 0xa0;
    if (b0 == 0xed) hi = 0x9f;
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    n = 4;
    if (b0 == 0xf0) lo = 0x90;
    if (b0 == 0xf4) hi = 0x8f;
  } else {
    return 0;
  }
  if (i + n > text.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    const auto b = static_cast<unsigned char>(text[i + k]);
    if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xbf)) return 0;
  }
  return n;
}

}  // namespace

std::ptrdiff_t FindInvalidUtf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    if (static_cast<unsigned char>(text[i]) < 0x80) {
      ++i;
      continue;
    }
    const std::size_t n = Utf8SequenceLength(text, i);
    if (n == 0) return static_cast<std::ptrdiff_t>(i);
    i += n;
  }
  return -1;
}

std::string ReplaceInvalidUtf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::ptrdiff_t bad = FindInvalidUtf8(text); bad >= 0; bad = FindInvalidUtf8(text)) {
    out.append(text.substr(0, static_cast<std::size_t>(bad)));
    out.append("\xEF\xBF\xBD");
    text.remove_prefix(static_cast<std::size_t>(bad) + 1);
  }
  out.append(text);
  return out;
}

std::string QuoteForMessage(std::string_view text, std::size_t max_bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(std::min(text.size(), max_bytes) + 2);
  out.push_back('\'');
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t n = 1;
    if (c >= 0x80) {
      n = Utf8SequenceLength(text, i);
      if (n == 0) n = 1;  // shown as \xNN below
    }
    if (i + n > max_bytes) break;
    if (c == 0) {
      out.append("\\0");
    } else if (c == '\\') {
      out.append("\\\\");
    } else if (c < 0x20 || c == 0x7f || (c >= 0x80 && n == 1)) {
      const char esc[] = {'\\', 'x', kHex[c >> 4], kHex[c & 15]};
      out.append(esc, sizeof(esc));
    } else {
      out.append(text.substr(i, n));
    }
    i += n;
  }
  if (i < text.size()) {
    out.append("...' (");
    out.append(std::to_string(text.size() - i));
    out.append(" more bytes)");
  } else {
    out.push_back('\'');
  }
  return out;
}

void AppendBase64(std::string_view bytes, std::string* out) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  out->reserve(out->size() + (bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t v = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16 |
                            static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1]))
                                << 8 |
                            static_cast<unsigned char>(bytes[i + 2]);
    for (int shift = 18; shift >= 0; shift -= 6) out->push_back(kAlphabet[(v >> shift) & 63]);
  }
  const std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    std::uint32_t v = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
    if (rest == 2) v |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
    out->push_back(kAlphabet[(v >> 18) & 63]);
    out->push_back(kAlphabet[(v >> 12) & 63]);
    out->push_back(rest == 2 ? kAlphabet[(v >> 6) & 63] : '=');
    out->push_back('=');
  }
}

std::optional<std::string> DecodeBase64(std::string_view text) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  std::string out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v;
    if (c >= 'A' && c <= 'Z')
      v = c - 'A';
    else if (c >= 'a' && c <= 'z')
      v = c - 'a' + 26;
    else if (c >= '0' && c <= '9')
      v = c - '0' + 52;
    else if (c == '+')
      v = 62;
    else if (c == '/')
      v = 63;
    else
      return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  if (bits >= 6) return std::nullopt;
  return out;
}

}  // namespace mh
