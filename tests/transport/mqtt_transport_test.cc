// Unit tests of the MQTT transport without a broker: address parsing
// (transport/mqtt/mqtt_config.h), {key} topics, credentials, and factory
// errors that need no broker.
#include "transport/mqtt/mqtt_transport.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include <gtest/gtest.h>

#include "core/uri.h"
#include "testing/fake_environment.h"
#include "testing/process.h"
#include "testing/test_paths.h"
#include "transport/mqtt/mqtt_config.h"

namespace mh::transport::mqtt {
namespace {

constexpr char kSecret[] = "s3cr3t-Pa55-9q";

// HOME is set unless `env` says otherwise (HOME="" means unset): persistent
// subscribers need a directory for their default spool.
Result<MqttConfig> Parse(const std::string& text, MqttRole role,
                         std::map<std::string, std::string> env = {}) {
  env.emplace("HOME", "/home/test");
  auto uri = ParseUri(text);
  if (!uri.ok()) return uri.status();
  // Fixed variables; the password files the tests write are real files.
  const mh::testing::FakeEnvironment fake{std::move(env), {}};
  Environment environment = fake.Get();
  environment.read_file = ProcessEnvironment().read_file;
  return ParseMqttConfig(*uri, role, environment);
}

MqttConfig ParseOk(const std::string& text, MqttRole role,
                   std::map<std::string, std::string> env = {}) {
  auto config = Parse(text, role, std::move(env));
  EXPECT_TRUE(config.ok()) << text << ": " << config.status().ToString();
  return config.ok() ? *config : MqttConfig{};
}

Status ParseError(const std::string& text, MqttRole role,
                  std::map<std::string, std::string> env = {}) {
  auto config = Parse(text, role, std::move(env));
  EXPECT_FALSE(config.ok()) << text << " was accepted";
  return config.ok() ? Status::OK() : config.status();
}

class TempDir {
 public:
  TempDir() : path_(mh::testing::MakeTempDir("mh-mqtt-unit")) {}
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string Write(const std::string& name, const std::string& text) const {
    const std::string p = path_ + "/" + name;
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(MqttConfigTest, PublisherDefaults) {
  const MqttConfig c = ParseOk("mqtt://broker.local/plant/{key}/scores", MqttRole::kPublisher);
  EXPECT_FALSE(c.tls);
  EXPECT_EQ(c.host, "broker.local");
  EXPECT_EQ(c.port, 1883);
  EXPECT_EQ(c.topic, "plant/{key}/scores");
  EXPECT_EQ(c.qos, 1);
  EXPECT_TRUE(c.clean_session);
  EXPECT_TRUE(c.client_id.empty());
  EXPECT_EQ(c.keepalive_s, 30);
  EXPECT_EQ(c.timeout, std::chrono::milliseconds(10000));
  EXPECT_EQ(c.max_inflight, 1000);
  EXPECT_TRUE(c.user.empty());
  EXPECT_TRUE(c.password.empty());
}

TEST(MqttConfigTest, SubscriberDefaultsToPersistentSessionWithDerivedId) {
  const MqttConfig c = ParseOk("mqtts://svc@h:9000/plant/+/vib", MqttRole::kSubscriber);
  EXPECT_TRUE(c.tls);
  EXPECT_EQ(c.port, 9000);
  EXPECT_FALSE(c.clean_session);
  EXPECT_TRUE(c.client_id_derived);
  EXPECT_EQ(c.client_id.size(), 19u);
  EXPECT_EQ(c.client_id.rfind("mh-", 0), 0u);
  EXPECT_EQ(c.queue_size, 1000u);
  // Deterministic, and distinct per topic, host, user and role.
  EXPECT_EQ(ParseOk("mqtts://svc@h:9000/plant/+/vib", MqttRole::kSubscriber).client_id,
            c.client_id);
  EXPECT_NE(ParseOk("mqtts://svc@h:9000/plant/+/rms", MqttRole::kSubscriber).client_id,
            c.client_id);
  EXPECT_NE(ParseOk("mqtts://svc@h2:9000/plant/+/vib", MqttRole::kSubscriber).client_id,
            c.client_id);
  EXPECT_NE(ParseOk("mqtts://other@h:9000/plant/+/vib", MqttRole::kSubscriber).client_id,
            c.client_id);
  EXPECT_NE(
      ParseOk("mqtts://svc@h:9000/plant/x/vib?clean_session=false", MqttRole::kPublisher).client_id,
      ParseOk("mqtts://svc@h:9000/plant/x/vib", MqttRole::kSubscriber).client_id);
  EXPECT_EQ(ParseOk("mqtts://h/t", MqttRole::kSubscriber).port, 8883);
}

TEST(MqttConfigTest, ExplicitSettings) {
  const MqttConfig c = ParseOk(
      "mqtt://h:1884/a/b?qos=0&client_id=scorer-1&clean_session=true&keepalive=10"
      "&timeout_ms=250&queue_size=7",
      MqttRole::kSubscriber);
  EXPECT_EQ(c.qos, 0);
  EXPECT_EQ(c.client_id, "scorer-1");
  EXPECT_FALSE(c.client_id_derived);
  EXPECT_TRUE(c.clean_session);
  EXPECT_EQ(c.keepalive_s, 10);
  EXPECT_EQ(c.timeout, std::chrono::milliseconds(250));
  EXPECT_EQ(c.queue_size, 7u);
  EXPECT_EQ(ParseOk("mqtt://h/t?max_inflight=20", MqttRole::kPublisher).max_inflight, 20);
  // clean_session=true without client_id: the library picks a random id.
  EXPECT_TRUE(ParseOk("mqtt://h/t?clean_session=true", MqttRole::kSubscriber).client_id.empty());
}

TEST(MqttConfigTest, RejectsBadSettings) {
  const auto kPub = MqttRole::kPublisher;
  const auto kSub = MqttRole::kSubscriber;
  EXPECT_TRUE(ParseError("kafka://h/t", kPub).IsInvalidArgument());
  EXPECT_NE(ParseError("mqtt://h/t?qoss=1", kPub).message().find("'qoss'"), std::string::npos);
  EXPECT_TRUE(ParseError("mqtt://h/t?queue_size=5", kPub).IsInvalidArgument());
  EXPECT_TRUE(ParseError("mqtt://h/t?max_inflight=5", kSub).IsInvalidArgument());
  EXPECT_TRUE(ParseError("mqtt://h/t?qos=2", kPub).IsNotSupported());
  EXPECT_TRUE(ParseError("mqtt://h/t?qos=3", kPub).IsInvalidArgument());
  EXPECT_TRUE(ParseError("mqtt://h/t?qos=one", kSub).IsInvalidArgument());
  EXPECT_TRUE(ParseError("mqtt://h/t?keepalive=2", kSub).IsInvalidArgument());
  EXPECT_TRUE(ParseError("mqtt://h/t?timeout_ms=0", kSub).IsInvalidArgument());
  EXPECT_TRUE(ParseError("mqtt://h/t?clean_session=maybe", kSub).IsInvalidArgument());
  EXPECT_TRUE(ParseError("mqtt://h/t?client_id=", kSub).IsInvalidArgument());
  EXPECT_TRUE(ParseError("mqtt://h/t?queue_size=0", kSub).IsInvalidArgument());
  EXPECT_TRUE(ParseError("mqtt://h:0/t", kSub).IsInvalidArgument());
  EXPECT_TRUE(ParseError("mqtt://h1,h2/t", kSub).IsInvalidArgument());
  EXPECT_TRUE(ParseError("mqtt:///t", kSub).IsInvalidArgument());
  EXPECT_NE(ParseError("mqtt://h", kSub).message().find("empty"), std::string::npos);
  EXPECT_NE(ParseError("mqtt://h/t?ca=/x.pem", kSub).message().find("mqtts://"), std::string::npos);
  EXPECT_TRUE(ParseError("mqtts://h/t?cert=/c.pem", kSub).IsInvalidArgument());
  EXPECT_TRUE(ParseError("mqtts://h/t?key=/k.pem", kSub).IsInvalidArgument());
}

TEST(MqttConfigTest, TlsFiles) {
  const MqttConfig c =
      ParseOk("mqtts://h/t?ca=/etc/ca.pem&cert=/etc/c.pem&key=/etc/k.pem", MqttRole::kPublisher);
  EXPECT_EQ(c.ca_file, "/etc/ca.pem");
  EXPECT_EQ(c.cert_file, "/etc/c.pem");
  EXPECT_EQ(c.key_file, "/etc/k.pem");
}

TEST(MqttConfigTest, TopicRules) {
  const auto kPub = MqttRole::kPublisher;
  const auto kSub = MqttRole::kSubscriber;
  for (const char* filter : {"plant/+/vib", "#", "plant/#", "+", "+/+/x", "a//b", "plant/%23"}) {
    ParseOk(std::string("mqtt://h/") + filter, kSub);
  }
  EXPECT_EQ(ParseOk("mqtt://h/plant/%23", kSub).topic, "plant/#");
  for (const char* filter : {"plant/#/x", "pl+ant", "plant/vib#", "plant/{key}"}) {
    EXPECT_TRUE(ParseError(std::string("mqtt://h/") + filter, kSub).IsInvalidArgument()) << filter;
  }
  for (const char* topic : {"plant/+/vib", "plant/#", "plant/{Key}", "plant/{key", "a}"}) {
    EXPECT_TRUE(ParseError(std::string("mqtt://h/") + topic, kPub).IsInvalidArgument()) << topic;
  }
  ParseOk("mqtt://h/plant/{key}/scores/{key}", kPub);
  EXPECT_TRUE(CheckPublishTopic(std::string("a\0b", 3)).IsInvalidArgument());
  EXPECT_TRUE(CheckTopicFilter(std::string(65536, 'a')).IsInvalidArgument());
  EXPECT_TRUE(CheckTopicFilter("").IsInvalidArgument());
}

TEST(MqttConfigTest, ExpandTopicReplacesKey) {
  EXPECT_EQ(ExpandTopic("plant/{key}/scores", "m1").value(), "plant/m1/scores");
  EXPECT_EQ(ExpandTopic("{key}/x/{key}", "pump-7").value(), "pump-7/x/pump-7");
  EXPECT_EQ(ExpandTopic("plant/all", "").value(), "plant/all");
  EXPECT_EQ(ExpandTopic("plant/all", "m/1").value(), "plant/all");  // key unused
  EXPECT_TRUE(ExpandTopic("plant/{key}", "").status().IsInvalidArgument());
  for (const char* key : {"a/b", "a+", "#"}) {
    auto r = ExpandTopic("plant/{key}", key);
    EXPECT_TRUE(r.status().IsInvalidArgument()) << key;
  }
  EXPECT_TRUE(ExpandTopic("p/{key}", std::string("a\0b", 3)).status().IsInvalidArgument());
}

TEST(MqttConfigTest, PasswordFromEnvironment) {
  const MqttConfig c =
      ParseOk("mqtts://svc@h/t", MqttRole::kPublisher, {{"MQTT_PASSWORD", kSecret}});
  EXPECT_EQ(c.user, "svc");
  EXPECT_EQ(c.password, kSecret);
  // Without a user the variable is not used (anonymous listener).
  EXPECT_TRUE(
      ParseOk("mqtt://h/t", MqttRole::kPublisher, {{"MQTT_PASSWORD", kSecret}}).password.empty());
  EXPECT_TRUE(ParseOk("mqtt://svc@h/t", MqttRole::kPublisher).password.empty());
}

TEST(MqttConfigTest, PasswordFromFile) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  const std::string file = dir.Write("pw", std::string(kSecret) + "\r\n");
  const MqttConfig c = ParseOk("mqtt://svc@h/t?password_file=" + file, MqttRole::kSubscriber,
                               {{"MQTT_PASSWORD", "from-env"}});
  EXPECT_EQ(c.password, kSecret);  // the file wins over the environment
  EXPECT_EQ(c.password_file, file);
  EXPECT_EQ(
      ParseOk("mqtt://svc@h/t?password_file=" + dir.Write("pw2", "x y"), MqttRole::kSubscriber)
          .password,
      "x y");

  EXPECT_TRUE(ParseError("mqtt://h/t?password_file=" + file, MqttRole::kSubscriber)
                  .IsInvalidArgument());  // no user
  EXPECT_TRUE(
      ParseError("mqtt://svc@h/t?password_file=" + dir.path() + "/absent", MqttRole::kSubscriber)
          .IsNotFound());
  EXPECT_TRUE(
      ParseError("mqtt://svc@h/t?password_file=" + dir.Write("empty", "\n"), MqttRole::kSubscriber)
          .IsInvalidArgument());
  const Status two_lines = ParseError(
      "mqtt://svc@h/t?password_file=" + dir.Write("two", std::string(kSecret) + "\nmore\n"),
      MqttRole::kSubscriber);
  EXPECT_TRUE(two_lines.IsInvalidArgument());
  EXPECT_EQ(two_lines.ToString().find(kSecret), std::string::npos) << two_lines.ToString();
}

TEST(MqttConfigTest, SecretNeverInDescriptionOrErrors) {
  TempDir dir;
  const std::string file = dir.Write("pw", kSecret);
  const MqttConfig c =
      ParseOk("mqtts://svc@h/t?password_file=" + file + "&client_id=c1", MqttRole::kSubscriber);
  ASSERT_EQ(c.password, kSecret);
  const std::string d = c.Describe();
  EXPECT_EQ(d, "mqtts://svc@h:8883/t (qos 1, client_id c1, persistent session)");
  EXPECT_EQ(d.find(kSecret), std::string::npos);
  // A password in the address is refused, and not echoed.
  auto uri = ParseUri(std::string("mqtt://svc:") + kSecret + "@h/t");
  ASSERT_FALSE(uri.ok());
  EXPECT_EQ(uri.status().ToString().find(kSecret), std::string::npos);
  // Errors of later parameters do not show the password read before.
  const Status bad = ParseError("mqtt://svc@h/t?password_file=" + file + "&qos=9",
                                MqttRole::kSubscriber, {{"MQTT_PASSWORD", kSecret}});
  EXPECT_EQ(bad.ToString().find(kSecret), std::string::npos);
}

TEST(MqttConfigTest, SubscriberSpoolDefaultsAndOptions) {
  const auto kSub = MqttRole::kSubscriber;
  // Persistent sessions: on, in the first of STATE_DIRECTORY, XDG_STATE_HOME, HOME.
  MqttConfig c = ParseOk("mqtt://h/t", kSub);
  EXPECT_EQ(c.spool_dir, "/home/test/.local/state/machine-health/mqtt-spool");
  EXPECT_TRUE(c.spool_defaulted);
  EXPECT_FALSE(c.spool_sync);
  EXPECT_EQ(ParseOk("mqtt://h/t", kSub, {{"XDG_STATE_HOME", "/xdg/"}}).spool_dir,
            "/xdg/machine-health/mqtt-spool");
  EXPECT_EQ(ParseOk("mqtt://h/t", kSub, {{"XDG_STATE_HOME", "relative/ignored"}}).spool_dir,
            "/home/test/.local/state/machine-health/mqtt-spool");
  EXPECT_EQ(ParseOk("mqtt://h/t", kSub,
                    {{"STATE_DIRECTORY", "/var/lib/machine-health:/var/lib/other"},
                     {"XDG_STATE_HOME", "/xdg"}})
                .spool_dir,
            "/var/lib/machine-health/mqtt-spool");
  // Explicit.
  c = ParseOk("mqtt://h/t?spool=/data/spool&spool_sync=true", kSub);
  EXPECT_EQ(c.spool_dir, "/data/spool");
  EXPECT_FALSE(c.spool_defaulted);
  EXPECT_TRUE(c.spool_sync);
  c = ParseOk("mqtt://h/t?spool=off", kSub);
  EXPECT_TRUE(c.spool_dir.empty());
  EXPECT_TRUE(c.spool_explicitly_off);
  EXPECT_TRUE(ParseOk("mqtt://h/t?spool=off&spool_sync=false", kSub).spool_dir.empty());
  // Clean sessions: off unless given (and then a client id names it).
  EXPECT_TRUE(ParseOk("mqtt://h/t?clean_session=true", kSub).spool_dir.empty());
  EXPECT_EQ(ParseOk("mqtt://h/t?clean_session=true&client_id=c&spool=/s", kSub).spool_dir, "/s");
  // Errors name the option.
  for (const char* bad :
       {"mqtt://h/t?spool=", "mqtt://h/t?spool_sync=maybe", "mqtt://h/t?spool=off&spool_sync=true",
        "mqtt://h/t?clean_session=true&spool=/s", "mqtt://h/t?clean_session=true&spool_sync=1"}) {
    const Status s = ParseError(bad, kSub);
    EXPECT_TRUE(s.IsInvalidArgument()) << bad << ": " << s.ToString();
    EXPECT_NE(s.message().find("spool"), std::string::npos) << bad << ": " << s.ToString();
  }
  // No directory anywhere: say so rather than guess.
  const Status none = ParseError("mqtt://h/t", kSub, {{"HOME", ""}});
  EXPECT_TRUE(none.IsInvalidArgument());
  EXPECT_NE(none.message().find("spool=DIR"), std::string::npos) << none.ToString();
  // Publishers have no spool.
  EXPECT_TRUE(ParseError("mqtt://h/t?spool=/s", MqttRole::kPublisher).IsInvalidArgument());
}

// Factories: errors found before any network traffic, and an unreachable
// broker.
TEST(MqttFactoryTest, BadAddressesFailWithContext) {
  TempDir state;  // the default spool goes here, not into $HOME
  ::setenv("STATE_DIRECTORY", state.path().c_str(), 1);
  auto pub = NewMqttPublisher(ParseUri("mqtt://127.0.0.1:1/a/+").value());
  ASSERT_FALSE(pub.ok());
  EXPECT_TRUE(pub.status().IsInvalidArgument());
  EXPECT_EQ(pub.status().message().rfind("mqtt: ", 0), 0u) << pub.status().ToString();
  auto sub = NewMqttSubscriber(ParseUri("mqtt://127.0.0.1:1/a?bogus=1").value());
  ASSERT_FALSE(sub.ok());
  EXPECT_TRUE(sub.status().IsInvalidArgument());
  auto tls = NewMqttSubscriber(ParseUri("mqtts://127.0.0.1:1/a?ca=/nonexistent/ca.pem").value());
  ASSERT_FALSE(tls.ok());
  EXPECT_TRUE(tls.status().IsNotFound()) << tls.status().ToString();
  EXPECT_NE(tls.status().message().find("/nonexistent/ca.pem"), std::string::npos);
  ::unsetenv("STATE_DIRECTORY");
}

TEST(MqttFactoryTest, UnreachableBrokerIsUnavailableWithoutSecret) {
  const int port = mh::testing::FreeTcpPort();  // nothing listens there
  ASSERT_GT(port, 0);
  ::setenv("MQTT_PASSWORD", kSecret, 1);
  const auto start = std::chrono::steady_clock::now();
  auto pub = NewMqttPublisher(
      ParseUri("mqtt://svc@127.0.0.1:" + std::to_string(port) + "/t?timeout_ms=300").value());
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ::unsetenv("MQTT_PASSWORD");
  ASSERT_FALSE(pub.ok());
  EXPECT_TRUE(pub.status().IsUnavailable()) << pub.status().ToString();
  EXPECT_NE(pub.status().message().find("127.0.0.1:" + std::to_string(port)), std::string::npos);
  EXPECT_NE(pub.status().message().find("refused"), std::string::npos) << pub.status().ToString();
  EXPECT_EQ(pub.status().ToString().find(kSecret), std::string::npos);
  EXPECT_LT(elapsed, std::chrono::seconds(3));
}

}  // namespace
}  // namespace mh::transport::mqtt
