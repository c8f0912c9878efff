// Uri: the endpoint addresses that choose transports and sinks
// ("kafka://h1:9092,h2:9092/telemetry?group=scorers", "mqtt://host:1883/t?qos=1",
// "influxdb://host:8086/iiot", "sqlite:scores.db", "jsonl:out.jsonl", "-").
//
// Grammar (a practical subset of RFC 3986):
//   "-"                                  scheme "-", nothing else
//   scheme ":" "//" authority ["/" path] ["?" query]
//   scheme ":" path ["?" query]           (no authority: sqlite:, jsonl:, inproc:)
// The authority may hold a comma-separated host list and "user@" (a user name
// only: passwords in a URI would end up in logs and shell history, so
// "user:password@" is rejected). Path and query values are percent-decoded.
//
// Thread safety: plain value type.
#ifndef MH_CORE_URI_H_
#define MH_CORE_URI_H_

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace mh {

struct Uri {
  std::string text;       // as given (never contains a secret, see above)
  std::string scheme;     // lowercase: "kafka", "mqtt", "sqlite", "-", ...
  std::string user;       // from "user@host", may be empty
  std::string authority;  // host list without user, e.g. "h1:9092,h2:9092"; may be empty
  std::string path;       // without the leading '/', decoded; may be empty
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order

  bool HasParam(std::string_view name) const;
  // The last value of `name`, or `fallback` when absent.
  std::string Param(std::string_view name, std::string_view fallback = "") const;
  // InvalidArgument naming the first parameter not in `allowed` (typos must
  // not be ignored silently).
  Status CheckParams(std::initializer_list<std::string_view> allowed) const;
  // host:port pairs of the authority, each checked; `default_port` when a
  // host has none. InvalidArgument on an empty host or a bad port.
  Result<std::vector<std::pair<std::string, int>>> HostPorts(int default_port) const;
};

// Parses `text`. InvalidArgument naming the problem (missing scheme, bad
// percent escape, password in the URI, ...).
Result<Uri> ParseUri(std::string_view text);

// Percent-decodes `text` ("%2F" -> "/"); InvalidArgument on a bad escape.
Result<std::string> PercentDecode(std::string_view text);

}  // namespace mh

#endif  // MH_CORE_URI_H_
