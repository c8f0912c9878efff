#include "pipeline/event_decoder.h"

#include <gtest/gtest.h>

namespace mh::pipeline {
namespace {

TEST(EventDecoder, PrototypeFeatureEvent) {
  EventDecoder d;
  ASSERT_TRUE(d.Decode(R"({"sensor_id":"sim-1","timestamp":1761519890.5,"feature_1":0.12,)"
                       R"("feature_2":-3,"note":"x","flag":null})")
                  .ok());
  const DecodedEvent& e = d.event();
  EXPECT_EQ(e.kind, EventKind::kFeatures);
  EXPECT_EQ(e.sensor_id, "sim-1");
  ASSERT_TRUE(e.has_timestamp);
  EXPECT_EQ(e.timestamp_ns, 1761519890500000000);
  ASSERT_EQ(e.feature_keys.size(), 2u);
  EXPECT_EQ(*e.FindFeature("feature_1"), 0.12);
  EXPECT_EQ(*e.FindFeature("feature_2"), -3.0);
  EXPECT_EQ(e.FindFeature("note"), nullptr);
  EXPECT_STREQ(e.NonNumericType("note"), "string");
  EXPECT_STREQ(e.NonNumericType("flag"), "null");
}

TEST(EventDecoder, WaveformEventWithDeviceIdAndNoTimestamp) {
  EventDecoder d;
  ASSERT_TRUE(
      d.Decode(R"({"device_id":"m1","fs":6400,"ax":[1,2.5,-3],"ay":[0,0,0],"az":[1e-3,2,3]})")
          .ok());
  const DecodedEvent& e = d.event();
  EXPECT_EQ(e.kind, EventKind::kWaveform);
  EXPECT_EQ(e.sensor_id, "m1");
  EXPECT_FALSE(e.has_timestamp);
  EXPECT_EQ(e.fs_hz, 6400);
  ASSERT_EQ(e.channel_names.size(), 3u);
  EXPECT_EQ(e.channel_names[2], "az");
  EXPECT_EQ(e.channels[0], (std::vector<double>{1, 2.5, -3}));
  EXPECT_EQ(e.channels[2][0], 1e-3);
  // A second, smaller event reuses the decoder: no stale channels.
  ASSERT_TRUE(
      d.Decode(R"({"id":7,"fs":100,"x":[1,2,3,4],"timestamp":"2025-10-26T01:00:00Z"})").ok());
  EXPECT_EQ(d.event().sensor_id, "7");
  ASSERT_EQ(d.event().channel_names.size(), 1u);
  EXPECT_EQ(d.event().channels[0].size(), 4u);
  EXPECT_EQ(d.event().timestamp_ns, 1761440400000000000);
}

TEST(EventDecoder, SensorIdPrecedence) {
  EventDecoder d;
  ASSERT_TRUE(d.Decode(R"({"id":"c","device_id":"b","sensor_id":"a","v":1})").ok());
  EXPECT_EQ(d.event().sensor_id, "a");
  ASSERT_TRUE(d.Decode(R"({"id":"c","device_id":"b","v":1})").ok());
  EXPECT_EQ(d.event().sensor_id, "b");
}

TEST(EventDecoder, TimestampsRoundToTheMicrosecondDeterministically) {
  EXPECT_EQ(EpochSecondsToNs(1.5).value(), 1500000000);
  EXPECT_EQ(EpochSecondsToNs(1761519890.123456).value(), 1761519890123456000);
  EXPECT_EQ(EpochSecondsToNs(-1.25).value(), -1250000000);
  EXPECT_FALSE(EpochSecondsToNs(1e300).ok());
}

void ExpectError(const std::string& json, const std::string& fragment) {
  EventDecoder d;
  Status s = d.Decode(json);
  ASSERT_FALSE(s.ok()) << json;
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find(fragment), std::string::npos) << s.message();
}

TEST(EventDecoder, BadEventsSayWhy) {
  ExpectError("", "not valid JSON");
  ExpectError("{\"sensor_id\":\"a\",", "not valid JSON");
  ExpectError("[1,2]", "not a JSON object");
  ExpectError(R"({"feature_1":1})", "no sensor id");
  ExpectError(R"({"sensor_id":"","feature_1":1})", "is empty");
  ExpectError(R"({"sensor_id":true,"feature_1":1})", "'sensor_id' is bool");
  ExpectError(R"({"sensor_id":"a","timestamp":"yesterday"})", "member 'timestamp'");
  ExpectError(R"({"sensor_id":"a","timestamp":[1]})", "member 'timestamp' is array");
  ExpectError(R"({"sensor_id":"a","fs":0,"ax":[1]})", "'fs' must be > 0");
  ExpectError(R"({"sensor_id":"a","fs":"x","ax":[1]})", "'fs' is not a number");
  ExpectError(R"({"sensor_id":"a","fs":100})", "without a channel");
  ExpectError(R"({"sensor_id":"a","fs":100,"ax":[]})", "empty channel");
  ExpectError(R"({"sensor_id":"a","fs":100,"ax":[1,2],"ay":[1]})", "'ay': 1 samples");
  ExpectError(R"({"sensor_id":"a","fs":100,"ax":[1,"2"]})", "sample 1 is string");
  ExpectError(R"({"sensor_id":"a","x":1e999})", "not valid JSON");
}

}  // namespace
}  // namespace mh::pipeline
