// Downloads from Azure Blob Storage (and any http(s) URL) for model sources.
//
// Addresses:
//   az://ACCOUNT/CONTAINER/PATH   a blob; the endpoint is, in order,
//       AZURE_STORAGE_BLOB_ENDPOINT, the BlobEndpoint of
//       AZURE_STORAGE_CONNECTION_STRING (both may be path-style, as Azurite's
//       http://127.0.0.1:10000/devstoreaccount1), else
//       https://ACCOUNT.blob.core.windows.net.
//   https://ACCOUNT.blob.core.windows.net/CONTAINER/PATH[?SAS], or a URL
//       under the configured endpoint: a blob, as above.
//   other http(s) URLs (an S3 presigned URL included): fetched as they are.
//   s3://...: refused, naming the reason (a presigned S3 URL is an https URL
//       whose signature covers its host, so it is passed as that URL).
// Authentication of a blob, first that applies:
//   1. a SAS token in the URL's query (sent as it is);
//   2. AZURE_STORAGE_CONNECTION_STRING for the same account: its
//      SharedAccessSignature, else its AccountKey (Shared Key signing);
//   3. AZURE_STORAGE_KEY (with AZURE_STORAGE_ACCOUNT unset or naming the same
//      account): Shared Key signing;
//   4. a managed identity (identity/token_provider.h): a bearer token for
//      https://storage.azure.com/.
// Secrets (keys, SAS, tokens) never appear in messages: URLs are shown with
// their query redacted; Azure's error code (x-ms-error-code) is shown, its
// error text (which may echo a signature) is not.
//
// Thread safety: free functions, reentrant; the token provider is shared.
#ifndef MH_BLOB_BLOB_CLIENT_H_
#define MH_BLOB_BLOB_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/environment.h"
#include "core/result.h"
#include "identity/token_provider.h"

namespace mh::blob {

inline constexpr char kStorageApiVersion[] = "2021-08-06";

// AZURE_STORAGE_CONNECTION_STRING's fields ("Name=value;..."; names
// case-insensitive). Unknown fields are ignored.
struct ConnectionString {
  std::string account_name;
  std::string account_key;
  std::string blob_endpoint;  // without a trailing '/'
  std::string sas;            // without a leading '?'
  std::string protocol = "https";
  std::string endpoint_suffix = "core.windows.net";
};
// InvalidArgument "connection string: ..." (never quoting a value) when a
// field has no '=' or neither AccountName nor BlobEndpoint is given.
Result<ConnectionString> ParseConnectionString(std::string_view text);

// base64(HMAC-SHA256(base64-decoded `key`, `text`)). InvalidArgument (not
// quoting the key) when the key is not base64.
Result<std::string> HmacSha256Base64(std::string_view key, std::string_view text);

// Lower-case hex SHA-256 of `bytes` (OpenSSL's libcrypto, as the HMAC): the
// project's one SHA-256 (model versions and --model-sha256 pins).
std::string Sha256Hex(std::string_view bytes);

struct SharedKeyRequest {
  std::string method = "GET";
  std::string account;
  // The request URL's path, as sent (e.g. "/devstoreaccount1/c/b" path-style).
  std::string path;
  // Query parameters (not percent-encoded), for the canonicalised resource.
  std::vector<std::pair<std::string, std::string>> query;
  // x-ms-* headers sent (names lower-case).
  std::vector<std::pair<std::string, std::string>> ms_headers;
  std::string content_length;  // "" for none or zero
  std::string content_type;
  // Conditional request headers sent ("" for none); both are signed.
  std::string if_modified_since;
  std::string if_none_match;
};
// The Shared Key string-to-sign (version 2015-02-21 and later).
std::string SharedKeyStringToSign(const SharedKeyRequest& request);
// "SharedKey ACCOUNT:SIGNATURE".
Result<std::string> SharedKeyAuthorization(const SharedKeyRequest& request, std::string_view key);

// A service SAS for one blob (version 2020-12-06 string-to-sign), returned
// as a query string without '?': "sv=...&sr=b&sp=...&st=...&se=...&sig=...".
// Times are ISO 8601 UTC "YYYY-MM-DDTHH:MM:SSZ".
struct ServiceSasRequest {
  std::string account, container, blob;
  std::string permissions = "r";
  std::string start, expiry;
  std::string protocol;  // "" (any), "https" or "https,http"
  std::string version = "2020-12-06";
};
Result<std::string> MakeServiceSas(const ServiceSasRequest& request, std::string_view key);

// RFC 1123 date of Unix seconds `t` ("Mon, 07 Dec 2026 08:00:00 GMT").
std::string HttpDate(std::int64_t t);
// ISO 8601 UTC of Unix seconds `t` ("2026-12-07T08:00:00Z").
std::string IsoDate(std::int64_t t);

struct BlobOptions {
  Environment env;
  // Managed identity; nullptr = identity::DefaultTokenProvider() when needed.
  std::shared_ptr<identity::TokenProvider> tokens;
  // PEM CA bundle for https ("" = the system store).
  std::string ca_file;
  std::chrono::milliseconds timeout{60000};
  std::size_t max_bytes = std::size_t{1} << 30;
};

// A download's bytes and how they were fetched.
struct Download {
  std::string bytes;
  std::string shown;  // the source for messages and model cards (no secrets)
  std::string auth;   // "none", "sas", "shared-key", "managed-identity"
  std::string etag;
  std::string last_modified;  // the Last-Modified header, as sent
  // A conditional download answered 304 Not Modified: `bytes` is empty and
  // etag/last_modified are the validators that were sent.
  bool not_modified = false;
};

// Validators of a conditional download (the previous Download's etag and
// last_modified; "" for none): sent as If-None-Match / If-Modified-Since.
struct IfChanged {
  std::string etag;
  std::string last_modified;
};

// True for "az://", "s3://", "http://" and "https://" sources.
bool IsRemoteSource(std::string_view source);

// Downloads `source` (see the top of this file). Errors name the shown
// source: InvalidArgument for a malformed address or s3://, NotFound (404),
// IOError naming the status and Azure's error code (403
// AuthenticationFailed, ...), Unavailable, and the token provider's errors.
// With `if_changed` (either validator set), a 304 answer is a Download with
// not_modified set and nothing downloaded.
Result<Download> DownloadSource(const std::string& source, const BlobOptions& options,
                                const IfChanged& if_changed = {});

}  // namespace mh::blob

#endif  // MH_BLOB_BLOB_CLIENT_H_
