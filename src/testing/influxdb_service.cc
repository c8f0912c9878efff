#include "testing/influxdb_service.h"

#include <fstream>
#include <mutex>

#include <curl/curl.h>

#include "core/strings.h"

namespace mh::testing {
namespace {

std::size_t Collect(char* data, std::size_t size, std::size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

Result<HttpAnswer> Request(const std::string& url, const std::string* post_body,
                           const std::vector<std::string>& headers, const std::string& user = "",
                           const std::string& password = "", const std::string& ca_file = "") {
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
  if (!ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, ca_file.c_str());
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

}  // namespace

Result<HttpAnswer> CurlGet(const std::string& url, const std::string& ca_file) {
  return Request(url, nullptr, {}, "", "", ca_file);
}

Result<HttpAnswer> CurlPost(const std::string& url, const std::string& body,
                            const std::vector<std::string>& headers) {
  return Request(url, &body, headers);
}

Result<std::unique_ptr<InfluxdbService>> InfluxdbService::Launch(InfluxdbServiceOptions options) {
  std::unique_ptr<InfluxdbService> service(new InfluxdbService());
  MH_ASSIGN_OR_RETURN(service->server_, ServerProcess::Create({"influxd", "influxdb",
                                                               "the InfluxDB integration tests"}));
  const int http_port = service->server_->port();
  do {
    service->rpc_port_ = FreeTcpPort();
  } while (service->rpc_port_ == http_port);
  if (service->rpc_port_ == 0) return Status::IOError("no free TCP port for influxd");
  const std::string& d = service->dir();
  service->config_path_ = d + "/influxdb.conf";
  std::ofstream config(service->config_path_);
  config << "reporting-enabled = false\n"
         << "bind-address = \"127.0.0.1:" << service->rpc_port_ << "\"\n"
         << "[meta]\n  dir = \"" << d << "/meta\"\n"
         << "[data]\n  dir = \"" << d << "/data\"\n  wal-dir = \"" << d << "/wal\"\n"
         << "  index-version = \"inmem\"\n  query-log-enabled = false\n"
         << "[monitor]\n  store-enabled = false\n"
         << "[http]\n  enabled = true\n  bind-address = \"127.0.0.1:" << http_port
         << "\"\n  log-enabled = false\n"
         << "  auth-enabled = " << (options.auth_enabled ? "true" : "false") << "\n";
  if (options.max_body_size > 0) config << "  max-body-size = " << options.max_body_size << "\n";
  config << "[logging]\n  level = \"warn\"\n  suppress-logo = true\n";
  config.close();
  if (!config) return Status::IOError("cannot write " + service->config_path_);
  MH_RETURN_IF_ERROR(service->Start());
  return service;
}

Status InfluxdbService::Start() {
  return server_->Start({"run", "-config", config_path_}, [this] {
    Result<HttpAnswer> ping = CurlGet(url() + "/ping");
    return ping.ok() && ping->status == 204;
  });
}

Result<HttpAnswer> InfluxdbService::RunQuery(const std::string& database,
                                             const std::string& influxql, bool post) {
  std::string query = "q=" + PercentEncode(influxql) + "&epoch=ns";
  if (!database.empty()) query += "&db=" + PercentEncode(database);
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
