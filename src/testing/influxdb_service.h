// Test-only: a real InfluxDB 1.x server (`influxd`, Debian package influxdb)
// run by a test or benchmark, plus small libcurl helpers to talk HTTP to it.
//
// Lifecycle (see testing/server_process.h): InfluxdbService::Launch writes a
// config into a fresh temp dir (all data there, HTTP and RPC bound to
// 127.0.0.1 on free ports, reporting and the _internal monitor store off, log
// level warn), starts `influxd run -config ...` as a child process and waits
// until /ping answers 204. Stop() ends it (SIGTERM); Start() again restarts it
// on the same port and data dir (outage tests). The destructor stops it and
// removes the temp dir (kept when MH_KEEP_TEST_DIRS is set, for post-mortem).
//
// When influxd is not installed, Launch returns NotFound with an install hint:
// tests must fail on it, not skip.
//
// Thread safety: one thread per object.
#ifndef MH_TESTING_INFLUXDB_SERVICE_H_
#define MH_TESTING_INFLUXDB_SERVICE_H_

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "testing/process.h"
#include "testing/server_process.h"

namespace mh::testing {

// An HTTP answer.
struct HttpAnswer {
  long status = 0;  // HTTP status code
  std::string body;
};
// GET/POST with libcurl (10 s timeout); Unavailable when no answer came.
// `headers` are "Name: value" lines. `ca_file`: for https://, the CA bundle
// to verify the server with ("" = the system's).
Result<HttpAnswer> CurlGet(const std::string& url, const std::string& ca_file = "");
Result<HttpAnswer> CurlPost(const std::string& url, const std::string& body,
                            const std::vector<std::string>& headers = {});

struct InfluxdbServiceOptions {
  // [http] auth-enabled: the first user must then be created with
  // CreateAdmin() (allowed without credentials while no user exists).
  bool auth_enabled = false;
  // [http] max-body-size in bytes (0 = the server's default, 25 MB); a
  // larger write body gets 413.
  long long max_body_size = 0;
};

class InfluxdbService {
 public:
  static Result<std::unique_ptr<InfluxdbService>> Launch(InfluxdbServiceOptions options = {});
  ~InfluxdbService() = default;
  InfluxdbService(const InfluxdbService&) = delete;
  InfluxdbService& operator=(const InfluxdbService&) = delete;

  int port() const { return server_->port(); }
  // "http://127.0.0.1:PORT".
  std::string url() const { return server_->url(); }
  const std::string& dir() const { return server_->dir(); }
  bool running() const { return server_->running(); }

  // CREATE DATABASE (idempotent); with auth on, as the admin of CreateAdmin.
  Status CreateDatabase(const std::string& name);
  // CREATE USER ... WITH ALL PRIVILEGES (the first user on an auth-enabled
  // server); later queries authenticate as this user.
  Status CreateAdmin(const std::string& user, const std::string& password);
  // GET /query?db=..&q=..&epoch=ns: the JSON answer text. InvalidArgument
  // with the server's answer on a non-200 status.
  Result<std::string> Query(const std::string& database, const std::string& influxql);

  // SIGTERM, waits for exit; the port and data dir stay reserved.
  Status Stop() { return server_->Stop(); }
  // Starts again (same config, port and data) and waits for /ping.
  Status Start();
  // The server's log so far.
  std::string LogText() const { return server_->LogText(); }

 private:
  InfluxdbService() = default;
  Result<HttpAnswer> RunQuery(const std::string& database, const std::string& influxql, bool post);

  std::unique_ptr<ServerProcess> server_;  // HTTP on its port
  std::string config_path_;
  int rpc_port_ = 0;
  std::string admin_user_;
  std::string admin_password_;
};

}  // namespace mh::testing

#endif  // MH_TESTING_INFLUXDB_SERVICE_H_
