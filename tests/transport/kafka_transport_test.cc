// Unit tests of the Kafka transport that need no broker: address errors
// through the factories, librdkafka accepting every property we generate,
// and failures against a port nobody listens on.
#include "transport/kafka/kafka_transport.h"

#include <atomic>
#include <chrono>
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <stdlib.h>

#include "core/uri.h"
#include "identity/token_provider.h"
#include "testing/process.h"
#include "transport/kafka/kafka_config.h"

namespace mh::transport::kafka {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

Uri MustParse(const std::string& text) {
  auto uri = ParseUri(text);
  EXPECT_TRUE(uri.ok()) << text;
  return *uri;
}

// A loopback address where nothing listens (connection refused at once).
std::string DeadAddress(const std::string& query) {
  return "kafka://127.0.0.1:" + std::to_string(mh::testing::FreeTcpPort()) + "/telemetry" + query;
}

TEST(KafkaTransportTest, FactoriesReportAddressErrors) {
  auto p = NewKafkaPublisher(MustParse("kafka://h:1/t?lingerms=5"));
  ASSERT_FALSE(p.ok());
  EXPECT_TRUE(p.status().IsInvalidArgument());
  EXPECT_THAT(p.status().message(), HasSubstr("'lingerms'"));

  auto s = NewKafkaSubscriber(MustParse("kafka://h:1/t"));
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.status().IsInvalidArgument());
  EXPECT_THAT(s.status().message(), HasSubstr("group"));

  EXPECT_FALSE(NewKafkaPublisher(MustParse("kafka://h:1")).ok());
  EXPECT_FALSE(NewKafkaPublisher(MustParse("mqtt://h:1/t")).ok());
}

// A token source that answers from memory and counts (no identity endpoint).
class CountingTokens final : public identity::TokenProvider {
 public:
  Result<identity::AccessToken> GetToken(const std::string& resource) override {
    ++calls;
    last_resource = resource;
    if (fail) return Status::Unavailable("identity endpoint down (test)");
    return identity::AccessToken{kToken, static_cast<std::int64_t>(std::time(nullptr)) + 3600};
  }
  static constexpr char kToken[] = "eyJ0ZXN0IjoxfQ.eyJhdWQiOiJodHRwczovL2V2ZW50aHVicyJ9.c2ln";
  std::atomic<int> calls{0};
  std::string last_resource;
  bool fail = false;
};

// eventhubs: with the prototype's two variables and no connection string,
// pointed at a dead loopback port over sasl_plaintext (nothing leaves the
// machine): the subscriber's poll runs the token refresh callback.
KafkaClientConfig ManagedIdentityConfig(std::shared_ptr<identity::TokenProvider> tokens) {
  Environment env;
  env.get_env = [](const std::string& name) -> std::optional<std::string> {
    if (name == kEventHubNamespaceEnv) return "myns.servicebus.windows.net";
    if (name == kEventHubNameEnv) return "telemetry";
    return std::nullopt;
  };
  env.read_file = [](const std::string&) -> Result<std::string> {
    return Status::NotFound("no files");
  };
  auto config = BuildKafkaConfig(MustParse("eventhubs:?group=g"), ClientRole::kSubscriber, env);
  EXPECT_TRUE(config.ok()) << config.status().ToString();
  for (auto& [name, value] : config->properties) {
    if (name == "bootstrap.servers") {
      value = "127.0.0.1:" + std::to_string(mh::testing::FreeTcpPort());
    }
    if (name == "security.protocol") value = "sasl_plaintext";
  }
  config->tokens = std::move(tokens);
  return std::move(*config);
}

TEST(KafkaTransportTest, EventHubsManagedIdentityTakesTheTokenInTheRefreshCallback) {
  auto tokens = std::make_shared<CountingTokens>();
  KafkaClientConfig config = ManagedIdentityConfig(tokens);
  EXPECT_EQ(config.Property("sasl.mechanisms"), "OAUTHBEARER");
  EXPECT_EQ(config.oauth_resource, "https://myns.servicebus.windows.net");
  auto s = NewKafkaSubscriber(std::move(config));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  for (int i = 0; i < 50 && tokens->calls.load() == 0; ++i) {
    (void)(*s)->Poll(10, std::chrono::milliseconds(100));
  }
  EXPECT_GE(tokens->calls.load(), 1);
  EXPECT_EQ(tokens->last_resource, "https://myns.servicebus.windows.net");
  EXPECT_TRUE((*s)->Close().ok());
}

TEST(KafkaTransportTest, EventHubsTokenFailureIsReportedWithoutSecrets) {
  auto tokens = std::make_shared<CountingTokens>();
  tokens->fail = true;
  auto s = NewKafkaSubscriber(ManagedIdentityConfig(tokens));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  for (int i = 0; i < 50 && tokens->calls.load() == 0; ++i) {
    (void)(*s)->Poll(10, std::chrono::milliseconds(100));
  }
  EXPECT_GE(tokens->calls.load(), 1);
  EXPECT_TRUE((*s)->Close().ok());
}

TEST(KafkaTransportTest, EventHubsClientCanBeCreatedFromTheEnvironment) {
  const std::string key = "c2VjcmV0LWtleS1mb3ItdGVzdHM=";
  ::setenv(kEventHubConnectionStringEnv,
           ("Endpoint=sb://myns.servicebus.windows.net/;SharedAccessKeyName=n;SharedAccessKey=" +
            key + ";EntityPath=telemetry")
               .c_str(),
           1);
  // Creating the clients resolves nothing yet: no network needed.
  auto p = NewKafkaPublisher(MustParse("eventhubs:"));
  auto s = NewKafkaSubscriber(MustParse("eventhubs://myns/telemetry?group=g"));
  ::unsetenv(kEventHubConnectionStringEnv);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_TRUE((*s)->Close().ok());
}

// librdkafka itself accepts every property name and value we generate.
TEST(KafkaTransportTest, LibrdkafkaAcceptsGeneratedProperties) {
  Environment env;
  env.get_env = [](const std::string& name) -> std::optional<std::string> {
    if (name == kSaslPasswordEnv) return "pw";
    if (name == kSslKeyPasswordEnv) return "kpw";
    if (name == kEventHubConnectionStringEnv) {
      return "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=n;SharedAccessKey=k;"
             "EntityPath=hub";
    }
    return std::nullopt;
  };
  env.read_file = [](const std::string&) -> Result<std::string> { return std::string("x"); };
  const std::vector<std::string> addresses = {
      "kafka://h:1/t?group=g",
      "kafka://h:1/t?group=g&start=latest&session_timeout_ms=3000&compression=zstd&linger_ms=0&"
      "timeout_ms=2000&client_id=c&idempotence=false",
      "kafka://h:1/t?group=g&security_protocol=sasl_ssl&sasl_mechanism=SCRAM-SHA-256&"
      "sasl_username=u&ca=/ca&cert=/c&key=/k",
      "kafka://u@h:1/t?group=g&security_protocol=sasl_plaintext&sasl_mechanism=SCRAM-SHA-512&"
      "sasl_password_file=/pw",
      "kafka://h:1/t?group=g&compression=snappy",
      "kafka://h:1/t?group=g&compression=gzip",
      "kafka://h:1/t?group=g&compression=none",
      "eventhubs://ns/hub?group=g",
      "eventhubs:?group=g&compression=gzip&session_timeout_ms=30000",
  };
  for (const std::string& address : addresses) {
    for (ClientRole role : {ClientRole::kPublisher, ClientRole::kSubscriber}) {
      auto config = BuildKafkaConfig(MustParse(address), role, env);
      ASSERT_TRUE(config.ok()) << address << ": " << config.status().ToString();
      rd_kafka_conf_t* conf = rd_kafka_conf_new();
      for (const auto& [name, value] : config->properties) {
        char errstr[512];
        EXPECT_EQ(rd_kafka_conf_set(conf, name.c_str(), value.c_str(), errstr, sizeof errstr),
                  RD_KAFKA_CONF_OK)
            << address << ": " << name << "=" << value << ": " << errstr;
      }
      rd_kafka_conf_destroy(conf);
    }
  }
}

TEST(KafkaTransportTest, PublishWithoutBrokerIsUnavailableInBoundedTime) {
  auto p = NewKafkaPublisher(MustParse(DeadAddress("?timeout_ms=1000")));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  const std::vector<OutgoingMessage> batch = {{"k1", "a"}, {"k2", "b"}, {"", "c"}};
  const auto start = std::chrono::steady_clock::now();
  const Status s = (*p)->Publish(batch);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(s.IsUnavailable()) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr("'telemetry'"));
  EXPECT_THAT(s.message(), HasSubstr("3 of 3"));
  EXPECT_LT(elapsed, std::chrono::seconds(10));
  EXPECT_GE(elapsed, std::chrono::milliseconds(900));
  EXPECT_TRUE((*p)->Publish({}).ok());  // nothing to do
  EXPECT_TRUE((*p)->Close().ok());
  EXPECT_TRUE((*p)->Close().ok());  // idempotent
  EXPECT_FALSE((*p)->Publish(batch).ok());
}

TEST(KafkaTransportTest, OversizedMessageIsInvalidArgument) {
  auto p = NewKafkaPublisher(MustParse(DeadAddress("?timeout_ms=1000")));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  // librdkafka's message.max.bytes defaults to 1,000,000.
  const std::vector<OutgoingMessage> batch = {{"k", std::string(2'000'000, 'x')}};
  const Status s = (*p)->Publish(batch);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr("'telemetry'"));
  EXPECT_THAT(s.message(), HasSubstr("larger"));
}

TEST(KafkaTransportTest, SubscriberWithoutBrokerStaysUsable) {
  auto s = NewKafkaSubscriber(MustParse(DeadAddress("?group=g")));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  // Nothing can be reached: empty polls first, then Unavailable once
  // librdkafka has found every broker down. Never a message, never a hang.
  bool unavailable = false;
  const auto start = std::chrono::steady_clock::now();
  while (!unavailable && std::chrono::steady_clock::now() - start < std::chrono::seconds(10)) {
    auto r = (*s)->Poll(100, std::chrono::milliseconds(200));
    if (r.ok()) {
      EXPECT_TRUE(r->empty());
    } else {
      EXPECT_TRUE(r.status().IsUnavailable()) << r.status().ToString();
      EXPECT_THAT(r.status().message(), HasSubstr("telemetry"));
      unavailable = true;
    }
  }
  EXPECT_TRUE(unavailable);
  EXPECT_TRUE((*s)->Commit().ok());  // nothing polled: nothing to commit
  EXPECT_TRUE((*s)->Close().ok());
  EXPECT_FALSE((*s)->Poll(1, std::chrono::milliseconds(1)).ok());
}

}  // namespace
}  // namespace mh::transport::kafka
