#include "notify/webhook_notifier.h"

#include <algorithm>
#include <mutex>
#include <string>
#include <utility>

#include <curl/curl.h>

namespace mh::notify {
namespace {

void GlobalInitOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::size_t CollectAnswer(char* data, std::size_t size, std::size_t count, void* user) {
  auto* answer = static_cast<std::string*>(user);
  // Keep only the start of the answer: it is for error messages.
  const std::size_t n = size * count;
  if (answer->size() < 500) answer->append(data, std::min(n, 500 - answer->size()));
  return n;
}

// The URL for messages: scheme://host[:port]/path, without user info or
// query (either may hold a secret someone put there).
std::string ShownUrl(const std::string& url) {
  std::string out = url.substr(0, url.find_first_of("?#"));
  const std::size_t scheme = out.find("://");
  if (scheme != std::string::npos) {
    const std::size_t host = scheme + 3;
    const std::size_t at = out.find('@', host);
    const std::size_t slash = out.find('/', host);
    if (at != std::string::npos && (slash == std::string::npos || at < slash)) {
      out.erase(host, at + 1 - host);
    }
  }
  return out;
}

class WebhookNotifier final : public Notifier {
 public:
  WebhookNotifier(WebhookOptions options, std::string token)
      : options_(std::move(options)),
        token_(std::move(token)),
        name_("webhook:" + ShownUrl(options_.url)),
        prefix_("webhook: " + ShownUrl(options_.url) + ": ") {}

  ~WebhookNotifier() override {
    if (curl_ != nullptr) curl_easy_cleanup(curl_);
    // Leave no copy of the secret in freed memory.
    std::fill(token_.begin(), token_.end(), '\0');
  }

  Status Init() {
    GlobalInitOnce();
    curl_ = curl_easy_init();
    if (curl_ == nullptr) return Status::Internal(prefix_ + "curl_easy_init failed");
    const long timeout_ms = static_cast<long>(options_.timeout.count());
    bool ok = curl_easy_setopt(curl_, CURLOPT_URL, options_.url.c_str()) == CURLE_OK;
    ok &= curl_easy_setopt(curl_, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK;
    ok &= curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L) == CURLE_OK;
    ok &= curl_easy_setopt(curl_, CURLOPT_POST, 1L) == CURLE_OK;
    ok &= curl_easy_setopt(curl_, CURLOPT_TIMEOUT_MS, timeout_ms) == CURLE_OK;
    ok &= curl_easy_setopt(curl_, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms) == CURLE_OK;
    ok &= curl_easy_setopt(curl_, CURLOPT_TCP_KEEPALIVE, 1L) == CURLE_OK;
    ok &= curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, &CollectAnswer) == CURLE_OK;
    ok &= curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &answer_) == CURLE_OK;
    ok &= curl_easy_setopt(curl_, CURLOPT_ERRORBUFFER, error_buffer_) == CURLE_OK;
    ok &= curl_easy_setopt(curl_, CURLOPT_SSL_VERIFYPEER, 1L) == CURLE_OK;
    ok &= curl_easy_setopt(curl_, CURLOPT_SSL_VERIFYHOST, 2L) == CURLE_OK;
    if (!options_.ca_file.empty()) {
      ok &= curl_easy_setopt(curl_, CURLOPT_CAINFO, options_.ca_file.c_str()) == CURLE_OK;
    }
    if (!ok) return Status::Internal(prefix_ + "libcurl refused an option");
    return Status::OK();
  }

  const std::string& name() const override { return name_; }

  Status Send(const sink::OutboxEntry& event) override {
    // Per request: the event id is a header.
    curl_slist* headers = nullptr;
    headers = curl_slist_append(headers, "Content-Type: application/json");
    headers = curl_slist_append(headers, "Expect:");
    headers = curl_slist_append(headers, ("Idempotency-Key: " + event.event_id).c_str());
    headers = curl_slist_append(headers, ("X-Machine-Health-Event: " + event.event_id).c_str());
    if (!token_.empty()) {
      std::string auth = "Authorization: Bearer " + token_;
      headers = curl_slist_append(headers, auth.c_str());
      std::fill(auth.begin(), auth.end(), '\0');
    }
    if (headers == nullptr) return Status::Internal(prefix_ + "curl_slist_append failed");
    answer_.clear();
    error_buffer_[0] = '\0';
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, event.payload.data());
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(event.payload.size()));
    const CURLcode code = curl_easy_perform(curl_);
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, nullptr);
    curl_slist_free_all(headers);  // (the token copy inside is freed with it)
    if (code != CURLE_OK) return TransportError(code);
    long http_status = 0;
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &http_status);
    if (http_status >= 200 && http_status < 300) return Status::OK();
    std::string answer = answer_;
    if (!token_.empty()) {
      // Never echo the token, should a receiver quote the request.
      for (std::size_t at; (at = answer.find(token_)) != std::string::npos;) {
        answer.replace(at, token_.size(), "***");
      }
    }
    const std::string what = prefix_ + "event " + event.event_id + ": HTTP " +
                             std::to_string(http_status) + (answer.empty() ? "" : ": " + answer);
    if (http_status == 408 || http_status == 425 || http_status == 429 || http_status >= 500) {
      return Status::Unavailable(what);
    }
    return Status::InvalidArgument(what + " (not retried)");
  }

 private:
  Status TransportError(CURLcode code) {
    std::string detail = error_buffer_[0] != '\0' ? error_buffer_ : curl_easy_strerror(code);
    while (!detail.empty() && detail.back() == '\n') detail.pop_back();
    switch (code) {
      case CURLE_PEER_FAILED_VERIFICATION:
      case CURLE_SSL_CACERT_BADFILE:
      case CURLE_SSL_CERTPROBLEM:
      case CURLE_SSL_ISSUER_ERROR:
      case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
      case CURLE_URL_MALFORMAT:
      case CURLE_UNSUPPORTED_PROTOCOL:
        return Status::InvalidArgument(prefix_ + detail);
      default:
        return Status::Unavailable(prefix_ + detail);
    }
  }

  WebhookOptions options_;
  std::string token_;
  std::string name_;
  std::string prefix_;
  CURL* curl_ = nullptr;
  std::string answer_;
  char error_buffer_[CURL_ERROR_SIZE] = {};
};

}  // namespace

Result<std::unique_ptr<Notifier>> NewWebhookNotifier(const WebhookOptions& options,
                                                     const Environment& env) {
  const std::string& url = options.url;
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
    return Status::InvalidArgument("webhook: '" + ShownUrl(url) +
                                   "' is not an http:// or https:// URL");
  }
  if (options.timeout.count() <= 0) {
    return Status::InvalidArgument("webhook: timeout must be positive");
  }
  std::string token;
  if (!options.token_file.empty()) {
    MH_ASSIGN_OR_RETURN(token, ReadSecretFile(env, "token_file", options.token_file));
  } else if (!options.token_env.empty() && env.get_env) {
    if (auto value = env.get_env(options.token_env)) token = *value;
  }
  auto notifier = std::make_unique<WebhookNotifier>(options, std::move(token));
  MH_RETURN_IF_ERROR(notifier->Init());
  return std::unique_ptr<Notifier>(std::move(notifier));
}

}  // namespace mh::notify
