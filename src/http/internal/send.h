// Private helper of src/http: how both servers (dashboard_server.cc,
// metrics_server.cc) write an http::Response through cpp-httplib.
//
// Content coding is ours, not httplib's: httplib compresses every text/* and
// application/json body itself, with brotli at its slowest quality when the
// client offers "br" (every browser does), which cost 50-300 ms of CPU per
// API answer and per script (issue 17, docs/benchmarks.md "Dashboard
// speed"). Send instead gzips a body of kGzipMinBytes or more of a
// compressible type when the request accepts gzip (a static asset's gzip form
// is made once, Response::gzip_body), and hands httplib a body of known
// length, which it writes as is. A response with an ETag answers a request
// whose If-None-Match names it with 304 and no body.
//
// Thread safety: free functions without shared state.
#ifndef MH_HTTP_INTERNAL_SEND_H_
#define MH_HTTP_INTERNAL_SEND_H_

#include <cstddef>
#include <string_view>

#include <httplib.h>

#include "http/api.h"

namespace mh::http::internal {

// Bodies shorter than this are sent as they are.
inline constexpr std::size_t kGzipMinBytes = 1024;
// zlib level of a body compressed per request (the API's JSON).
inline constexpr int kGzipLevel = 6;

// True when an Accept-Encoding value accepts gzip ("gzip" or "*" without
// q=0; names are case-insensitive).
bool AcceptsGzip(std::string_view accept_encoding);

// True when an If-None-Match value ("*", or a list of tags, weak or strong)
// matches `etag` (weak comparison, as for GET).
bool EtagMatches(std::string_view if_none_match, std::string_view etag);

// Writes `r` into `res` for `req` (status, Cache-Control, nosniff, ETag,
// Vary and Content-Encoding when compressed, the body).
void Send(const httplib::Request& req, const Response& r, httplib::Response& res);

}  // namespace mh::http::internal

#endif  // MH_HTTP_INTERNAL_SEND_H_
