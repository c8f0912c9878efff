// One HTTP(S) GET client for the whole project's downloads (tables, models,
// managed-identity tokens), built on cpp-httplib: redirects followed, TLS
// verified against the system CA store (OpenSSL's default paths, so
// SSL_CERT_FILE applies) or `ca_file`. The libcurl POST clients of the
// InfluxDB sink and the webhook notifier are separate (they keep a
// connection and retry; this one fetches once).
//
// Secrets: a URL's query (an Azure SAS token, for instance) never appears in
// a message (RedactUrl); request header values are never echoed.
//
// Thread safety: free functions, reentrant.
#ifndef MH_NET_HTTP_GET_H_
#define MH_NET_HTTP_GET_H_

#include <chrono>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace mh::net {

// True for "http://..." and "https://..." (case-insensitive scheme).
bool IsHttpUrl(std::string_view path_or_url);

// The URL with everything from the first '?' replaced by "?<redacted>"; other
// text unchanged.
std::string RedactUrl(std::string_view path_or_url);

struct HttpGetOptions {
  // Extra request headers, name and value.
  std::vector<std::pair<std::string, std::string>> headers;
  // Connect and read timeouts.
  std::chrono::milliseconds timeout{30000};
  // Largest body accepted.
  std::size_t max_body_bytes = std::size_t{1} << 31;
  // PEM CA bundle for https ("" = the system store).
  std::string ca_file;
  bool follow_redirects = true;
};

struct HttpResponse {
  int status = 0;
  std::string body;
  // Response headers, names lower-cased.
  std::map<std::string, std::string> headers;
};

// GETs `url` and returns the answer whatever its status. InvalidArgument for
// a malformed URL (or user:password@ in it), Unavailable when the server
// cannot be reached, IOError for an oversized body. Messages carry the
// redacted URL only.
Result<HttpResponse> HttpGet(const std::string& url, const HttpGetOptions& options);

// HttpGet with a 200 required: NotFound for 404, Unavailable for 5xx,
// IOError for other statuses; the message is "URL: http STATUS" with the
// redacted URL (a server's error text is not included: it may echo a
// signature). The caller adds its own reason (e.g. from an error header).
Result<std::string> FetchBody(const std::string& url, const HttpGetOptions& options);

// "URL: http STATUS" plus " (DETAIL)" when `detail` is not empty; the status
// code kind as FetchBody's.
Status HttpStatusError(const std::string& url, int status, std::string_view detail);

}  // namespace mh::net

#endif  // MH_NET_HTTP_GET_H_
