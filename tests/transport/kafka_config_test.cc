// Unit tests of the Kafka / Event Hubs address translation (no network).
#include "transport/kafka/kafka_config.h"

#include <map>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/uri.h"
#include "testing/fake_environment.h"

namespace mh::transport::kafka {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// A fixed environment and file system.
using FakeEnv = ::mh::testing::FakeEnvironment;

Result<KafkaClientConfig> Build(const std::string& address, ClientRole role,
                                const FakeEnv& env = {}) {
  auto uri = ParseUri(address);
  if (!uri.ok()) return uri.status();
  return BuildKafkaConfig(*uri, role, env.Get());
}

std::string Prop(const KafkaClientConfig& c, const std::string& name) {
  return c.Property(name).value_or("<unset>");
}

constexpr ClientRole kPub = ClientRole::kPublisher;
constexpr ClientRole kSub = ClientRole::kSubscriber;

// ----------------------------------------------------------------- kafka://

TEST(KafkaConfigTest, PublisherDefaults) {
  auto c = Build("kafka://h1:9092,h2/telemetry", kPub);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->flavor, "kafka");
  EXPECT_EQ(c->topic, "telemetry");
  EXPECT_EQ(c->brokers, "h1:9092,h2:9092");
  EXPECT_EQ(Prop(*c, "bootstrap.servers"), "h1:9092,h2:9092");
  EXPECT_EQ(Prop(*c, "acks"), "all");
  EXPECT_EQ(Prop(*c, "enable.idempotence"), "true");
  EXPECT_EQ(Prop(*c, "compression.codec"), "lz4");
  EXPECT_EQ(Prop(*c, "linger.ms"), "5");
  EXPECT_EQ(Prop(*c, "message.timeout.ms"), "30000");
  EXPECT_EQ(Prop(*c, "security.protocol"), "plaintext");
  EXPECT_EQ(Prop(*c, "client.id"), "machine-health");
  EXPECT_EQ(c->delivery_timeout, std::chrono::milliseconds(30000));
  EXPECT_FALSE(c->Property("group.id").has_value());
  EXPECT_FALSE(c->Property("sasl.password").has_value());
  EXPECT_TRUE(c->secrets.empty());
}

TEST(KafkaConfigTest, PublisherOptions) {
  auto c = Build(
      "kafka://h:1/t?compression=ZSTD&linger_ms=20&timeout_ms=2000&client_id=edge-1&"
      "idempotence=false",
      kPub);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(Prop(*c, "compression.codec"), "zstd");
  EXPECT_EQ(Prop(*c, "linger.ms"), "20");
  EXPECT_EQ(Prop(*c, "message.timeout.ms"), "2000");
  EXPECT_EQ(Prop(*c, "client.id"), "edge-1");
  EXPECT_EQ(Prop(*c, "enable.idempotence"), "false");
  EXPECT_EQ(c->delivery_timeout, std::chrono::milliseconds(2000));
  for (const char* codec : {"none", "gzip", "snappy", "lz4", "zstd"}) {
    auto d = Build(std::string("kafka://h:1/t?compression=") + codec, kPub);
    ASSERT_TRUE(d.ok()) << codec;
    EXPECT_EQ(Prop(*d, "compression.codec"), codec);
  }
}

TEST(KafkaConfigTest, BadNumbersAndChoicesAreRejected) {
  for (const char* query :
       {"compression=brotli", "linger_ms=abc", "linger_ms=-1", "linger_ms=1000000", "timeout_ms=50",
        "timeout_ms=", "session_timeout_ms=10", "fetch_wait_ms=-5", "fetch_wait_ms=400000",
        "prefetch_kb=10", "idempotence=yes", "security_protocol=tls", "client_id="}) {
    auto c = Build(std::string("kafka://h:1/t?group=g&") + query, kSub);
    ASSERT_FALSE(c.ok()) << query;
    EXPECT_TRUE(c.status().IsInvalidArgument()) << query;
    const std::string name = std::string(query).substr(0, std::string(query).find('='));
    EXPECT_THAT(c.status().message(), HasSubstr(name)) << query;
    EXPECT_THAT(c.status().message(), HasSubstr("kafka: ")) << query;
  }
  // Producer-only numbers are checked for a publisher too.
  auto c = Build("kafka://h:1/t?linger_ms=x", kPub);
  EXPECT_TRUE(c.status().IsInvalidArgument());
}

TEST(KafkaConfigTest, UnknownParameterIsRejected) {
  auto c = Build("kafka://h:1/t?grup=g", kSub);
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(c.status().IsInvalidArgument());
  EXPECT_THAT(c.status().message(), HasSubstr("'grup'"));
  // Event Hubs-only parameters are unknown to kafka://.
  EXPECT_FALSE(Build("kafka://h:1/t?connection_string_file=/x", kPub).ok());
}

TEST(KafkaConfigTest, TopicAndHostsAreChecked) {
  EXPECT_THAT(Build("kafka://h:9092", kPub).status().message(), HasSubstr("topic"));
  EXPECT_THAT(Build("kafka://h:9092/", kPub).status().message(), HasSubstr("topic"));
  EXPECT_THAT(Build("kafka://h:9092/a/b", kPub).status().message(), HasSubstr("'a/b'"));
  EXPECT_THAT(Build("kafka://h:9092/a%20b", kPub).status().message(), HasSubstr("topic"));
  EXPECT_FALSE(Build("kafka://h:9092/..", kPub).ok());
  EXPECT_FALSE(Build("kafka://h:9092/" + std::string(250, 'a'), kPub).ok());
  EXPECT_TRUE(Build("kafka://h:9092/" + std::string(249, 'a'), kPub).ok());
  EXPECT_TRUE(Build("kafka://h:9092/my_topic.v2-x", kPub).ok());
  EXPECT_FALSE(Build("kafka:///t", kPub).ok());
  EXPECT_FALSE(Build("kafka://h:0/t", kPub).ok());
  EXPECT_FALSE(Build("kafka://h:99999/t", kPub).ok());
  EXPECT_FALSE(Build("kafka://h1,:9092/t", kPub).ok());
  EXPECT_FALSE(Build("kafka:t", kPub).ok());
  auto c = Build("kafka://a,b:1,c:2/t", kPub);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->brokers, "a:9092,b:1,c:2");
}

TEST(KafkaConfigTest, WrongSchemeIsRejected) {
  auto c = Build("mqtt://h:1/t", kPub);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("mqtt"));
}

TEST(KafkaConfigTest, SubscriberNeedsGroup) {
  auto c = Build("kafka://h:1/t", kSub);
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(c.status().IsInvalidArgument());
  EXPECT_THAT(c.status().message(), HasSubstr("group"));
  EXPECT_FALSE(Build("kafka://h:1/t?group=", kSub).ok());
}

TEST(KafkaConfigTest, SubscriberDefaultsAndOptions) {
  auto c = Build("kafka://h:1/t?group=scorers", kSub);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->group, "scorers");
  EXPECT_EQ(Prop(*c, "group.id"), "scorers");
  EXPECT_EQ(Prop(*c, "enable.auto.commit"), "false");
  EXPECT_EQ(Prop(*c, "enable.auto.offset.store"), "false");
  EXPECT_EQ(Prop(*c, "partition.assignment.strategy"), "cooperative-sticky");
  EXPECT_EQ(Prop(*c, "auto.offset.reset"), "earliest");
  EXPECT_FALSE(c->Property("session.timeout.ms").has_value());
  EXPECT_FALSE(c->Property("fetch.wait.max.ms").has_value()) << "librdkafka's default stays";
  // Producer settings do not leak into a consumer's configuration.
  EXPECT_FALSE(c->Property("acks").has_value());
  EXPECT_FALSE(c->Property("compression.codec").has_value());

  auto d = Build("kafka://h:1/t?group=g&start=latest&session_timeout_ms=3000", kSub);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(Prop(*d, "auto.offset.reset"), "latest");
  EXPECT_EQ(Prop(*d, "session.timeout.ms"), "3000");
  EXPECT_EQ(Prop(*d, "heartbeat.interval.ms"), "500");
  auto e = Build("kafka://h:1/t?group=g&session_timeout_ms=60000", kSub);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(Prop(*e, "heartbeat.interval.ms"), "3000");
  auto f = Build("kafka://h:1/t?group=g&fetch_wait_ms=10", kSub);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(Prop(*f, "fetch.wait.max.ms"), "10");
  EXPECT_FALSE(f->Property("queued.max.messages.kbytes").has_value()) << "librdkafka's default";
  auto h = Build("kafka://h:1/t?group=g&prefetch_kb=65536", kSub);
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ(Prop(*h, "queued.max.messages.kbytes"), "65536");
  EXPECT_THAT(Build("kafka://h:1/t?group=g&start=middle", kSub).status().message(),
              HasSubstr("start"));
}

TEST(KafkaConfigTest, ConsumerOptionsAreAcceptedOnAPublisherAddress) {
  // One address may serve both ends; the other end's options are ignored.
  auto c = Build("kafka://h:1/t?group=g&start=latest", kPub);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_FALSE(c->Property("group.id").has_value());
  auto d = Build("kafka://h:1/t?group=g&compression=gzip&linger_ms=1", kSub);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_FALSE(d->Property("compression.codec").has_value());
}

TEST(KafkaConfigTest, SaslPasswordFromEnvironment) {
  FakeEnv env;
  env.vars[kSaslPasswordEnv] = "pw-from-env-0815";
  auto c = Build(
      "kafka://h:9093/t?security_protocol=sasl_ssl&sasl_mechanism=scram-sha-512&"
      "sasl_username=svc&ca=/etc/ca.pem",
      kPub, env);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(Prop(*c, "security.protocol"), "sasl_ssl");
  EXPECT_EQ(Prop(*c, "sasl.mechanisms"), "SCRAM-SHA-512");
  EXPECT_EQ(Prop(*c, "sasl.username"), "svc");
  EXPECT_EQ(Prop(*c, "sasl.password"), "pw-from-env-0815");
  EXPECT_EQ(Prop(*c, "ssl.ca.location"), "/etc/ca.pem");
  EXPECT_THAT(c->secrets, ::testing::ElementsAre("pw-from-env-0815"));
  EXPECT_THAT(c->Describe(), HasSubstr("sasl.password=***"));
  EXPECT_THAT(c->Describe(), HasSubstr("sasl.username=svc"));
  EXPECT_THAT(c->Describe(), Not(HasSubstr("pw-from-env-0815")));
}

TEST(KafkaConfigTest, SaslDefaultsAndUserInAddress) {
  FakeEnv env;
  env.vars[kSaslPasswordEnv] = "pw";
  auto c = Build("kafka://svc@h:9093/t?security_protocol=sasl_plaintext", kPub, env);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(Prop(*c, "sasl.mechanisms"), "PLAIN");
  EXPECT_EQ(Prop(*c, "sasl.username"), "svc");
  EXPECT_FALSE(
      Build("kafka://a@h:9093/t?security_protocol=sasl_plaintext&sasl_username=b", kPub, env).ok());
  EXPECT_TRUE(
      Build("kafka://a@h:9093/t?security_protocol=sasl_plaintext&sasl_username=a", kPub, env).ok());
}

TEST(KafkaConfigTest, SaslPasswordFromFile) {
  FakeEnv env;
  env.vars[kSaslPasswordEnv] = "env-password";
  env.files["/run/secrets/kafka"] = "file-password\n";
  env.files["/run/secrets/empty"] = " \n";
  auto c = Build(
      "kafka://h:9093/t?security_protocol=sasl_ssl&sasl_username=u&"
      "sasl_password_file=/run/secrets/kafka",
      kPub, env);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(Prop(*c, "sasl.password"), "file-password");  // file wins, trimmed

  auto missing =
      Build("kafka://h:9093/t?security_protocol=sasl_ssl&sasl_username=u&sasl_password_file=/nope",
            kPub, env);
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr("/nope"));
  auto empty = Build(
      "kafka://h:9093/t?security_protocol=sasl_ssl&sasl_username=u&"
      "sasl_password_file=/run/secrets/empty",
      kPub, env);
  ASSERT_FALSE(empty.ok());
  EXPECT_THAT(empty.status().message(), HasSubstr("empty"));
}

TEST(KafkaConfigTest, SaslErrors) {
  FakeEnv none;
  auto no_password =
      Build("kafka://h:9093/t?security_protocol=sasl_ssl&sasl_username=u", kPub, none);
  ASSERT_FALSE(no_password.ok());
  EXPECT_THAT(no_password.status().message(), HasSubstr(kSaslPasswordEnv));
  EXPECT_THAT(no_password.status().message(), HasSubstr("sasl_password_file"));

  FakeEnv env;
  env.vars[kSaslPasswordEnv] = "pw";
  auto no_user = Build("kafka://h:9093/t?security_protocol=sasl_ssl", kPub, env);
  ASSERT_FALSE(no_user.ok());
  EXPECT_THAT(no_user.status().message(), HasSubstr("sasl_username"));
  // SASL options without a SASL protocol are a mistake, not ignored.
  EXPECT_FALSE(Build("kafka://h:9093/t?sasl_username=u", kPub, env).ok());
  EXPECT_FALSE(Build("kafka://u@h:9093/t", kPub, env).ok());
  EXPECT_FALSE(Build("kafka://h:9093/t?sasl_mechanism=PLAIN", kPub, env).ok());
  auto gssapi =
      Build("kafka://h:9093/t?security_protocol=sasl_ssl&sasl_username=u&sasl_mechanism=GSSAPI",
            kPub, env);
  ASSERT_FALSE(gssapi.ok());
  EXPECT_THAT(gssapi.status().message(), HasSubstr("sasl_mechanism"));
}

TEST(KafkaConfigTest, SecretsInTheAddressAreRefusedWithoutEchoingThem) {
  for (const char* param :
       {"sasl_password", "password", "connection_string", "SharedAccessKey", "ssl_key_password"}) {
    for (const char* scheme : {"kafka://h:1/t", "eventhubs://ns.servicebus.windows.net/t"}) {
      auto c = Build(std::string(scheme) + "?" + param + "=TopSecret123", kPub);
      ASSERT_FALSE(c.ok()) << param;
      EXPECT_TRUE(c.status().IsInvalidArgument());
      EXPECT_THAT(c.status().message(), HasSubstr("secrets may not be given in an address"));
      EXPECT_THAT(c.status().message(), Not(HasSubstr("TopSecret123")));
    }
  }
}

TEST(KafkaConfigTest, TlsFiles) {
  FakeEnv env;
  env.vars[kSslKeyPasswordEnv] = "keypw";
  auto c =
      Build("kafka://h:9093/t?security_protocol=ssl&ca=/ca.pem&cert=/c.pem&key=/k.pem", kPub, env);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(Prop(*c, "security.protocol"), "ssl");
  EXPECT_EQ(Prop(*c, "ssl.ca.location"), "/ca.pem");
  EXPECT_EQ(Prop(*c, "ssl.certificate.location"), "/c.pem");
  EXPECT_EQ(Prop(*c, "ssl.key.location"), "/k.pem");
  EXPECT_EQ(Prop(*c, "ssl.key.password"), "keypw");
  EXPECT_THAT(c->Describe(), Not(HasSubstr("keypw")));

  EXPECT_THAT(Build("kafka://h:1/t?security_protocol=ssl&cert=/c.pem", kPub).status().message(),
              HasSubstr("together"));
  EXPECT_THAT(Build("kafka://h:1/t?ca=/ca.pem", kPub).status().message(),
              HasSubstr("security_protocol"));
  EXPECT_FALSE(Build("kafka://h:1/t?security_protocol=ssl&ca=", kPub).ok());
  auto plain_ssl = Build("kafka://h:1/t?security_protocol=ssl", kPub);
  ASSERT_TRUE(plain_ssl.ok());
  EXPECT_FALSE(plain_ssl->Property("ssl.ca.location").has_value());  // system CAs
}

// ------------------------------------------------------------- eventhubs://

constexpr char kKey[] = "Zm9vYmFyS2V5VmFsdWUrLz0xMjM0NTY3ODkw+Secret=";

std::string ConnectionString(const std::string& ns = "myns.servicebus.windows.net",
                             const std::string& entity = "telemetry") {
  std::string cs =
      "Endpoint=sb://" + ns + "/;SharedAccessKeyName=send-listen;SharedAccessKey=" + kKey;
  if (!entity.empty()) cs += ";EntityPath=" + entity;
  return cs;
}

FakeEnv EnvWithConnectionString(const std::string& cs = ConnectionString()) {
  FakeEnv env;
  env.vars[kEventHubConnectionStringEnv] = cs;
  return env;
}

TEST(EventHubsConfigTest, TranslatesToKafkaSettings) {
  const FakeEnv env = EnvWithConnectionString();
  auto c = Build("eventhubs://myns.servicebus.windows.net/telemetry?group=g", kSub, env);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->flavor, "eventhubs");
  EXPECT_EQ(c->topic, "telemetry");
  EXPECT_EQ(c->brokers, "myns.servicebus.windows.net:9093");
  EXPECT_EQ(Prop(*c, "bootstrap.servers"), "myns.servicebus.windows.net:9093");
  EXPECT_EQ(Prop(*c, "security.protocol"), "sasl_ssl");
  EXPECT_EQ(Prop(*c, "sasl.mechanisms"), "PLAIN");
  EXPECT_EQ(Prop(*c, "sasl.username"), "$ConnectionString");
  EXPECT_EQ(Prop(*c, "sasl.password"), ConnectionString());
  EXPECT_EQ(Prop(*c, "group.id"), "g");
  EXPECT_EQ(Prop(*c, "partition.assignment.strategy"), "cooperative-sticky");
  EXPECT_EQ(Prop(*c, "metadata.max.age.ms"), "180000");
  EXPECT_EQ(Prop(*c, "connections.max.idle.ms"), "180000");
  EXPECT_THAT(c->secrets, ::testing::ElementsAre(ConnectionString()));
  EXPECT_THAT(c->Describe(), Not(HasSubstr(kKey)));
  EXPECT_THAT(c->Describe(), Not(HasSubstr("SharedAccessKeyName")));
  EXPECT_THAT(c->Describe(), HasSubstr("sasl.password=***"));
}

TEST(EventHubsConfigTest, PublisherDefaults) {
  auto c =
      Build("eventhubs://myns.servicebus.windows.net/telemetry", kPub, EnvWithConnectionString());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(Prop(*c, "acks"), "all");
  EXPECT_EQ(Prop(*c, "compression.codec"), "none");
  EXPECT_EQ(Prop(*c, "request.timeout.ms"), "60000");
  auto gz = Build("eventhubs://myns.servicebus.windows.net/telemetry?compression=gzip", kPub,
                  EnvWithConnectionString());
  ASSERT_TRUE(gz.ok());
  EXPECT_EQ(Prop(*gz, "compression.codec"), "gzip");
}

TEST(EventHubsConfigTest, PrototypeVariablesNameTheHub) {
  FakeEnv env = EnvWithConnectionString(ConnectionString("myns.servicebus.windows.net", ""));
  env.vars[kEventHubNamespaceEnv] = "myns.servicebus.windows.net";
  env.vars[kEventHubNameEnv] = "telemetry";
  for (const char* address : {"eventhubs:?group=g", "eventhubs:", "eventhubs://"}) {
    auto c = Build(address, kSub, env);
    if (std::string(address) != "eventhubs:?group=g") {
      EXPECT_THAT(c.status().message(), HasSubstr("group")) << address;
      continue;
    }
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    EXPECT_EQ(c->topic, "telemetry");
    EXPECT_EQ(c->brokers, "myns.servicebus.windows.net:9093");
  }
  // The variable may carry sb:// and a trailing slash, as in the portal.
  env.vars[kEventHubNamespaceEnv] = "sb://MyNs.servicebus.windows.net/";
  auto c = Build("eventhubs:", kPub, env);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->brokers, "myns.servicebus.windows.net:9093");
}

TEST(EventHubsConfigTest, ConnectionStringAloneIsEnough) {
  auto c = Build("eventhubs:", kPub, EnvWithConnectionString());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->topic, "telemetry");
  EXPECT_EQ(c->brokers, "myns.servicebus.windows.net:9093");
  // "eventhubs:HUB" names the hub without a namespace.
  auto d = Build("eventhubs:other", kPub,
                 EnvWithConnectionString(ConnectionString("myns.servicebus.windows.net", "")));
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->topic, "other");
}

TEST(EventHubsConfigTest, ShortNamespaceAndPort) {
  auto c = Build("eventhubs://myns/telemetry", kPub, EnvWithConnectionString());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->brokers, "myns.servicebus.windows.net:9093");
  auto d = Build("eventhubs://MYNS.servicebus.windows.net:19093/telemetry", kPub,
                 EnvWithConnectionString());
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->brokers, "myns.servicebus.windows.net:19093");
  auto e = Build("eventhubs://a.servicebus.windows.net,b.servicebus.windows.net/telemetry", kPub,
                 EnvWithConnectionString());
  ASSERT_FALSE(e.ok());
  EXPECT_THAT(e.status().message(), HasSubstr("one namespace"));
}

TEST(EventHubsConfigTest, ConnectionStringFileWinsOverEnvironment) {
  FakeEnv env = EnvWithConnectionString(ConnectionString("other.servicebus.windows.net"));
  env.files["/run/secrets/eh"] = ConnectionString() + "\n";
  auto c = Build(
      "eventhubs://myns.servicebus.windows.net/telemetry?connection_string_file=/run/secrets/eh",
      kPub, env);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(Prop(*c, "sasl.password"), ConnectionString());  // trimmed
  auto missing = Build("eventhubs:?connection_string_file=/nope", kPub, env);
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr("/nope"));
}

TEST(EventHubsConfigTest, HubMismatchIsAnError) {
  auto c = Build("eventhubs://myns.servicebus.windows.net/scores", kPub, EnvWithConnectionString());
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(c.status().IsInvalidArgument());
  EXPECT_THAT(c.status().message(), HasSubstr("'telemetry'"));
  EXPECT_THAT(c.status().message(), HasSubstr("'scores'"));
  EXPECT_THAT(c.status().message(), HasSubstr("eventhubs: "));
  EXPECT_THAT(c.status().message(), Not(HasSubstr(kKey)));

  FakeEnv env = EnvWithConnectionString();
  env.vars[kEventHubNameEnv] = "scores";
  auto d = Build("eventhubs:", kPub, env);
  ASSERT_FALSE(d.ok());
  EXPECT_THAT(d.status().message(), HasSubstr(kEventHubNameEnv));
}

TEST(EventHubsConfigTest, NamespaceMismatchIsAnError) {
  auto c = Build("eventhubs://otherns.servicebus.windows.net/telemetry", kPub,
                 EnvWithConnectionString());
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("myns.servicebus.windows.net"));
  EXPECT_THAT(c.status().message(), HasSubstr("otherns.servicebus.windows.net"));
  FakeEnv env = EnvWithConnectionString();
  env.vars[kEventHubNamespaceEnv] = "otherns.servicebus.windows.net";
  EXPECT_FALSE(Build("eventhubs:", kPub, env).ok());
}

TEST(EventHubsConfigTest, NoHubAnywhere) {
  auto c = Build("eventhubs:", kPub,
                 EnvWithConnectionString(ConnectionString("myns.servicebus.windows.net", "")));
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("no event hub"));
}

TEST(EventHubsConfigTest, WithoutAConnectionStringUsesAManagedIdentity) {
  FakeEnv env;
  env.vars[kEventHubNamespaceEnv] = "myns.servicebus.windows.net";
  env.vars[kEventHubNameEnv] = "telemetry";
  auto c = Build("eventhubs:?group=g", kSub, env);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->Property("sasl.mechanisms"), "OAUTHBEARER");
  EXPECT_EQ(c->Property("security.protocol"), "sasl_ssl");
  EXPECT_EQ(c->Property("sasl.username"), std::nullopt);
  EXPECT_EQ(c->Property("sasl.password"), std::nullopt);
  EXPECT_EQ(c->oauth_resource, "https://myns.servicebus.windows.net");
  EXPECT_EQ(c->brokers, "myns.servicebus.windows.net:9093");
  EXPECT_EQ(c->topic, "telemetry");

  auto d = Build("eventhubs://myns/telemetry", kPub);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->oauth_resource, "https://myns.servicebus.windows.net");

  auto e = Build("eventhubs:?group=g", kSub);  // neither namespace nor connection string
  ASSERT_FALSE(e.ok());
  EXPECT_TRUE(e.status().IsInvalidArgument());
  EXPECT_THAT(e.status().message(), HasSubstr(kEventHubNamespaceEnv));
  EXPECT_THAT(e.status().message(), HasSubstr(kEventHubConnectionStringEnv));
}

TEST(EventHubsConfigTest, KafkaSecurityOptionsAreNotAccepted) {
  for (const char* query : {"security_protocol=sasl_ssl", "sasl_username=u", "sasl_mechanism=PLAIN",
                            "sasl_password_file=/x", "cert=/c"}) {
    auto c =
        Build(std::string("eventhubs://myns/telemetry?") + query, kPub, EnvWithConnectionString());
    EXPECT_TRUE(c.status().IsInvalidArgument()) << query;
  }
  EXPECT_FALSE(Build("eventhubs://u@myns/telemetry", kPub, EnvWithConnectionString()).ok());
}

TEST(EventHubsConfigTest, ParsesConnectionStrings) {
  auto p = ParseEventHubConnectionString(
      " endpoint=sb://MyNs.servicebus.windows.net/ ; sharedaccesskeyname=n;"
      "SharedAccessKey=abc==;TransportType=Amqp;EntityPath=hub-1;",
      "test");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->namespace_host, "myns.servicebus.windows.net");
  EXPECT_EQ(p->entity_path, "hub-1");
  auto sas = ParseEventHubConnectionString(
      "Endpoint=sb://ns.servicebus.windows.net;SharedAccessSignature=SharedAccessSignature sr=x",
      "test");
  ASSERT_TRUE(sas.ok()) << sas.status().ToString();
  EXPECT_EQ(sas->namespace_host, "ns.servicebus.windows.net");
  EXPECT_EQ(sas->entity_path, "");
}

// Every way a connection string can be wrong: an error that names the source
// and never contains the key (nor the whole string).
TEST(EventHubsConfigTest, MalformedConnectionStringsNeverLeakTheKey) {
  const std::string key = kKey;
  const std::vector<std::string> bad = {
      "SharedAccessKeyName=n;SharedAccessKey=" + key,
      "Endpoint=https://ns.servicebus.windows.net/;SharedAccessKeyName=n;SharedAccessKey=" + key,
      "Endpoint=sb://;SharedAccessKeyName=n;SharedAccessKey=" + key,
      "Endpoint=sb://ns.servicebus.windows.net/x/y;SharedAccessKeyName=n;SharedAccessKey=" + key,
      "Endpoint=sb://ns.servicebus.windows.net:5671/;SharedAccessKeyName=n;SharedAccessKey=" + key,
      "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKey=" + key,
      "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=n;SharedAccessKey=",
      "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=n;" + key,
      "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=n;=" + key,
      "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=n;SharedAccessKey=" + key +
          ";EntityPath=" + key,
      key,
  };
  for (const std::string& cs : bad) {
    auto parsed = ParseEventHubConnectionString(cs, kEventHubConnectionStringEnv);
    ASSERT_FALSE(parsed.ok()) << "accepted connection string #" << (&cs - bad.data());
    EXPECT_THAT(parsed.status().message(), HasSubstr(kEventHubConnectionStringEnv));
    EXPECT_THAT(parsed.status().message(), Not(HasSubstr(key)));
    EXPECT_THAT(parsed.status().message(), Not(HasSubstr("Zm9vYmFy")));

    auto c = Build("eventhubs://ns.servicebus.windows.net/telemetry?group=g", kSub,
                   EnvWithConnectionString(cs));
    ASSERT_FALSE(c.ok());
    EXPECT_THAT(c.status().message(), HasSubstr("eventhubs: "));
    EXPECT_THAT(c.status().message(), Not(HasSubstr(key)));
    EXPECT_THAT(c.status().message(), Not(HasSubstr("Zm9vYmFy")));
  }
}

// Every error produced with a valid secret in the environment: the secret
// never shows.
TEST(EventHubsConfigTest, ErrorsNeverContainTheConnectionString) {
  FakeEnv env = EnvWithConnectionString();
  env.files["/cs"] = ConnectionString();
  const std::vector<std::string> addresses = {
      "eventhubs://myns/telemetry?grup=g",
      "eventhubs://myns/scores",
      "eventhubs://otherns/telemetry",
      "eventhubs://myns/telemetry?compression=brotli",
      "eventhubs://myns/bad%2Fname",
      "eventhubs://myns/telemetry?connection_string_file=/cs&start=never",
      "eventhubs://myns/telemetry?linger_ms=-5",
      "eventhubs://myns:0/telemetry",
  };
  for (const std::string& address : addresses) {
    for (ClientRole role : {kPub, kSub}) {
      auto c = Build(address, role, env);
      ASSERT_FALSE(c.ok()) << address;
      EXPECT_THAT(c.status().ToString(), Not(HasSubstr(kKey))) << address;
      EXPECT_THAT(c.status().ToString(), Not(HasSubstr("SharedAccessKey="))) << address;
    }
  }
}

}  // namespace
}  // namespace mh::transport::kafka
