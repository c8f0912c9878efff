// Unit tests of the InfluxDB sink configuration (addresses, environment,
// secret files): no process state, no network.
#include "sink/influxdb/influxdb_config.h"

#include <map>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sink/influxdb/influxdb_sink.h"
#include "testing/fake_environment.h"

namespace mh::sink::influxdb {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kPassword[] = "pa55-w0rd-XYZ";
constexpr char kToken[] = "tok-SECRET-123==";

// A fake environment: variables and files from maps.
using FakeEnv = ::mh::testing::FakeEnvironment;

Result<InfluxdbConfig> Parse(const std::string& address, const FakeEnv& env = {}) {
  Result<Uri> uri = ParseUri(address);
  if (!uri.ok()) return uri.status();
  return ConfigFromUri(*uri, env.Get());
}

InfluxdbConfig ParseOk(const std::string& address, const FakeEnv& env = {}) {
  Result<InfluxdbConfig> config = Parse(address, env);
  EXPECT_TRUE(config.ok()) << address << ": " << config.status().ToString();
  return config.ok() ? *config : InfluxdbConfig{};
}

Status ParseError(const std::string& address, const FakeEnv& env = {}) {
  Result<InfluxdbConfig> config = Parse(address, env);
  EXPECT_FALSE(config.ok()) << address;
  if (config.ok()) return Status::OK();
  // A secret file that cannot be read is an I/O error; everything else is a
  // bad address.
  EXPECT_TRUE(config.status().IsInvalidArgument() || config.status().IsIOError())
      << config.status().ToString();
  EXPECT_THAT(config.status().message(), Not(HasSubstr(kPassword)));
  EXPECT_THAT(config.status().message(), Not(HasSubstr(kToken)));
  return config.status();
}

TEST(InfluxdbConfigTest, V1Defaults) {
  InfluxdbConfig c = ParseOk("influxdb://db.local/iiot");
  EXPECT_EQ(c.api, ApiVersion::kV1);
  EXPECT_FALSE(c.https);
  EXPECT_EQ(c.host, "db.local");
  EXPECT_EQ(c.port, 8086);
  EXPECT_EQ(c.database, "iiot");
  EXPECT_TRUE(c.gzip);
  EXPECT_EQ(c.timeout.count(), 10000);
  EXPECT_EQ(c.secret, "");
  EXPECT_EQ(c.WriteUrl(), "http://db.local:8086/write?db=iiot&precision=ns");
}

TEST(InfluxdbConfigTest, V1AllOptions) {
  FakeEnv env;
  env.vars["INFLUXDB_PASSWORD"] = kPassword;
  InfluxdbConfig c = ParseOk(
      "influxdb://127.0.0.1:18086/iiot?rp=one_week&user=bob&gzip=false&timeout_ms=250", env);
  EXPECT_EQ(c.port, 18086);
  EXPECT_EQ(c.retention_policy, "one_week");
  EXPECT_EQ(c.user, "bob");
  EXPECT_EQ(c.secret, kPassword);
  EXPECT_FALSE(c.gzip);
  EXPECT_EQ(c.timeout.count(), 250);
  EXPECT_EQ(c.WriteUrl(), "http://127.0.0.1:18086/write?db=iiot&rp=one_week&precision=ns");
  EXPECT_THAT(c.Describe(), HasSubstr("user=bob"));
  EXPECT_THAT(c.Describe(), HasSubstr("password set"));
  EXPECT_THAT(c.Describe(), Not(HasSubstr(kPassword)));
  EXPECT_THAT(c.WriteUrl(), Not(HasSubstr(kPassword)));
}

TEST(InfluxdbConfigTest, V1UserInAuthority) {
  FakeEnv env;
  env.vars["INFLUXDB_PASSWORD"] = kPassword;
  InfluxdbConfig c = ParseOk("influxdb://bob@h/iiot", env);
  EXPECT_EQ(c.user, "bob");
  EXPECT_EQ(c.secret, kPassword);
  EXPECT_THAT(ParseError("influxdb://bob@h/iiot?user=alice", env).message(),
              HasSubstr("two different users"));
}

TEST(InfluxdbConfigTest, V1PasswordInAddressIsRefused) {
  Status s = ParseError("influxdb://bob:hunter2@h/iiot");
  EXPECT_THAT(s.message(), Not(HasSubstr("hunter2")));
  EXPECT_THAT(s.message(), HasSubstr("password"));
}

TEST(InfluxdbConfigTest, V1UserNeedsPassword) {
  Status s = ParseError("influxdb://h/iiot?user=bob");
  EXPECT_THAT(s.message(), HasSubstr("INFLUXDB_PASSWORD"));
  EXPECT_THAT(s.message(), HasSubstr("password_file"));
}

TEST(InfluxdbConfigTest, V1PasswordFile) {
  FakeEnv env;
  env.vars["INFLUXDB_PASSWORD"] = "from-env";
  env.files["/run/secrets/influx"] = std::string(kPassword) + "\n";
  InfluxdbConfig c = ParseOk("influxdb://h/iiot?user=bob&password_file=/run/secrets/influx", env);
  EXPECT_EQ(c.secret, kPassword);  // the file wins over the environment, newline trimmed

  Status missing = ParseError("influxdb://h/iiot?user=bob&password_file=/nope", env);
  EXPECT_TRUE(missing.IsIOError()) << missing.ToString();
  EXPECT_THAT(missing.message(), HasSubstr("/nope"));
  env.files["/empty"] = "\n";
  EXPECT_THAT(ParseError("influxdb://h/iiot?user=bob&password_file=/empty", env).message(),
              HasSubstr("empty"));
  env.files["/two"] = std::string(kPassword) + "\nsecond\n";
  EXPECT_THAT(ParseError("influxdb://h/iiot?user=bob&password_file=/two", env).message(),
              HasSubstr("more than one line"));
  EXPECT_THAT(ParseError("influxdb://h/iiot?password_file=/run/secrets/influx", env).message(),
              HasSubstr("without a user"));
}

TEST(InfluxdbConfigTest, V1EnvironmentPasswordWithoutUserIsIgnored) {
  FakeEnv env;
  env.vars["INFLUXDB_PASSWORD"] = kPassword;
  InfluxdbConfig c = ParseOk("influxdb://h/iiot", env);
  EXPECT_EQ(c.secret, "");
}

TEST(InfluxdbConfigTest, DatabaseNamesAreEscapedInTheUrl) {
  InfluxdbConfig c = ParseOk("influxdb://h/my%20db%26x?rp=a%2Fb");
  EXPECT_EQ(c.database, "my db&x");
  EXPECT_EQ(c.WriteUrl(), "http://h:8086/write?db=my%20db%26x&rp=a%2Fb&precision=ns");
}

TEST(InfluxdbConfigTest, V2) {
  FakeEnv env;
  env.vars["INFLUXDB_TOKEN"] = kToken;
  InfluxdbConfig c = ParseOk("influxdb2://influx:8086/iiot_rms?org=acme", env);
  EXPECT_EQ(c.api, ApiVersion::kV2);
  EXPECT_EQ(c.bucket, "iiot_rms");
  EXPECT_EQ(c.org, "acme");
  EXPECT_EQ(c.secret, kToken);
  EXPECT_EQ(c.WriteUrl(), "http://influx:8086/api/v2/write?org=acme&bucket=iiot_rms&precision=ns");
  EXPECT_THAT(c.Describe(), HasSubstr("token set"));
  EXPECT_THAT(c.Describe(), Not(HasSubstr(kToken)));
}

TEST(InfluxdbConfigTest, V2TokenFileAndNoToken) {
  FakeEnv env;
  env.vars["INFLUXDB_TOKEN"] = "from-env";
  env.files["/t"] = std::string(kToken) + "\r\n";
  EXPECT_EQ(ParseOk("influxdb2://h/b?org=o&token_file=/t", env).secret, kToken);
  EXPECT_EQ(ParseOk("influxdb2://h/b?org=o").secret, "");  // e.g. VictoriaMetrics
  EXPECT_THAT(ParseError("influxdb2://h/b?org=o&token_file=/missing", env).message(),
              HasSubstr("/missing"));
}

TEST(InfluxdbConfigTest, V2Requirements) {
  EXPECT_THAT(ParseError("influxdb2://h/b").message(), HasSubstr("no org"));
  EXPECT_THAT(ParseError("influxdb2://h/?org=o").message(), HasSubstr("no bucket"));
  EXPECT_THAT(ParseError("influxdb2://bob@h/b?org=o").message(), HasSubstr("token"));
  // v1-only options are refused on v2 and the other way round.
  EXPECT_THAT(ParseError("influxdb2://h/b?org=o&rp=x").message(), HasSubstr("'rp'"));
  EXPECT_THAT(ParseError("influxdb://h/db?org=o").message(), HasSubstr("'org'"));
}

TEST(InfluxdbConfigTest, Https) {
  FakeEnv env;
  env.files["/ca.pem"] = "-----BEGIN CERTIFICATE-----\n";
  InfluxdbConfig c = ParseOk("influxdbs://secure.example:8443/iiot?ca=/ca.pem", env);
  EXPECT_TRUE(c.https);
  EXPECT_EQ(c.ca_file, "/ca.pem");
  EXPECT_EQ(c.WriteUrl(), "https://secure.example:8443/write?db=iiot&precision=ns");
  EXPECT_TRUE(ParseOk("influxdb2s://h/b?org=o").https);
  EXPECT_THAT(ParseError("influxdb://h/iiot?ca=/ca.pem", env).message(), HasSubstr("HTTPS"));
  EXPECT_THAT(ParseError("influxdbs://h/iiot?ca=/nope", env).message(), HasSubstr("/nope"));
  EXPECT_THAT(ParseError("influxdbs://h/iiot?insecure_skip_verify=true", env).message(),
              HasSubstr("'insecure_skip_verify'"));
}

TEST(InfluxdbConfigTest, BadOptions) {
  EXPECT_THAT(ParseError("influxdb://h/iiot?colour=red").message(), HasSubstr("'colour'"));
  EXPECT_THAT(ParseError("influxdb://h/iiot?gzip=yes").message(), HasSubstr("gzip"));
  for (const char* t : {"0", "-5", "abc", "99999999", ""}) {
    EXPECT_THAT(ParseError(std::string("influxdb://h/iiot?timeout_ms=") + t).message(),
                HasSubstr("timeout_ms"));
  }
  EXPECT_THAT(ParseError("influxdb://h/").message(), HasSubstr("no database"));
  EXPECT_THAT(ParseError("influxdb://h1,h2/iiot").message(), HasSubstr("one host"));
  EXPECT_THAT(ParseError("influxdb://h:99999/iiot").message(), HasSubstr("bad port"));
  EXPECT_THAT(ParseError("influxdb:///iiot").message(), HasSubstr("no host"));
  EXPECT_THAT(ParseError("sqlite:x.db").message(), HasSubstr("not an influxdb address"));
}

TEST(InfluxdbConfigTest, NewInfluxdbSinkRefusesBadAddresses) {
  Result<Uri> uri = ParseUri("influxdb://h/iiot?colour=red");
  ASSERT_TRUE(uri.ok());
  Result<std::unique_ptr<Sink>> sink = NewInfluxdbSink(*uri);
  ASSERT_FALSE(sink.ok());
  EXPECT_TRUE(sink.status().IsInvalidArgument());
}

// --- The prototype's environment variables ---

FakeEnv PrototypeEnv() {
  FakeEnv env;
  env.vars["INFLUXDB_URL"] = "http://influxdb:8086";
  env.vars["INFLUXDB_ORG"] = "iiot";
  env.vars["INFLUXDB_BUCKET"] = "iiot_rms";
  env.vars["INFLUXDB_TOKEN"] = kToken;
  return env;
}

TEST(InfluxdbConfigTest, PrototypeEnvironment) {
  Result<InfluxdbConfig> c = ConfigFromPrototypeEnvironment(PrototypeEnv().Get());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->api, ApiVersion::kV2);
  EXPECT_EQ(c->host, "influxdb");
  EXPECT_EQ(c->port, 8086);
  EXPECT_EQ(c->org, "iiot");
  EXPECT_EQ(c->bucket, "iiot_rms");
  EXPECT_EQ(c->secret, kToken);
  EXPECT_TRUE(c->gzip);
  EXPECT_EQ(c->WriteUrl(),
            "http://influxdb:8086/api/v2/write?org=iiot&bucket=iiot_rms&precision=ns");

  FakeEnv env = PrototypeEnv();
  env.vars["INFLUXDB_URL"] = "https://cloud.example/";
  c = ConfigFromPrototypeEnvironment(env.Get());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->https);
  EXPECT_EQ(c->port, 443);
}

TEST(InfluxdbConfigTest, PrototypeEnvironmentErrors) {
  for (const char* name : {"INFLUXDB_URL", "INFLUXDB_ORG", "INFLUXDB_BUCKET", "INFLUXDB_TOKEN"}) {
    FakeEnv env = PrototypeEnv();
    env.vars.erase(name);
    Result<InfluxdbConfig> c = ConfigFromPrototypeEnvironment(env.Get());
    ASSERT_FALSE(c.ok()) << name;
    EXPECT_THAT(c.status().message(), HasSubstr(name));
    EXPECT_THAT(c.status().message(), Not(HasSubstr(kToken)));
  }
  for (const char* url :
       {"ftp://h:21", "http://h:8086/prefix", "h:8086", "http://h:8086?x=1", "http://a,b:8086"}) {
    FakeEnv env = PrototypeEnv();
    env.vars["INFLUXDB_URL"] = url;
    Result<InfluxdbConfig> c = ConfigFromPrototypeEnvironment(env.Get());
    ASSERT_FALSE(c.ok()) << url;
    EXPECT_TRUE(c.status().IsInvalidArgument()) << url;
    EXPECT_THAT(c.status().message(), Not(HasSubstr(kToken)));
  }
}

}  // namespace
}  // namespace mh::sink::influxdb
