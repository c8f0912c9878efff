#include "http/internal/send.h"

#include <memory>
#include <string>
#include <utility>

#include "core/compression.h"

namespace mh::http::internal {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool EqualsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// Calls f(item) for each comma-separated, trimmed, non-empty item of `list`.
template <typename F>
void ForEachItem(std::string_view list, F f) {
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    std::string_view item = Trim(list.substr(0, comma));
    if (!item.empty()) f(item);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
}

// A q parameter of zero ("q=0", "q=0.0", "q=0.000").
bool QualityZero(std::string_view params) {
  std::size_t at = 0;
  while ((at = params.find(';', at)) != std::string_view::npos) {
    std::string_view p = Trim(params.substr(at + 1));
    p = p.substr(0, p.find(';'));
    const std::size_t eq = p.find('=');
    if (eq != std::string_view::npos && EqualsNoCase(Trim(p.substr(0, eq)), "q")) {
      const std::string_view v = Trim(p.substr(eq + 1));
      return !v.empty() && v.find_first_not_of("0.") == std::string_view::npos;
    }
    ++at;
  }
  return false;
}

bool Compressible(std::string_view content_type) {
  const std::string_view type = Trim(content_type.substr(0, content_type.find(';')));
  if (type.substr(0, 5) == "text/") return type != "text/event-stream";
  return type == "application/json" || type == "application/javascript" || type == "image/svg+xml";
}

}  // namespace

bool AcceptsGzip(std::string_view accept_encoding) {
  int gzip = -1, star = -1;  // -1 not named, 0 refused, 1 accepted
  ForEachItem(accept_encoding, [&](std::string_view item) {
    const std::string_view name = Trim(item.substr(0, item.find(';')));
    const int ok = QualityZero(item.substr(name.size())) ? 0 : 1;
    if (EqualsNoCase(name, "gzip") || EqualsNoCase(name, "x-gzip")) gzip = ok;
    if (name == "*") star = ok;
  });
  return gzip == 1 || (gzip == -1 && star == 1);
}

bool EtagMatches(std::string_view if_none_match, std::string_view etag) {
  if (etag.empty()) return false;
  auto opaque = [](std::string_view t) { return t.substr(0, 2) == "W/" ? t.substr(2) : t; };
  bool match = false;
  ForEachItem(if_none_match, [&](std::string_view tag) {
    if (tag == "*" || opaque(tag) == opaque(etag)) match = true;
  });
  return match;
}

void Send(const httplib::Request& req, const Response& r, httplib::Response& res) {
  res.status = r.status;
  res.set_header("Cache-Control", r.cache_control);
  res.set_header("X-Content-Type-Options", "nosniff");
  const bool compressible = !r.body.empty() && Compressible(r.content_type);
  if (compressible) res.set_header("Vary", "Accept-Encoding");
  if (!r.etag.empty()) {
    res.set_header("ETag", r.etag);
    if (r.status == 200 && EtagMatches(req.get_header_value("If-None-Match"), r.etag)) {
      res.status = 304;
      return;
    }
  }
  if (r.body.empty()) {
    res.set_content("", r.content_type.c_str());
    return;
  }
  std::shared_ptr<const std::string> owned;
  std::string_view out = r.body;
  if (compressible && r.body.size() >= kGzipMinBytes &&
      AcceptsGzip(req.get_header_value("Accept-Encoding"))) {
    if (!r.gzip_body.empty()) {
      out = r.gzip_body;
    } else if (auto packed = Compress(Compression::kGzip, r.body, kGzipLevel); packed.ok()) {
      owned = std::make_shared<const std::string>(std::move(packed).value());
      out = *owned;
    }
    if (out.data() != r.body.data()) res.set_header("Content-Encoding", "gzip");
  }
  if (owned == nullptr && out.data() == r.body.data()) {
    owned = std::make_shared<const std::string>(r.body);
    out = *owned;
  }
  // A body of known length through a content provider: httplib writes it as
  // it is (it would compress a body given with set_content itself).
  res.set_content_provider(
      out.size(), r.content_type,
      [owned, out](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
        return sink.write(out.data() + offset, length);
      });
}

}  // namespace mh::http::internal
