// Webhook notifier: HTTP POST of each alarm event's JSON to a URL (libcurl,
// one keep-alive connection). Headers: Content-Type: application/json,
// Idempotency-Key: <event_id> (and the same as X-Machine-Health-Event),
// Authorization: Bearer <token> when a token is configured.
//
// Answers: 2xx OK; 408, 425, 429, 5xx, connection refused, reset or timeout
// Unavailable (retried by the dispatcher); TLS verification failures and
// other answers (3xx, 4xx) InvalidArgument (the event is given up). Messages
// start with "webhook: <url without query>: " and never hold the token.
#ifndef MH_NOTIFY_WEBHOOK_NOTIFIER_H_
#define MH_NOTIFY_WEBHOOK_NOTIFIER_H_

#include <chrono>
#include <memory>
#include <string>

#include "core/environment.h"
#include "core/result.h"
#include "notify/notifier.h"

namespace mh::notify {

struct WebhookOptions {
  // http:// or https:// URL the events are POSTed to.
  std::string url;
  // Bearer token: read from this file if set (trailing newline ignored),
  // else from the environment variable named by token_env if it is set and
  // not empty; else no Authorization header. Never from the URL or a flag.
  std::string token_file;
  std::string token_env = "MH_WEBHOOK_TOKEN";
  // CA bundle for https (default: the system's).
  std::string ca_file;
  // Per request: connecting and the whole exchange.
  std::chrono::milliseconds timeout{5000};
};

// Checks the options and prepares the connection settings (does not
// connect). InvalidArgument for a URL that is not http(s) or a token file
// holding more than one line; NotFound/IOError for an unreadable token file;
// Internal if libcurl cannot be initialised. `env` supplies the environment
// variable and the file (ProcessEnvironment() outside tests).
Result<std::unique_ptr<Notifier>> NewWebhookNotifier(const WebhookOptions& options,
                                                     const Environment& env);

}  // namespace mh::notify

#endif  // MH_NOTIFY_WEBHOOK_NOTIFIER_H_
