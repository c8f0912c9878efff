#include "identity/token_provider.h"

#include <ctime>
#include <utility>

#include <nlohmann/json.hpp>

#include "core/strings.h"
#include "net/http_get.h"

namespace mh::identity {
namespace {

std::int64_t WallSeconds() { return static_cast<std::int64_t>(std::time(nullptr)); }

// A JSON number or a decimal string; nullopt otherwise.
std::optional<std::int64_t> JsonSeconds(const nlohmann::json& v) {
  if (v.is_number_integer()) return v.get<std::int64_t>();
  if (v.is_number()) return static_cast<std::int64_t>(v.get<double>());
  if (v.is_string()) {
    Result<std::int64_t> n = ParseInt(v.get<std::string>());
    if (n.ok()) return *n;
  }
  return std::nullopt;
}

}  // namespace

ManagedIdentityCredential::ManagedIdentityCredential(const Environment& env,
                                                     ManagedIdentityOptions options)
    : options_(std::move(options)) {
  if (!options_.now) options_.now = WallSeconds;
  auto get = [&](const char* name) {
    std::optional<std::string> v = env.get_env ? env.get_env(name) : std::nullopt;
    return v ? *v : std::string();
  };
  const std::string endpoint = get("IDENTITY_ENDPOINT");
  const std::string header = get("IDENTITY_HEADER");
  if (!endpoint.empty() && !header.empty()) {
    endpoint_ = endpoint;
    identity_header_ = header;
  } else {
    endpoint_ = get("MH_IMDS_ENDPOINT");
    if (endpoint_.empty()) endpoint_ = kDefaultImdsEndpoint;
  }
  client_id_ = get("AZURE_CLIENT_ID");
}

std::string ManagedIdentityCredential::Describe() const {
  return (identity_header_.empty() ? "managed identity (imds " : "managed identity (app-service ") +
         net::RedactUrl(endpoint_) + ")";
}

int ManagedIdentityCredential::requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

Result<AccessToken> ManagedIdentityCredential::GetToken(const std::string& resource) {
  std::lock_guard lock(mu_);
  auto it = cache_.find(resource);
  if (it != cache_.end() &&
      options_.now() + options_.refresh_margin.count() < it->second.expires_on) {
    return it->second;
  }
  MH_ASSIGN_OR_RETURN(AccessToken token, Request(resource));
  cache_[resource] = token;
  return token;
}

Result<AccessToken> ManagedIdentityCredential::Request(const std::string& resource) {
  ++requests_;
  const bool app_service = !identity_header_.empty();
  std::string url = endpoint_;
  url += url.find('?') == std::string::npos ? '?' : '&';
  url += std::string("api-version=") + (app_service ? "2019-08-01" : "2018-02-01");
  url += "&resource=" + PercentEncode(resource);
  if (!client_id_.empty()) url += "&client_id=" + PercentEncode(client_id_);
  net::HttpGetOptions get;
  get.timeout = options_.timeout;
  get.ca_file = options_.ca_file;
  get.max_body_bytes = 1 << 20;
  get.follow_redirects = false;
  if (app_service) {
    get.headers.emplace_back("X-IDENTITY-HEADER", identity_header_);
  } else {
    get.headers.emplace_back("Metadata", "true");
  }
  const std::string what = Describe() + ": token for " + resource;
  Result<net::HttpResponse> res = net::HttpGet(url, get);
  if (!res.ok()) return res.status().WithContext(what);
  nlohmann::json doc = nlohmann::json::parse(res->body, nullptr, /*allow_exceptions=*/false);
  if (res->status != 200) {
    std::string detail;
    if (doc.is_object() && doc.contains("error") && doc["error"].is_string()) {
      detail = QuoteForMessage(doc["error"].get<std::string>(), 60);
    }
    return net::HttpStatusError(url, res->status, detail).WithContext(what);
  }
  if (!doc.is_object() || !doc.contains("access_token") || !doc["access_token"].is_string() ||
      doc["access_token"].get<std::string>().empty()) {
    return Status::Corruption(what + ": answer has no access_token");
  }
  AccessToken token;
  token.token = doc["access_token"].get<std::string>();
  std::optional<std::int64_t> expires;
  if (doc.contains("expires_on")) expires = JsonSeconds(doc["expires_on"]);
  if (!expires && doc.contains("expires_in")) {
    if (auto in = JsonSeconds(doc["expires_in"])) expires = options_.now() + *in;
  }
  if (!expires) return Status::Corruption(what + ": answer has no expires_on or expires_in");
  token.expires_on = *expires;
  return token;
}

std::shared_ptr<TokenProvider> DefaultTokenProvider() {
  static std::shared_ptr<TokenProvider> provider =
      std::make_shared<ManagedIdentityCredential>(ProcessEnvironment());
  return provider;
}

}  // namespace mh::identity
