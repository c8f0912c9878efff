// Access tokens for Azure resources from a managed identity, shared by every
// component that talks to Azure (Blob model downloads, Event Hubs SASL
// OAUTHBEARER).
//
// Contract:
// - GetToken(resource) returns a bearer token for `resource` (e.g.
//   "https://storage.azure.com/", "https://NS.servicebus.windows.net") and its
//   expiry (Unix seconds). A token is cached per resource and reused until
//   `refresh_margin` before its expiry; then the identity endpoint is asked
//   again. Concurrent callers wait for one request.
// - Sources, picked once from the environment at construction:
//   1. App Service / Container Apps: IDENTITY_ENDPOINT and IDENTITY_HEADER
//      both set: GET $IDENTITY_ENDPOINT?api-version=2019-08-01&resource=R
//      with header X-IDENTITY-HEADER.
//   2. otherwise the VM instance metadata endpoint: GET
//      ENDPOINT?api-version=2018-02-01&resource=R with "Metadata: true",
//      ENDPOINT = MH_IMDS_ENDPOINT when set (a test/override knob, e.g.
//      http://127.0.0.1:PORT/metadata/identity/oauth2/token), else
//      http://169.254.169.254/metadata/identity/oauth2/token.
//   AZURE_CLIENT_ID, when set, selects a user-assigned identity (client_id=).
// - Answers are JSON with "access_token" and "expires_on" (Unix seconds, as a
//   string or number); "expires_in" (seconds from now) is the fallback.
// - Secrets: tokens and IDENTITY_HEADER never appear in a message; errors
//   name the endpoint (its query redacted), the HTTP status and the
//   endpoint's "error" code when it gives one.
//
// Thread safety: GetToken may be called from any thread (librdkafka's
// background thread included).
#ifndef MH_IDENTITY_TOKEN_PROVIDER_H_
#define MH_IDENTITY_TOKEN_PROVIDER_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "core/environment.h"
#include "core/result.h"

namespace mh::identity {

inline constexpr char kStorageResource[] = "https://storage.azure.com/";
inline constexpr char kDefaultImdsEndpoint[] =
    "http://169.254.169.254/metadata/identity/oauth2/token";

struct AccessToken {
  std::string token;
  std::int64_t expires_on = 0;  // Unix seconds
};

class TokenProvider {
 public:
  virtual ~TokenProvider() = default;
  virtual Result<AccessToken> GetToken(const std::string& resource) = 0;
};

struct ManagedIdentityOptions {
  // Renew a cached token this long before it expires.
  std::chrono::seconds refresh_margin{300};
  std::chrono::milliseconds timeout{10000};
  // PEM CA bundle for an https identity endpoint ("" = system store).
  std::string ca_file;
  // The clock (Unix seconds); tests may replace it.
  std::function<std::int64_t()> now;
};

class ManagedIdentityCredential final : public TokenProvider {
 public:
  ManagedIdentityCredential(const Environment& env, ManagedIdentityOptions options = {});
  Result<AccessToken> GetToken(const std::string& resource) override;

  // "app-service IDENTITY_ENDPOINT" or "imds ENDPOINT": for messages.
  std::string Describe() const;
  // How many token requests were sent (tests).
  int requests() const;

 private:
  Result<AccessToken> Request(const std::string& resource);

  ManagedIdentityOptions options_;
  std::string endpoint_;
  std::string identity_header_;  // "" for IMDS
  std::string client_id_;
  mutable std::mutex mu_;
  std::map<std::string, AccessToken> cache_;
  int requests_ = 0;
};

// The process-wide credential over ProcessEnvironment(), made on first use.
std::shared_ptr<TokenProvider> DefaultTokenProvider();

}  // namespace mh::identity

#endif  // MH_IDENTITY_TOKEN_PROVIDER_H_
