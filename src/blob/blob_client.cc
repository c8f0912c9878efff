#include "blob/blob_client.h"

#include <algorithm>
#include <ctime>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/check.h"
#include "core/strings.h"
#include "net/http_get.h"

namespace mh::blob {
namespace {

std::string Env(const Environment& env, const char* name) {
  if (!env.get_env) return "";
  std::optional<std::string> v = env.get_env(name);
  return v ? *v : std::string();
}

std::string StripSlash(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// Each '/'-separated segment percent-encoded.
std::string EncodePath(std::string_view path) {
  std::string out;
  for (std::size_t i = 0; i <= path.size();) {
    std::size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    out += PercentEncode(path.substr(i, j - i));
    if (j < path.size()) out += '/';
    i = j + 1;
  }
  return out;
}

// A parsed blob request: the URL (no query), the account, and the SAS.
struct Target {
  std::string url;
  std::string path;  // the URL's path
  std::string account;
  std::string sas;
  bool is_blob = false;
};

std::string PathOf(const std::string& url) {
  const std::size_t scheme_end = url.find("://") + 3;
  const std::size_t p = url.find('/', scheme_end);
  return p == std::string::npos ? "/" : url.substr(p);
}

// The blob endpoint for `account` (no trailing '/').
std::string Endpoint(const Environment& env, const std::string& account,
                     const std::optional<ConnectionString>& cs) {
  std::string e = Env(env, "AZURE_STORAGE_BLOB_ENDPOINT");
  if (!e.empty()) return StripSlash(e);
  if (cs && !cs->blob_endpoint.empty() &&
      (cs->account_name.empty() || cs->account_name == account)) {
    return cs->blob_endpoint;
  }
  std::string suffix = cs ? cs->endpoint_suffix : "core.windows.net";
  return "https://" + account + ".blob." + suffix;
}

}  // namespace

Result<ConnectionString> ParseConnectionString(std::string_view text) {
  ConnectionString cs;
  bool have_protocol = false;
  for (const std::string& raw : Split(text, ';')) {
    std::string_view field = TrimSpace(raw);
    if (field.empty()) continue;
    const std::size_t eq = field.find('=');
    if (eq == std::string_view::npos) {
      return Status::InvalidArgument("connection string: a field has no '=' (expected Name=value)");
    }
    const std::string name = AsciiLower(TrimSpace(field.substr(0, eq)));
    const std::string value(TrimSpace(field.substr(eq + 1)));
    if (name == "accountname")
      cs.account_name = value;
    else if (name == "accountkey")
      cs.account_key = value;
    else if (name == "blobendpoint")
      cs.blob_endpoint = StripSlash(value);
    else if (name == "sharedaccesssignature")
      cs.sas = value.substr(value.rfind('?') == 0 ? 1 : 0);
    else if (name == "defaultendpointsprotocol")
      cs.protocol = value, have_protocol = true;
    else if (name == "endpointsuffix")
      cs.endpoint_suffix = value;
  }
  if (cs.account_name.empty() && cs.blob_endpoint.empty()) {
    return Status::InvalidArgument("connection string: neither AccountName nor BlobEndpoint");
  }
  if (cs.blob_endpoint.empty()) {
    cs.blob_endpoint = (have_protocol ? cs.protocol : "https") + "://" + cs.account_name +
                       ".blob." + cs.endpoint_suffix;
  }
  return cs;
}

Result<std::string> HmacSha256Base64(std::string_view key, std::string_view text) {
  std::optional<std::string> raw = DecodeBase64(key);
  if (!raw || raw->empty()) return Status::InvalidArgument("account key is not base64");
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), raw->data(), static_cast<int>(raw->size()),
           reinterpret_cast<const unsigned char*>(text.data()), text.size(), mac,
           &len) == nullptr) {
    return Status::Internal("hmac-sha256 failed");
  }
  std::string out;
  AppendBase64(std::string_view(reinterpret_cast<const char*>(mac), len), &out);
  return out;
}

std::string Sha256Hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  MH_CHECK(EVP_Digest(bytes.data(), bytes.size(), digest, &len, EVP_sha256(), nullptr) == 1);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * len);
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 15]);
  }
  return out;
}

std::string SharedKeyStringToSign(const SharedKeyRequest& r) {
  std::string s = r.method + "\n";
  s += "\n";                        // Content-Encoding
  s += "\n";                        // Content-Language
  s += r.content_length + "\n";     // Content-Length ("" when zero)
  s += "\n";                        // Content-MD5
  s += r.content_type + "\n";       // Content-Type
  s += "\n";                        // Date (x-ms-date is used)
  s += r.if_modified_since + "\n";  // If-Modified-Since
  s += "\n";                        // If-Match
  s += r.if_none_match + "\n";      // If-None-Match
  s += "\n";                        // If-Unmodified-Since
  s += "\n";                        // Range
  auto headers = r.ms_headers;
  for (auto& [name, value] : headers) name = AsciiLower(name);
  std::sort(headers.begin(), headers.end());
  for (const auto& [name, value] : headers) s += name + ":" + std::string(TrimSpace(value)) + "\n";
  s += "/" + r.account + r.path;
  auto query = r.query;
  for (auto& [name, value] : query) name = AsciiLower(name);
  std::sort(query.begin(), query.end());
  for (const auto& [name, value] : query) s += "\n" + name + ":" + value;
  return s;
}

Result<std::string> SharedKeyAuthorization(const SharedKeyRequest& request, std::string_view key) {
  MH_ASSIGN_OR_RETURN(std::string sig, HmacSha256Base64(key, SharedKeyStringToSign(request)));
  return "SharedKey " + request.account + ":" + sig;
}

Result<std::string> MakeServiceSas(const ServiceSasRequest& r, std::string_view key) {
  const std::string resource = "/blob/" + r.account + "/" + r.container + "/" + r.blob;
  // sp, st, se, resource, si, sip, spr, sv, sr, snapshot time, ses, rscc,
  // rscd, rsce, rscl, rsct.
  const std::string to_sign = r.permissions + "\n" + r.start + "\n" + r.expiry + "\n" + resource +
                              "\n\n\n" + r.protocol + "\n" + r.version + "\nb\n\n\n\n\n\n\n";
  MH_ASSIGN_OR_RETURN(std::string sig, HmacSha256Base64(key, to_sign));
  std::string q = "sv=" + PercentEncode(r.version) + "&sr=b&sp=" + PercentEncode(r.permissions);
  if (!r.start.empty()) q += "&st=" + PercentEncode(r.start);
  q += "&se=" + PercentEncode(r.expiry);
  if (!r.protocol.empty()) q += "&spr=" + PercentEncode(r.protocol);
  q += "&sig=" + PercentEncode(sig);
  return q;
}

std::string HttpDate(std::int64_t t) {
  const std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday],
                tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buf;
}

std::string IsoDate(std::int64_t t) {
  const std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

bool IsRemoteSource(std::string_view s) {
  const std::string lower = AsciiLower(s.substr(0, 8));
  return StartsWith(lower, "az://") || StartsWith(lower, "s3://") || net::IsHttpUrl(s);
}

Result<Download> DownloadSource(const std::string& source, const BlobOptions& options,
                                const IfChanged& if_changed) {
  const Environment& env = options.env;
  std::optional<ConnectionString> cs;
  const std::string cs_text = Env(env, "AZURE_STORAGE_CONNECTION_STRING");
  if (!cs_text.empty()) {
    Result<ConnectionString> parsed = ParseConnectionString(cs_text);
    if (!parsed.ok()) return parsed.status().WithContext("AZURE_STORAGE_CONNECTION_STRING");
    cs = std::move(*parsed);
  }
  const std::string lower = AsciiLower(source.substr(0, 8));
  Target t;
  if (StartsWith(lower, "s3://")) {
    return Status::InvalidArgument(
        net::RedactUrl(source) +
        ": s3:// is not fetched; pass the presigned https:// URL itself (its signature covers "
        "the host, which s3:// does not name)");
  }
  if (StartsWith(lower, "az://")) {
    std::string rest = source.substr(5);
    if (const std::size_t q = rest.find('?'); q != std::string::npos) {
      t.sas = rest.substr(q + 1);
      rest.resize(q);
    }
    const std::size_t a = rest.find('/');
    const std::size_t c = a == std::string::npos ? a : rest.find('/', a + 1);
    if (a == 0 || c == std::string::npos || c == a + 1 || c + 1 >= rest.size()) {
      return Status::InvalidArgument(net::RedactUrl(source) +
                                     ": expected az://ACCOUNT/CONTAINER/PATH");
    }
    t.account = rest.substr(0, a);
    const std::string container = rest.substr(a + 1, c - a - 1);
    const std::string blob = rest.substr(c + 1);
    t.url = Endpoint(env, t.account, cs) + "/" + EncodePath(container) + "/" + EncodePath(blob);
    t.is_blob = true;
  } else if (net::IsHttpUrl(source)) {
    const std::size_t q = source.find('?');
    t.url = source.substr(0, q);
    if (q != std::string::npos) t.sas = source.substr(q + 1);
    // Which account, when the URL is a blob's.
    const std::size_t host_start = t.url.find("://") + 3;
    const std::size_t host_end = t.url.find_first_of("/:", host_start);
    const std::string host = AsciiLower(t.url.substr(host_start, host_end - host_start));
    const std::string configured = StripSlash(Env(env, "AZURE_STORAGE_BLOB_ENDPOINT"));
    const std::string cs_endpoint = cs ? cs->blob_endpoint : "";
    if (const std::size_t dot = host.find(".blob."); dot != std::string::npos && dot > 0) {
      t.account = host.substr(0, dot);
      t.is_blob = true;
    } else if (!configured.empty() && StartsWith(t.url, configured + "/")) {
      t.is_blob = true;
    } else if (!cs_endpoint.empty() && StartsWith(t.url, cs_endpoint + "/")) {
      t.is_blob = true;
    }
    if (t.is_blob && t.account.empty()) {
      // Path-style (Azurite): the account is the first path segment.
      const std::string p = PathOf(t.url).substr(1);
      t.account = p.substr(0, p.find('/'));
    }
  } else {
    return Status::InvalidArgument(source + ": not a remote source");
  }
  t.path = PathOf(t.url);

  Download out;
  out.shown = net::RedactUrl(source);
  net::HttpGetOptions get;
  get.timeout = options.timeout;
  get.max_body_bytes = options.max_bytes;
  get.ca_file = options.ca_file;
  std::string url = t.url;
  if (!t.sas.empty()) {
    out.auth = "sas";
    url += "?" + t.sas;
  } else if (t.is_blob) {
    const std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
    get.headers.emplace_back("x-ms-version", kStorageApiVersion);
    get.headers.emplace_back("x-ms-date", HttpDate(now));
    std::string key;
    if (cs && cs->account_name == t.account) {
      if (!cs->sas.empty()) {
        out.auth = "sas";
        url += "?" + cs->sas;
      } else {
        key = cs->account_key;
      }
    }
    const std::string env_account = Env(env, "AZURE_STORAGE_ACCOUNT");
    if (out.auth.empty() && key.empty() && (env_account.empty() || env_account == t.account)) {
      key = Env(env, "AZURE_STORAGE_KEY");
    }
    if (out.auth == "sas") {
      get.headers.clear();
    } else if (!key.empty()) {
      SharedKeyRequest r;
      r.account = t.account;
      r.path = t.path;
      r.ms_headers = {{"x-ms-date", HttpDate(now)}, {"x-ms-version", kStorageApiVersion}};
      r.if_modified_since = if_changed.last_modified;
      r.if_none_match = if_changed.etag;
      Result<std::string> auth = SharedKeyAuthorization(r, key);
      if (!auth.ok()) return auth.status().WithContext(out.shown);
      get.headers.emplace_back("Authorization", *auth);
      out.auth = "shared-key";
    } else {
      std::shared_ptr<identity::TokenProvider> tokens =
          options.tokens ? options.tokens : identity::DefaultTokenProvider();
      Result<identity::AccessToken> token = tokens->GetToken(identity::kStorageResource);
      if (!token.ok()) return token.status().WithContext(out.shown);
      get.headers.emplace_back("Authorization", "Bearer " + token->token);
      out.auth = "managed-identity";
    }
  } else {
    out.auth = "none";
  }
  const bool conditional = !if_changed.etag.empty() || !if_changed.last_modified.empty();
  Result<net::HttpResponse> res = net::HttpResponse{};
  bool fetch = !conditional;
  if (conditional) {
    // Redirects not followed: cpp-httplib takes a 304 for a redirect
    // without a Location and fails. Another 3xx is fetched again below
    // unconditionally (redirects followed).
    net::HttpGetOptions cond = get;
    cond.follow_redirects = false;
    if (!if_changed.etag.empty()) cond.headers.emplace_back("If-None-Match", if_changed.etag);
    if (!if_changed.last_modified.empty()) {
      cond.headers.emplace_back("If-Modified-Since", if_changed.last_modified);
    }
    res = net::HttpGet(url, cond);
    if (res.ok() && res->status == 304) {
      out.not_modified = true;
      out.etag = if_changed.etag;
      out.last_modified = if_changed.last_modified;
      return out;
    }
    if (res.ok() && res->status >= 300 && res->status < 400) {
      // A Shared Key signature covered the conditional headers: sign anew.
      if (out.auth == "shared-key") return DownloadSource(source, options);
      fetch = true;
    }
  }
  if (fetch) res = net::HttpGet(url, get);
  if (!res.ok()) return res.status().WithContext(out.shown + " (" + out.auth + ")");
  if (res->status != 200) {
    std::string detail = out.auth;
    if (auto it = res->headers.find("x-ms-error-code"); it != res->headers.end()) {
      detail += ": " + QuoteForMessage(it->second, 60);
    }
    return net::HttpStatusError(out.shown, res->status, detail);
  }
  out.bytes = std::move(res->body);
  if (auto it = res->headers.find("etag"); it != res->headers.end()) out.etag = it->second;
  if (auto it = res->headers.find("last-modified"); it != res->headers.end()) {
    out.last_modified = it->second;
  }
  return out;
}

}  // namespace mh::blob
