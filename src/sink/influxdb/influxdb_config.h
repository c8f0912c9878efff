// InfluxDB sink configuration: parsed from an address (and the environment,
// for secrets) or from the prototype's environment variables. Pure: the
// environment and file reads come in through `Environment`, so unit tests need
// no process state.
//
// Addresses (docs/influxdb.md):
//   influxdb://HOST[:PORT]/DB[?rp=RP&user=U&password_file=PATH]     v1 API, POST /write
//   influxdb2://HOST[:PORT]/BUCKET?org=ORG[&token_file=PATH]         v2 API, POST /api/v2/write
//   influxdbs://, influxdb2s://                                       the same over HTTPS
// Common options: gzip=true|false (default true), timeout_ms=N (default
// 10000), ca=PATH (HTTPS only: CA bundle to verify the server with). The
// default port is 8086. Unknown options are refused.
// Secrets never appear in an address: the v1 password comes from
// password_file or INFLUXDB_PASSWORD (used only with a user), the v2 token
// from token_file or INFLUXDB_TOKEN (optional: servers without auth, such as
// VictoriaMetrics, need none). A file's trailing whitespace is ignored.
//
// Thread safety: plain value types and reentrant functions.
#ifndef MH_SINK_INFLUXDB_INFLUXDB_CONFIG_H_
#define MH_SINK_INFLUXDB_INFLUXDB_CONFIG_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "core/environment.h"
#include "core/result.h"
#include "core/uri.h"

namespace mh::sink::influxdb {

enum class ApiVersion : std::uint8_t { kV1 = 1, kV2 = 2 };

struct InfluxdbConfig {
  ApiVersion api = ApiVersion::kV1;
  bool https = false;
  std::string host;  // e.g. "127.0.0.1", "influx.example.com"
  int port = 8086;
  // v1: database (and optional retention policy, "" = the database default).
  std::string database;
  std::string retention_policy;
  std::string user;  // v1 basic auth user, "" = no auth
  // v2: bucket and organisation.
  std::string bucket;
  std::string org;
  // The v1 password or the v2 token ("" = none). Never logged, never part of
  // an error message or of Describe().
  std::string secret;
  std::string ca_file;                       // HTTPS: CA bundle; "" = the system's
  bool gzip = true;                          // Content-Encoding: gzip on write bodies
  std::chrono::milliseconds timeout{10000};  // whole request, connect included

  // "http[s]://HOST:PORT", no secret.
  std::string BaseUrl() const;
  // The write URL with its query ("...?db=iiot&precision=ns"), no secret.
  std::string WriteUrl() const;
  // For logs: "influxdb v1 http://h:8086 db=iiot" (no secret).
  std::string Describe() const;
};

// The configuration of an influxdb, influxdb2, influxdbs or influxdb2s
// address. InvalidArgument naming the problem (unknown scheme or option, no
// database/bucket/org, bad port or timeout, ca without HTTPS, a user without
// a password, ...); an unreadable secret file is InvalidArgument naming the
// path (never the contents).
Result<InfluxdbConfig> ConfigFromUri(const Uri& uri, const Environment& env);

// The prototype's variables: INFLUXDB_URL (http[s]://host[:port], the URL's
// default port 80/443 when absent), INFLUXDB_ORG, INFLUXDB_BUCKET,
// INFLUXDB_TOKEN, all required -> a v2 configuration with gzip on.
// InvalidArgument naming the missing or bad variable.
Result<InfluxdbConfig> ConfigFromPrototypeEnvironment(const Environment& env);
Result<InfluxdbConfig> ConfigFromPrototypeEnvironment();

}  // namespace mh::sink::influxdb

#endif  // MH_SINK_INFLUXDB_INFLUXDB_CONFIG_H_
