// Strict text-to-number conversion and small string helpers. Parsers accept
// the whole string or fail: "12abc" is an error, never 12.
#ifndef MH_CORE_STRINGS_H_
#define MH_CORE_STRINGS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace mh {

// A finite or non-finite double in C locale syntax; InvalidArgument otherwise.
Result<double> ParseDouble(std::string_view text);
// A base-10 integer that fits in int64; InvalidArgument otherwise.
Result<std::int64_t> ParseInt(std::string_view text);
// `text` without ASCII white space (space, \t, \n, \v, \f, \r) at either end.
std::string_view TrimSpace(std::string_view text);
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

}  // namespace mh

#endif  // MH_CORE_STRINGS_H_
