#include "net/http_get.h"

#include <exception>

#include <httplib.h>

#include "core/strings.h"

namespace mh::net {
namespace {

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && AsciiLower(s.substr(0, prefix.size())) == prefix;
}

}  // namespace

bool IsHttpUrl(std::string_view s) {
  return StartsWithIgnoreCase(s, "http://") || StartsWithIgnoreCase(s, "https://");
}

std::string RedactUrl(std::string_view s) {
  const std::size_t q = s.find('?');
  if (q == std::string_view::npos) return std::string(s);
  return std::string(s.substr(0, q)) + "?<redacted>";
}

Result<HttpResponse> HttpGet(const std::string& url, const HttpGetOptions& options) {
  const std::string shown = RedactUrl(url);
  if (!IsHttpUrl(url)) return Status::InvalidArgument(shown + ": not an http(s) url");
  const std::size_t scheme_end = url.find("://") + 3;
  const std::size_t path_start = url.find_first_of("/?#", scheme_end);
  const std::string origin = url.substr(0, path_start);
  std::string target = path_start == std::string::npos ? "/" : url.substr(path_start);
  if (const std::size_t hash = target.find('#'); hash != std::string::npos) target.resize(hash);
  if (target.empty() || target.front() == '?') target.insert(0, "/");
  if (origin.size() <= scheme_end || origin.find('@') != std::string::npos) {
    return Status::InvalidArgument(shown + ": expected http(s)://host[:port]/path");
  }
  HttpResponse out;
  bool too_big = false;
  try {
    httplib::Client client(origin);
    if (!client.is_valid()) return Status::InvalidArgument(shown + ": cannot use this url");
    client.set_follow_location(options.follow_redirects);
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(options.timeout);
    const auto micros =
        std::chrono::duration_cast<std::chrono::microseconds>(options.timeout - seconds);
    client.set_connection_timeout(seconds.count(), micros.count());
    client.set_read_timeout(seconds.count(), micros.count());
    if (!options.ca_file.empty()) client.set_ca_cert_path(options.ca_file.c_str());
    httplib::Headers headers;
    for (const auto& [name, value] : options.headers) headers.emplace(name, value);
    auto res = client.Get(target, headers, [&](const char* data, std::size_t len) {
      if (out.body.size() + len > options.max_body_bytes) {
        too_big = true;
        return false;
      }
      out.body.append(data, len);
      return true;
    });
    if (too_big) {
      return Status::IOError(shown + ": larger than the limit of " +
                             std::to_string(options.max_body_bytes) + " bytes");
    }
    if (!res) return Status::Unavailable(shown + ": " + httplib::to_string(res.error()));
    out.status = res->status;
    for (const auto& [name, value] : res->headers) out.headers[AsciiLower(name)] = value;
  } catch (const std::exception& e) {
    return Status::IOError(shown + ": " + e.what());
  }
  return out;
}

Status HttpStatusError(const std::string& url, int status, std::string_view detail) {
  std::string msg = RedactUrl(url) + ": http " + std::to_string(status);
  if (status == 404) msg += " not found";
  if (!detail.empty()) msg += " (" + std::string(detail) + ")";
  if (status == 404) return Status::NotFound(msg);
  if (status >= 500) return Status::Unavailable(msg);
  return Status::IOError(msg);
}

Result<std::string> FetchBody(const std::string& url, const HttpGetOptions& options) {
  MH_ASSIGN_OR_RETURN(HttpResponse res, HttpGet(url, options));
  if (res.status != 200) return HttpStatusError(url, res.status, "");
  return std::move(res.body);
}

}  // namespace mh::net
