#include "core/uri.h"

#include <gtest/gtest.h>

namespace mh {
namespace {

TEST(Uri, KafkaWithHostListTopicAndQuery) {
  auto u = ParseUri("kafka://h1:9092,h2:9093/tele%2Fmetry?group=scorers&start=latest");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u.value().scheme, "kafka");
  EXPECT_EQ(u.value().authority, "h1:9092,h2:9093");
  EXPECT_EQ(u.value().path, "tele/metry");
  EXPECT_EQ(u.value().Param("group"), "scorers");
  EXPECT_EQ(u.value().Param("start"), "latest");
  EXPECT_EQ(u.value().Param("absent", "dflt"), "dflt");
  auto hosts = u.value().HostPorts(9092);
  ASSERT_TRUE(hosts.ok());
  ASSERT_EQ(hosts.value().size(), 2u);
  EXPECT_EQ(hosts.value()[1].first, "h2");
  EXPECT_EQ(hosts.value()[1].second, 9093);
  EXPECT_TRUE(u.value().CheckParams({"group", "start"}).ok());
  Status s = u.value().CheckParams({"group"});
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("'start'"), std::string::npos) << s.message();
}

TEST(Uri, PathOnlySchemesAndDash) {
  auto sq = ParseUri("sqlite:data/scores.db");
  ASSERT_TRUE(sq.ok());
  EXPECT_EQ(sq.value().scheme, "sqlite");
  EXPECT_EQ(sq.value().path, "data/scores.db");
  EXPECT_TRUE(sq.value().authority.empty());
  auto dash = ParseUri("-");
  ASSERT_TRUE(dash.ok());
  EXPECT_EQ(dash.value().scheme, "-");
  auto abs = ParseUri("jsonl:/tmp/a b.jsonl");
  ASSERT_TRUE(abs.ok());
  EXPECT_EQ(abs.value().path, "/tmp/a b.jsonl");
}

TEST(Uri, UserWithoutPasswordAndDefaultPort) {
  auto u = ParseUri("MQTTS://sensor@broker.local/plant/+/vib?qos=1");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u.value().scheme, "mqtts");
  EXPECT_EQ(u.value().user, "sensor");
  EXPECT_EQ(u.value().path, "plant/+/vib");
  EXPECT_EQ(u.value().HostPorts(8883).value()[0].second, 8883);
}

TEST(Uri, PasswordInAddressIsRefusedWithoutEchoingIt) {
  auto u = ParseUri("mqtt://user:s3cret@host:1883/t");
  ASSERT_FALSE(u.ok());
  EXPECT_TRUE(u.status().IsInvalidArgument());
  EXPECT_EQ(u.status().message().find("s3cret"), std::string::npos);
}

TEST(Uri, Errors) {
  EXPECT_FALSE(ParseUri("scores.db").ok());
  EXPECT_FALSE(ParseUri(":x").ok());
  EXPECT_FALSE(ParseUri("kafka://h/t?x=%zz").ok());
  EXPECT_FALSE(ParseUri("kafka://h/t?x=%4").ok());
  EXPECT_FALSE(ParseUri("ka fka://h/t").ok());
  auto bad_port = ParseUri("kafka://h:99999/t");
  ASSERT_TRUE(bad_port.ok());
  EXPECT_FALSE(bad_port.value().HostPorts(9092).ok());
  auto empty_host = ParseUri("kafka://:9092/t");
  ASSERT_TRUE(empty_host.ok());
  EXPECT_FALSE(empty_host.value().HostPorts(9092).ok());
  EXPECT_FALSE(ParseUri("influxdb:///db").value().HostPorts(8086).ok());
}

TEST(Uri, PercentDecode) {
  EXPECT_EQ(PercentDecode("a%20b%2c").value(), "a b,");
  EXPECT_FALSE(PercentDecode("%").ok());
  EXPECT_FALSE(PercentDecode("%g0").ok());
}

}  // namespace
}  // namespace mh
