#include "sink/influxdb/influxdb_writer.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>

#include <curl/curl.h>

#include "log/log.h"
#include "sink/influxdb/gzip_body.h"

namespace mh::sink::influxdb {
namespace {

constexpr std::size_t kMaxAnswerBytes = 64 * 1024;  // more is not read into memory
constexpr std::size_t kMaxMessageBytes = 400;       // of a server message in a Status or log

void GlobalInitOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::size_t CollectAnswer(char* data, std::size_t size, std::size_t count, void* user) {
  auto* answer = static_cast<std::string*>(user);
  const std::size_t n = size * count;
  if (answer->size() < kMaxAnswerBytes) {
    answer->append(data, std::min(n, kMaxAnswerBytes - answer->size()));
  }
  return n;
}

void AppendUtf8(std::uint32_t code, std::string* out) {
  if (code < 0x80) {
    out->push_back(static_cast<char>(code));
  } else if (code < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (code >> 6)));
    out->push_back(static_cast<char>(0x80 | (code & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xE0 | (code >> 12)));
    out->push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (code & 0x3F)));
  }
}

// The JSON string starting at text[pos] == '"', unescaped; nullopt if malformed.
std::optional<std::string> JsonString(std::string_view text, std::size_t pos) {
  std::string out;
  for (std::size_t i = pos + 1; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '"') return out;
    if (c != '\\') {
      out.push_back(c);
      continue;
    }
    if (++i >= text.size()) return std::nullopt;
    switch (text[i]) {
      case 'n':
        out.push_back('\n');
        break;
      case 't':
        out.push_back('\t');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 'b':
      case 'f':
        out.push_back(' ');
        break;
      case 'u': {
        if (i + 4 >= text.size()) return std::nullopt;
        std::uint32_t code = 0;
        for (int k = 1; k <= 4; ++k) {
          const char h = text[i + k];
          code <<= 4;
          if (h >= '0' && h <= '9') {
            code |= h - '0';
          } else if (h >= 'a' && h <= 'f') {
            code |= h - 'a' + 10;
          } else if (h >= 'A' && h <= 'F') {
            code |= h - 'A' + 10;
          } else {
            return std::nullopt;
          }
        }
        AppendUtf8(code, &out);
        i += 4;
        break;
      }
      default:  // '"', '\\', '/'
        out.push_back(text[i]);
    }
  }
  return std::nullopt;
}

// The server's message: "error" (v1) or "message" (v2) of a JSON answer, else
// the body itself; one line, shortened, with `secret` blanked out in case a
// server ever echoes it.
std::string ServerMessage(std::string_view body, const std::string& secret) {
  std::string message;
  for (std::string_view key : {"\"error\"", "\"message\""}) {
    const std::size_t k = body.find(key);
    if (k == std::string_view::npos) continue;
    std::size_t p = body.find_first_not_of(" \t\r\n", k + key.size());
    if (p == std::string_view::npos || body[p] != ':') continue;
    p = body.find_first_not_of(" \t\r\n", p + 1);
    if (p == std::string_view::npos || body[p] != '"') continue;
    if (std::optional<std::string> s = JsonString(body, p)) {
      message = std::move(*s);
      break;
    }
  }
  if (message.empty()) message = std::string(body);
  if (!secret.empty()) {
    for (std::size_t at; (at = message.find(secret)) != std::string::npos;) {
      message.replace(at, secret.size(), "***");
    }
  }
  for (char& c : message) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  while (!message.empty() && message.back() == ' ') message.pop_back();
  if (message.size() > kMaxMessageBytes) message = message.substr(0, kMaxMessageBytes) + "...";
  if (message.empty()) message = "(no message)";
  return message;
}

std::uint64_t CountLines(std::string_view body) {
  if (body.empty()) return 0;
  std::uint64_t n = static_cast<std::uint64_t>(std::count(body.begin(), body.end(), '\n'));
  if (body.back() != '\n') ++n;
  return n;
}

// Lines refused by a partial write: "dropped=N" plus the "unable to parse"
// entries InfluxDB 1.x lists; at least one.
std::uint64_t RejectedPoints(std::string_view message) {
  std::uint64_t rejected = 0;
  if (const std::size_t d = message.rfind("dropped="); d != std::string_view::npos) {
    for (std::size_t i = d + 8; i < message.size() && message[i] >= '0' && message[i] <= '9'; ++i) {
      rejected = rejected * 10 + static_cast<std::uint64_t>(message[i] - '0');
    }
  }
  for (std::size_t at = 0; (at = message.find("unable to parse", at)) != std::string_view::npos;
       at += 15) {
    ++rejected;
  }
  return std::max<std::uint64_t>(rejected, 1);
}

class CurlWriter final : public InfluxdbWriter {
 public:
  explicit CurlWriter(InfluxdbConfig config)
      : config_(std::move(config)),
        url_(config_.WriteUrl()),
        prefix_("influxdb: " + config_.BaseUrl() + ": "),
        description_(config_.Describe()) {}

  ~CurlWriter() override {
    if (curl_ != nullptr) curl_easy_cleanup(curl_);
    if (headers_ != nullptr) curl_slist_free_all(headers_);
    // Leave no copy of the secret in freed memory.
    std::fill(config_.secret.begin(), config_.secret.end(), '\0');
  }

  Status Init() {
    GlobalInitOnce();
    curl_ = curl_easy_init();
    if (curl_ == nullptr) return Status::Internal(prefix_ + "curl_easy_init failed");
    headers_ = curl_slist_append(headers_, "Content-Type: text/plain; charset=utf-8");
    headers_ = curl_slist_append(headers_, "Accept: application/json");
    // No "Expect: 100-continue" round trip before large bodies.
    headers_ = curl_slist_append(headers_, "Expect:");
    if (config_.gzip) headers_ = curl_slist_append(headers_, "Content-Encoding: gzip");
    if (config_.api == ApiVersion::kV2 && !config_.secret.empty()) {
      std::string auth = "Authorization: Token " + config_.secret;
      headers_ = curl_slist_append(headers_, auth.c_str());
      std::fill(auth.begin(), auth.end(), '\0');
    }
    if (headers_ == nullptr) return Status::Internal(prefix_ + "curl_slist_append failed");

    const long timeout_ms = static_cast<long>(config_.timeout.count());
    bool ok = curl_easy_setopt(curl_, CURLOPT_URL, url_.c_str()) == CURLE_OK;
    ok &= curl_easy_setopt(curl_, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK;
    ok &= curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L) == CURLE_OK;
    ok &= curl_easy_setopt(curl_, CURLOPT_POST, 1L) == CURLE_OK;
    ok &= curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers_) == CURLE_OK;
    ok &= curl_easy_setopt(curl_, CURLOPT_TIMEOUT_MS, timeout_ms) == CURLE_OK;
    ok &= curl_easy_setopt(curl_, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms) == CURLE_OK;
    ok &= curl_easy_setopt(curl_, CURLOPT_TCP_KEEPALIVE, 1L) == CURLE_OK;
    ok &= curl_easy_setopt(curl_, CURLOPT_TCP_NODELAY, 1L) == CURLE_OK;
    ok &= curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, &CollectAnswer) == CURLE_OK;
    ok &= curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &answer_) == CURLE_OK;
    ok &= curl_easy_setopt(curl_, CURLOPT_ERRORBUFFER, error_buffer_) == CURLE_OK;
    ok &= curl_easy_setopt(curl_, CURLOPT_SSL_VERIFYPEER, 1L) == CURLE_OK;
    ok &= curl_easy_setopt(curl_, CURLOPT_SSL_VERIFYHOST, 2L) == CURLE_OK;
    if (!config_.ca_file.empty()) {
      ok &= curl_easy_setopt(curl_, CURLOPT_CAINFO, config_.ca_file.c_str()) == CURLE_OK;
    }
    if (config_.api == ApiVersion::kV1 && !config_.user.empty()) {
      ok &=
          curl_easy_setopt(curl_, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC)) == CURLE_OK;
      ok &= curl_easy_setopt(curl_, CURLOPT_USERNAME, config_.user.c_str()) == CURLE_OK;
      ok &= curl_easy_setopt(curl_, CURLOPT_PASSWORD, config_.secret.c_str()) == CURLE_OK;
    }
    if (!ok) return Status::Internal(prefix_ + "libcurl refused an option");

    if (config_.gzip) {
      // Level 1, the fastest: line protocol is repetitive enough to shrink
      // ~3x already (bench/influxdb_bench.cc), and the CPU is better left to
      // the pipeline.
      auto gzip = GzipBody::Create(1);
      if (!gzip.ok()) return gzip.status().WithContext(prefix_ + "gzip");
      gzip_ = std::move(gzip).value();
    }
    return Status::OK();
  }

  Result<WriteResult> Write(std::string_view body) override {
    WriteResult result;
    result.lines = CountLines(body);
    if (body.empty()) return result;
    requests_.fetch_add(1, std::memory_order_relaxed);
    Result<WriteResult> outcome = Post(body, std::move(result));
    if (!outcome.ok()) failed_requests_.fetch_add(1, std::memory_order_relaxed);
    return outcome;
  }

  InfluxdbMetrics metrics() const override {
    InfluxdbMetrics m;
    m.requests = requests_.load(std::memory_order_relaxed);
    m.failed_requests = failed_requests_.load(std::memory_order_relaxed);
    m.points_written = points_written_.load(std::memory_order_relaxed);
    m.rejected_points = rejected_points_.load(std::memory_order_relaxed);
    m.bytes_sent = bytes_sent_.load(std::memory_order_relaxed);
    return m;
  }

  const std::string& description() const override { return description_; }

 private:
  Result<WriteResult> Post(std::string_view body, WriteResult result) {
    std::string_view payload = body;
    if (config_.gzip) {
      auto compressed = gzip_->Compress(body);
      if (!compressed.ok()) return compressed.status().WithContext(prefix_ + "gzip");
      payload = compressed.value();
    }
    answer_.clear();
    error_buffer_[0] = '\0';
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, payload.data());
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(payload.size()));
    const CURLcode code = curl_easy_perform(curl_);
    if (code != CURLE_OK) return TransportError(code);
    // An answer came, so the whole body went out (whatever the status).
    bytes_sent_.fetch_add(payload.size(), std::memory_order_relaxed);

    long http_status = 0;
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &http_status);
    if (http_status >= 200 && http_status < 300) {
      points_written_.fetch_add(result.lines, std::memory_order_relaxed);
      return result;
    }
    const std::string message = ServerMessage(answer_, config_.secret);
    const std::string status_text = "HTTP " + std::to_string(http_status);
    if (http_status == 400 && message.find("partial write") != std::string::npos) {
      result.rejected_points = std::min(RejectedPoints(message), result.lines);
      result.server_message = message;
      points_written_.fetch_add(result.lines - result.rejected_points, std::memory_order_relaxed);
      rejected_points_.fetch_add(result.rejected_points, std::memory_order_relaxed);
      log::Warn("influxdb", config_.BaseUrl() + ": " + std::to_string(result.rejected_points) +
                                " of " + std::to_string(result.lines) +
                                " points rejected (not retried): " + message);
      return result;
    }
    switch (http_status) {
      case 400:
        return Status::InvalidArgument(prefix_ + "write refused (" + status_text + "): " + message);
      case 401:
      case 403: {
        std::string hint;
        if (config_.secret.empty()) {
          hint = config_.api == ApiVersion::kV2
                     ? " (no token configured: INFLUXDB_TOKEN or token_file=PATH)"
                     : " (no user configured: user=NAME with INFLUXDB_PASSWORD or password_file)";
        }
        return Status::InvalidArgument(prefix_ + "not authorised (" + status_text + ")" + hint);
      }
      case 404:
        return Status::NotFound(prefix_ + message + " (" + status_text + ")");
      case 413:
        return Status::InvalidArgument(prefix_ + "batch too large for the server (" + status_text +
                                       "): write smaller batches");
      case 408:
      case 429:
        return Status::Unavailable(prefix_ + "server busy (" + status_text + "): " + message);
      default:
        break;
    }
    if (http_status >= 500) {
      // InfluxDB 1.x answers a missing retention policy with 500: retrying
      // cannot help.
      if (message.find("retention policy not found") != std::string::npos) {
        return Status::NotFound(prefix_ + message + " (" + status_text + ")");
      }
      return Status::Unavailable(prefix_ + "server error (" + status_text + "): " + message);
    }
    return Status::InvalidArgument(prefix_ + "unexpected answer (" + status_text + "): " + message);
  }

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
      case CURLE_OPERATION_TIMEDOUT:
        return Status::Unavailable(prefix_ + "timed out after " +
                                   std::to_string(config_.timeout.count()) + " ms (" + detail +
                                   ")");
      default:
        return Status::Unavailable(prefix_ + detail);
    }
  }

  InfluxdbConfig config_;
  const std::string url_;
  const std::string prefix_;
  const std::string description_;
  CURL* curl_ = nullptr;
  curl_slist* headers_ = nullptr;
  char error_buffer_[CURL_ERROR_SIZE] = {};
  std::string answer_;
  std::unique_ptr<GzipBody> gzip_;  // when config_.gzip

  std::atomic<std::uint64_t> requests_{0};
  std::atomic<std::uint64_t> failed_requests_{0};
  std::atomic<std::uint64_t> points_written_{0};
  std::atomic<std::uint64_t> rejected_points_{0};
  std::atomic<std::uint64_t> bytes_sent_{0};
};

}  // namespace

Result<std::unique_ptr<InfluxdbWriter>> InfluxdbWriter::Open(const InfluxdbConfig& config) {
  if (config.host.empty()) return Status::InvalidArgument("influxdb: no host");
  if (config.port <= 0 || config.port > 65535) return Status::InvalidArgument("influxdb: bad port");
  if (config.api == ApiVersion::kV1 && config.database.empty()) {
    return Status::InvalidArgument("influxdb: no database");
  }
  if (config.api == ApiVersion::kV2 && (config.bucket.empty() || config.org.empty())) {
    return Status::InvalidArgument("influxdb: no bucket or org");
  }
  if (config.timeout.count() <= 0) return Status::InvalidArgument("influxdb: bad timeout");
  auto writer = std::make_unique<CurlWriter>(config);
  MH_RETURN_IF_ERROR(writer->Init());
  return std::unique_ptr<InfluxdbWriter>(std::move(writer));
}

}  // namespace mh::sink::influxdb
