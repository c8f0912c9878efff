#include "testing/influxdb_service.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>

#include <curl/curl.h>

#include "testing/test_paths.h"

namespace mh::testing {
namespace {

std::size_t Collect(char* data, std::size_t size, std::size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

Result<HttpAnswer> Request(const std::string& url, const std::string* post_body,
                           const std::vector<std::string>& headers, const std::string& user = "",
                           const std::string& password = "") {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return Status::Internal("curl_easy_init failed");
  curl_slist* header_list = nullptr;
  for (const std::string& h : headers) header_list = curl_slist_append(header_list, h.c_str());
  HttpAnswer answer;
  char error[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 10000L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &Collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer.body);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  if (header_list != nullptr) curl_easy_setopt(curl, CURLOPT_HTTPHEADER, header_list);
  if (post_body != nullptr) {
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, post_body->data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(post_body->size()));
  }
  if (!user.empty()) {
    curl_easy_setopt(curl, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
    curl_easy_setopt(curl, CURLOPT_USERNAME, user.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, password.c_str());
  }
  const CURLcode code = curl_easy_perform(curl);
  if (code == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &answer.status);
  curl_easy_cleanup(curl);
  curl_slist_free_all(header_list);
  if (code != CURLE_OK) {
    return Status::Unavailable(url + ": " + (error[0] ? error : curl_easy_strerror(code)));
  }
  return answer;
}

std::string Tail(const std::string& text, std::size_t max = 2000) {
  return text.size() <= max ? text : "..." + text.substr(text.size() - max);
}

}  // namespace

Result<HttpAnswer> CurlGet(const std::string& url) { return Request(url, nullptr, {}); }

Result<HttpAnswer> CurlPost(const std::string& url, const std::string& body,
                            const std::vector<std::string>& headers) {
  return Request(url, &body, headers);
}

std::string UrlEscape(const std::string& text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

Result<std::unique_ptr<InfluxdbService>> InfluxdbService::Launch(InfluxdbServiceOptions options) {
  std::unique_ptr<InfluxdbService> service(new InfluxdbService());
  service->program_ = FindProgram("influxd");
  if (service->program_.empty()) {
    return Status::NotFound(
        "influxd is not installed (apt-get install influxdb); the InfluxDB integration tests "
        "need it");
  }
  service->dir_ = MakeTempDir("mh-influxd");
  if (service->dir_.empty()) return Status::IOError("cannot create a temp dir for influxd");
  service->http_port_ = FreeTcpPort();
  do {
    service->rpc_port_ = FreeTcpPort();
  } while (service->rpc_port_ == service->http_port_);
  if (service->http_port_ == 0 || service->rpc_port_ == 0) {
    return Status::IOError("no free TCP port for influxd");
  }
  const std::string& d = service->dir_;
  service->config_path_ = d + "/influxdb.conf";
  std::ofstream config(service->config_path_);
  config << "reporting-enabled = false\n"
         << "bind-address = \"127.0.0.1:" << service->rpc_port_ << "\"\n"
         << "[meta]\n  dir = \"" << d << "/meta\"\n"
         << "[data]\n  dir = \"" << d << "/data\"\n  wal-dir = \"" << d << "/wal\"\n"
         << "  index-version = \"inmem\"\n  query-log-enabled = false\n"
         << "[monitor]\n  store-enabled = false\n"
         << "[http]\n  enabled = true\n  bind-address = \"127.0.0.1:" << service->http_port_
         << "\"\n  log-enabled = false\n"
         << "  auth-enabled = " << (options.auth_enabled ? "true" : "false") << "\n";
  if (options.max_body_size > 0) config << "  max-body-size = " << options.max_body_size << "\n";
  config << "[logging]\n  level = \"warn\"\n  suppress-logo = true\n";
  config.close();
  if (!config) return Status::IOError("cannot write " + service->config_path_);
  MH_RETURN_IF_ERROR(service->Start());
  return service;
}

InfluxdbService::~InfluxdbService() {
  if (process_ != nullptr) process_->Stop();
  process_.reset();
  if (!dir_.empty() && std::getenv("MH_KEEP_TEST_DIRS") == nullptr) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

std::string InfluxdbService::url() const {
  return "http://127.0.0.1:" + std::to_string(http_port_);
}

Status InfluxdbService::Start() {
  if (process_ != nullptr) return Status::OK();
  MH_ASSIGN_OR_RETURN(process_, ChildProcess::Start({program_, "run", "-config", config_path_},
                                                    dir_ + "/influxd.log"));
  bool exited = false;
  const bool ready = WaitUntil(
      [&] {
        if (!process_->Running()) {
          exited = true;
          return true;
        }
        Result<HttpAnswer> ping = CurlGet(url() + "/ping");
        return ping.ok() && ping->status == 204;
      },
      std::chrono::seconds(30));
  if (!ready || exited) {
    process_.reset();
    return Status::Unavailable(std::string("influxd ") +
                               (exited ? "exited at start" : "not ready after 30 s") +
                               "; its log: " + Tail(LogText()));
  }
  return Status::OK();
}

Status InfluxdbService::Stop() {
  if (process_ == nullptr) return Status::OK();
  const int code = process_->Stop();
  process_.reset();
  // influxd exits 0 on SIGTERM; 143 = killed by the signal before it could.
  if (code != 0 && code != 128 + 15) {
    return Status::Internal("influxd exited with " + std::to_string(code));
  }
  return Status::OK();
}

std::string InfluxdbService::LogText() const { return ReadFileText(dir_ + "/influxd.log"); }

Result<HttpAnswer> InfluxdbService::RunQuery(const std::string& database,
                                             const std::string& influxql, bool post) {
  std::string query = "q=" + UrlEscape(influxql) + "&epoch=ns";
  if (!database.empty()) query += "&db=" + UrlEscape(database);
  if (post) {
    return Request(url() + "/query", &query, {"Content-Type: application/x-www-form-urlencoded"},
                   admin_user_, admin_password_);
  }
  return Request(url() + "/query?" + query, nullptr, {}, admin_user_, admin_password_);
}

Status InfluxdbService::CreateDatabase(const std::string& name) {
  MH_ASSIGN_OR_RETURN(HttpAnswer answer,
                      RunQuery("", "CREATE DATABASE \"" + name + "\"", /*post=*/true));
  if (answer.status != 200 || answer.body.find("\"error\"") != std::string::npos) {
    return Status::InvalidArgument("CREATE DATABASE " + name + ": HTTP " +
                                   std::to_string(answer.status) + " " + answer.body);
  }
  return Status::OK();
}

Status InfluxdbService::CreateAdmin(const std::string& user, const std::string& password) {
  std::string escaped;
  for (char c : password) {
    if (c == '\'' || c == '\\') escaped.push_back('\\');
    escaped.push_back(c);
  }
  MH_ASSIGN_OR_RETURN(HttpAnswer answer, RunQuery("",
                                                  "CREATE USER \"" + user + "\" WITH PASSWORD '" +
                                                      escaped + "' WITH ALL PRIVILEGES",
                                                  /*post=*/true));
  if (answer.status != 200 || answer.body.find("\"error\"") != std::string::npos) {
    return Status::InvalidArgument("CREATE USER " + user + ": HTTP " +
                                   std::to_string(answer.status));
  }
  admin_user_ = user;
  admin_password_ = password;
  return Status::OK();
}

Result<std::string> InfluxdbService::Query(const std::string& database,
                                           const std::string& influxql) {
  MH_ASSIGN_OR_RETURN(HttpAnswer answer, RunQuery(database, influxql, /*post=*/false));
  if (answer.status != 200) {
    return Status::InvalidArgument("query '" + influxql + "': HTTP " +
                                   std::to_string(answer.status) + " " + answer.body);
  }
  return answer.body;
}

}  // namespace mh::testing
