#include "sink/influxdb/influxdb_config.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "core/strings.h"

namespace mh::sink::influxdb {
namespace {

constexpr int kDefaultPort = 8086;
constexpr std::int64_t kMaxTimeoutMs = 3'600'000;

Result<bool> ParseBool(const std::string& name, const std::string& value) {
  if (value == "true") return true;
  if (value == "false") return false;
  return Status::InvalidArgument("option " + name + "='" + value + "' is not true or false");
}

}  // namespace

std::string InfluxdbConfig::BaseUrl() const {
  const bool ipv6 = host.find(':') != std::string::npos && host.front() != '[';
  const std::string h = ipv6 ? "[" + host + "]" : host;
  return std::string(https ? "https://" : "http://") + h + ":" + std::to_string(port);
}

std::string InfluxdbConfig::WriteUrl() const {
  if (api == ApiVersion::kV2) {
    return BaseUrl() + "/api/v2/write?org=" + PercentEncode(org) +
           "&bucket=" + PercentEncode(bucket) + "&precision=ns";
  }
  std::string url = BaseUrl() + "/write?db=" + PercentEncode(database);
  if (!retention_policy.empty()) url += "&rp=" + PercentEncode(retention_policy);
  return url + "&precision=ns";
}

std::string InfluxdbConfig::Describe() const {
  std::string text = api == ApiVersion::kV2 ? "influxdb v2 " : "influxdb v1 ";
  text += BaseUrl();
  if (api == ApiVersion::kV2) {
    text += " org=" + org + " bucket=" + bucket;
  } else {
    text += " db=" + database;
    if (!retention_policy.empty()) text += " rp=" + retention_policy;
    if (!user.empty()) text += " user=" + user;
  }
  if (!secret.empty()) text += api == ApiVersion::kV2 ? " (token set)" : " (password set)";
  text += gzip ? " gzip" : " no-gzip";
  return text;
}

Result<InfluxdbConfig> ConfigFromUri(const Uri& uri, const Environment& env) {
  InfluxdbConfig config;
  if (uri.scheme == "influxdb" || uri.scheme == "influxdbs") {
    config.api = ApiVersion::kV1;
  } else if (uri.scheme == "influxdb2" || uri.scheme == "influxdb2s") {
    config.api = ApiVersion::kV2;
  } else {
    return Status::InvalidArgument("'" + uri.scheme +
                                   "' is not an influxdb address (influxdb://, influxdbs://, "
                                   "influxdb2://, influxdb2s://)");
  }
  config.https = uri.scheme.back() == 's';
  const bool v1 = config.api == ApiVersion::kV1;
  if (v1) {
    MH_RETURN_IF_ERROR(
        uri.CheckParams({"rp", "user", "password_file", "gzip", "timeout_ms", "ca"}));
  } else {
    MH_RETURN_IF_ERROR(uri.CheckParams({"org", "token_file", "gzip", "timeout_ms", "ca"}));
  }

  MH_ASSIGN_OR_RETURN(auto hosts, uri.HostPorts(kDefaultPort));
  if (hosts.size() != 1) {
    return Status::InvalidArgument("an influxdb address takes one host, not '" + uri.authority +
                                   "'");
  }
  config.host = hosts[0].first;
  if (config.host.size() > 2 && config.host.front() == '[' && config.host.back() == ']') {
    config.host = config.host.substr(1, config.host.size() - 2);
  }
  config.port = hosts[0].second;

  if (v1) {
    config.database = uri.path;
    if (config.database.empty()) {
      return Status::InvalidArgument("no database in '" + uri.text +
                                     "' (influxdb://HOST:PORT/DATABASE)");
    }
    config.retention_policy = uri.Param("rp");
    config.user = uri.Param("user");
    if (!uri.user.empty()) {
      if (!config.user.empty() && config.user != uri.user) {
        return Status::InvalidArgument("two different users in '" + uri.text + "'");
      }
      config.user = uri.user;
    }
    if (uri.HasParam("password_file")) {
      if (config.user.empty()) {
        return Status::InvalidArgument("password_file given without a user (user=NAME)");
      }
      MH_ASSIGN_OR_RETURN(config.secret,
                          ReadSecretFile(env, "password_file", uri.Param("password_file")));
    } else if (!config.user.empty()) {
      std::optional<std::string> password = env.get_env("INFLUXDB_PASSWORD");
      if (!password || password->empty()) {
        return Status::InvalidArgument("user '" + config.user +
                                       "' given without a password: set INFLUXDB_PASSWORD or "
                                       "password_file=PATH");
      }
      config.secret = *password;
    }
  } else {
    if (!uri.user.empty()) {
      return Status::InvalidArgument(
          "an influxdb2 address takes no user; the token comes from "
          "INFLUXDB_TOKEN or token_file=PATH");
    }
    config.bucket = uri.path;
    if (config.bucket.empty()) {
      return Status::InvalidArgument("no bucket in '" + uri.text +
                                     "' (influxdb2://HOST:PORT/BUCKET?org=ORG)");
    }
    config.org = uri.Param("org");
    if (config.org.empty()) {
      return Status::InvalidArgument("no org in '" + uri.text +
                                     "' (influxdb2://HOST:PORT/BUCKET?org=ORG)");
    }
    if (uri.HasParam("token_file")) {
      MH_ASSIGN_OR_RETURN(config.secret,
                          ReadSecretFile(env, "token_file", uri.Param("token_file")));
    } else if (std::optional<std::string> token = env.get_env("INFLUXDB_TOKEN")) {
      config.secret = *token;
    }
  }

  if (uri.HasParam("gzip")) {
    MH_ASSIGN_OR_RETURN(config.gzip, ParseBool("gzip", uri.Param("gzip")));
  }
  if (uri.HasParam("timeout_ms")) {
    Result<std::int64_t> ms = ParseInt(uri.Param("timeout_ms"));
    if (!ms.ok() || *ms <= 0 || *ms > kMaxTimeoutMs) {
      return Status::InvalidArgument("option timeout_ms='" + uri.Param("timeout_ms") +
                                     "' is not a number of milliseconds in 1.." +
                                     std::to_string(kMaxTimeoutMs));
    }
    config.timeout = std::chrono::milliseconds(*ms);
  }
  if (uri.HasParam("ca")) {
    if (!config.https) {
      return Status::InvalidArgument(
          "option ca needs an HTTPS address (influxdbs:// or "
          "influxdb2s://)");
    }
    config.ca_file = uri.Param("ca");
    if (config.ca_file.empty()) return Status::InvalidArgument("option ca is empty");
    Result<std::string> ca = env.read_file(config.ca_file);
    if (!ca.ok()) {
      return Status::InvalidArgument("ca file: " + ca.status().message());
    }
  }
  return config;
}

Result<InfluxdbConfig> ConfigFromPrototypeEnvironment(const Environment& env) {
  const auto required = [&](const std::string& name) -> Result<std::string> {
    std::optional<std::string> value = env.get_env(name);
    if (!value || value->empty()) {
      return Status::InvalidArgument("environment variable " + name + " is not set");
    }
    return *value;
  };
  MH_ASSIGN_OR_RETURN(const std::string url_text, required("INFLUXDB_URL"));
  MH_ASSIGN_OR_RETURN(const std::string org, required("INFLUXDB_ORG"));
  MH_ASSIGN_OR_RETURN(const std::string bucket, required("INFLUXDB_BUCKET"));
  MH_ASSIGN_OR_RETURN(const std::string token, required("INFLUXDB_TOKEN"));

  Result<Uri> url = ParseUri(url_text);
  if (!url.ok()) return url.status().WithContext("INFLUXDB_URL");
  if (url->scheme != "http" && url->scheme != "https") {
    return Status::InvalidArgument("INFLUXDB_URL must start with http:// or https://");
  }
  if (!url->path.empty() || !url->query.empty()) {
    return Status::InvalidArgument(
        "INFLUXDB_URL with a path or query is not supported "
        "(expected http[s]://HOST[:PORT])");
  }
  if (!url->user.empty()) return Status::InvalidArgument("INFLUXDB_URL must not hold a user");
  const bool https = url->scheme == "https";
  Result<std::vector<std::pair<std::string, int>>> hosts = url->HostPorts(https ? 443 : 80);
  if (!hosts.ok()) return hosts.status().WithContext("INFLUXDB_URL");
  if (hosts->size() != 1) return Status::InvalidArgument("INFLUXDB_URL must name one host");

  InfluxdbConfig config;
  config.api = ApiVersion::kV2;
  config.https = https;
  config.host = (*hosts)[0].first;
  if (config.host.size() > 2 && config.host.front() == '[' && config.host.back() == ']') {
    config.host = config.host.substr(1, config.host.size() - 2);
  }
  config.port = (*hosts)[0].second;
  config.org = org;
  config.bucket = bucket;
  config.secret = token;
  return config;
}

Result<InfluxdbConfig> ConfigFromPrototypeEnvironment() {
  return ConfigFromPrototypeEnvironment(ProcessEnvironment());
}

}  // namespace mh::sink::influxdb
