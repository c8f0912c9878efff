// Strict text-to-number conversion and small string helpers. Parsers accept
// the whole string or fail: "12abc" is an error, never 12.
#ifndef MH_CORE_STRINGS_H_
#define MH_CORE_STRINGS_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace mh {

// How ParseDoubleExact ended.
enum class DoubleParse : std::uint8_t {
  kOk = 0,        // *out holds the value
  kInvalid = 1,   // not a number in the syntax below
  kOverflow = 2,  // a number too large for a double (1e400): never +-inf
};
// Parses all of `text` as a double, correctly rounded (std::from_chars; the
// same bits as strtod or Python's float()). Syntax: an optional '+' or '-',
// digits with an optional '.' (".5" and "5." allowed), an optional exponent
// (e or E, optional sign, digits), or inf, infinity, nan (any case). No
// blanks, no hex, no "nan(...)". A nonzero value too small for a double
// (1e-400) reads as 0.0 with its sign, as strtod and Python do.
DoubleParse ParseDoubleExact(std::string_view text, double* out);
// ParseDoubleExact as a Result: InvalidArgument quoting the text (bounded,
// see QuoteForMessage) when it is not a number or too large.
Result<double> ParseDouble(std::string_view text);
// A base-10 integer that fits in int64; InvalidArgument otherwise.
Result<std::int64_t> ParseInt(std::string_view text);
// A size in bytes: a non-negative number with an optional unit, B, KB, MB,
// GB, TB (powers of 1000) or KiB, MiB, GiB, TiB (powers of 1024), any case:
// "20GB", "512MiB", "1.5gb", "4096". InvalidArgument quoting the text.
Result<std::uint64_t> ParseByteSize(std::string_view text);
// `text` without ASCII white space (space, \t, \n, \v, \f, \r) at either end.
std::string_view TrimSpace(std::string_view text);
// `text` with ASCII letters A-Z turned to a-z (other bytes unchanged).
std::string AsciiLower(std::string_view text);
// `text` on one line for a message: newline and tab as \n and \t, every
// other control byte (0x00-0x1f, 0x7f) as \xNN (lower-case hex); all other
// bytes unchanged.
std::string EscapeControls(std::string_view text);
// Whether `text` ends with `suffix` (byte for byte).
constexpr bool EndsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}
// Splits on `sep`, keeping empty fields.
std::vector<std::string> Split(std::string_view text, char sep);
// Shortest decimal text that reads back to the same double ("NaN",
// "Infinity", "-Infinity" for non-finite values).
std::string FormatDouble(double value);
// Appends `text` as a JSON string literal (quotes added; '"', '\\', \n, \r,
// \t escaped by name, other control bytes as \u00XX; UTF-8 passed through).
void AppendJsonString(std::string_view text, std::string* out);
// Appends a finite double as a JSON number: the shortest text that reads back
// to the same double, in exponent form when it would otherwise be an integer
// too long for 64 bits (JSON readers such as simdjson refuse those). A
// non-finite value is a bug (checked).
void AppendJsonNumber(double value, std::string* out);
// Percent-encodes `text` for a URL query value or path segment: the RFC 3986
// unreserved characters (A-Z a-z 0-9 - _ . ~) are kept, every other byte
// becomes %XX (upper-case hex).
std::string PercentEncode(std::string_view text);
// `text` (bytes from a file, a request, a user) made safe and short enough
// to quote in a message. Contract, for every input:
//  - the result is the text between single quotes: 'text';
//  - a NUL byte is shown as \0, every other control byte (0x01-0x1f, 0x7f)
//    and every byte that is not part of valid UTF-8 as \xNN (lower-case hex),
//    a backslash as \\; valid UTF-8 (other than controls) is kept; quotes are
//    kept as they are. So a cell "1<NUL>" shows as '1\0', never as '1';
//  - at most `max_bytes` bytes of the input are shown: a longer text is cut
//    at a UTF-8 character boundary and the result is 'shown...' (N more
//    bytes), N being the number of input bytes not shown;
//  - the result is at most 4 * max_bytes + 40 bytes long.
std::string QuoteForMessage(std::string_view text, std::size_t max_bytes = 80);

// Offset of the first byte of `text` that does not start a valid UTF-8
// sequence (overlong forms and surrogates are invalid), or -1 when all of it
// is valid UTF-8.
std::ptrdiff_t FindInvalidUtf8(std::string_view text);
// `text` with each byte that does not start a valid UTF-8 sequence (see
// FindInvalidUtf8) replaced by U+FFFD, so that it can go into JSON or TOML.
std::string ReplaceInvalidUtf8(std::string_view text);

// Appends `bytes` in base64 (RFC 4648, standard alphabet, '=' padding): a
// binary payload carried inside JSON (dead letters).
void AppendBase64(std::string_view bytes, std::string* out);

// Decodes standard base64 ('=' padding optional); nullopt for any other
// character or a dangling sextet.
std::optional<std::string> DecodeBase64(std::string_view text);

}  // namespace mh

#endif  // MH_CORE_STRINGS_H_
