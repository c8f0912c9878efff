#include "pipeline/event_decoder.h"

#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/strings.h"

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

// Decode parses in place when the caller says bytes past the payload are
// readable (a received message's spare capacity); what those bytes hold
// must not change the outcome, even when they would complete a truncated
// event. Same status and same values as the copying path.
TEST(EventDecoder, ParsingInPlaceIgnoresWhatFollowsThePayload) {
  const std::vector<std::string> payloads = {
      R"({"sensor_id":"sim-1","timestamp":1761519890.5,"feature_1":0.12,"note":"x"})",
      R"({"device_id":"m1","fs":6400,"ax":[1,2.5,-3],"ay":[0,0,0],"az":[1e-3,2,3]})",
      R"({"sensor_id":"a","fs":100,"ax":[1,2)",
      R"({"sensor_id":"a","fs":100,"ax":[1,2])",
      R"({"sensor_id":"a","fs":100,"ax":[1,"2"]})",
      R"({"sensor_id":"a","x":1.5)",
      R"({"sensor_id":"a","x":"unterminated)",
      R"({"sensor_id":"a","x":12)",
      "",
      "{",
  };
  const std::string junk[] = {std::string(80, ' '), "3]}" + std::string(77, '0'),
                              "\"}" + std::string(78, '"'), std::string(80, '9'),
                              std::string(80, '\0')};
  for (const std::string& p : payloads) {
    EventDecoder copying;
    const Status want = copying.Decode(p);
    for (const std::string& after : junk) {
      std::string buffer = p + after;
      EventDecoder in_place;
      const Status got = in_place.Decode(std::string_view(buffer.data(), p.size()), buffer.size());
      ASSERT_EQ(got.ToString(), want.ToString()) << p;
      if (!want.ok()) continue;
      EXPECT_EQ(in_place.event().sensor_id, copying.event().sensor_id);
      EXPECT_EQ(in_place.event().feature_values, copying.event().feature_values);
      ASSERT_EQ(in_place.event().channel_names.size(), copying.event().channel_names.size());
      for (std::size_t c = 0; c < copying.event().channel_names.size(); ++c) {
        EXPECT_EQ(in_place.event().channels[c], copying.event().channels[c]) << p;
      }
    }
  }
}

}  // namespace
}  // namespace mh::pipeline

namespace mh::pipeline {
namespace {

// The bits of a double, so that -0.0 and +0.0 differ.
std::uint64_t Bits(double v) { return std::bit_cast<std::uint64_t>(v); }

// Decoded samples and features are the correctly rounded doubles of their
// text, as an independent parser (std::from_chars) gives them; an integer
// token (no fraction, no exponent) is an int64/uint64 converted to double,
// so "-0" is +0.0 while "-0.0" is -0.0.
TEST(EventDecoder, NumbersAreExactlyTheDoublesOfTheirText) {
  const std::vector<std::string> texts = {
      "0.028412411486191266",
      "-0.2548722817932998",
      "0.1",
      "0.30000000000000004",
      "-0.0",
      "-0e0",
      "1e5",
      "1E5",
      "1e+5",
      "1e-5",
      "2.5E-3",
      "1.7976931348623157e308",   // largest double
      "2.2250738585072014e-308",  // smallest normal
      "2.2250738585072011e-308",  // largest subnormal
      "4.9e-324",
      "5e-324",
      "1e-320",                                                   // subnormals
      "9007199254740993.0",                                       // 2^53 + 1: ties to even
      "1.00000000000000011102230246251565404236316680908203125",  // exact halfway
      "1.0000000000000001110223024625156540423631668090820312500001",
      "3.141592653589793238462643383279",
      "9.999999999999999e22",
      "1e23",
      "0.0000000000000000000000000000001",
      "123456789012345678.5"};
  const std::vector<std::string> integers = {"0",
                                             "-1",
                                             "9007199254740993",  // 2^53 + 1
                                             "9223372036854775807",
                                             "-9223372036854775808",
                                             "9223372036854775808",  // uint64
                                             "18446744073709551615"};
  std::string json = R"({"sensor_id":"a","fs":100,"ax":[)";
  std::string features;
  std::vector<std::string> all = texts;
  all.insert(all.end(), integers.begin(), integers.end());
  for (std::size_t i = 0; i < all.size(); ++i) {
    json += (i > 0 ? "," : "") + all[i];
    features += ",\"f" + std::to_string(i) + "\":" + all[i];
  }
  json += "]" + features + "}";
  EventDecoder d;
  ASSERT_TRUE(d.Decode(json).ok()) << json;
  const DecodedEvent& e = d.event();
  ASSERT_EQ(e.channels[0].size(), all.size());
  ASSERT_EQ(e.feature_values.size(), all.size());
  for (std::size_t i = 0; i < all.size(); ++i) {
    double want = 0;
    const std::string& t = all[i];
    const auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), want);
    ASSERT_EQ(ec, std::errc()) << t;
    ASSERT_EQ(ptr, t.data() + t.size()) << t;
    EXPECT_EQ(Bits(e.channels[0][i]), Bits(want)) << "sample " << t;
    EXPECT_EQ(Bits(e.feature_values[i]), Bits(want)) << "feature " << t;
    EXPECT_EQ(Bits(std::strtod(t.c_str(), nullptr)), Bits(want)) << t;
  }
  // The integer token "-0" is the int64 0: +0.0 (unlike "-0.0").
  ASSERT_TRUE(d.Decode(R"({"sensor_id":"a","fs":100,"ax":[-0,-0.0,0]})").ok());
  EXPECT_EQ(Bits(d.event().channels[0][0]), Bits(0.0));
  EXPECT_EQ(Bits(d.event().channels[0][1]), Bits(-0.0));
  EXPECT_EQ(Bits(d.event().channels[0][2]), Bits(0.0));
  // Underflow to zero is zero; overflow and integers beyond uint64 are not
  // valid JSON numbers for the parser.
  ASSERT_TRUE(d.Decode(R"({"sensor_id":"a","fs":100,"ax":[1e-400,-1e-400]})").ok());
  EXPECT_EQ(Bits(d.event().channels[0][0]), Bits(0.0));
  ExpectError(R"({"sensor_id":"a","fs":100,"ax":[1.8e308]})", "not valid JSON");
  ExpectError(R"({"sensor_id":"a","fs":100,"ax":[18446744073709551616]})", "not valid JSON");
  ExpectError(R"({"sensor_id":"a","fs":100,"ax":[-9223372036854775809]})", "not valid JSON");
}

// Shortest round-trip text (what replay and the bench write, std::to_chars)
// of many doubles decodes to the same doubles.
TEST(EventDecoder, ShortestRoundTripTextDecodesToTheSameDoubles) {
  std::uint64_t state = 12345;
  std::vector<double> values;
  while (values.size() < 20000) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    const double v = std::bit_cast<double>(state);
    // Every finite double: AppendJsonNumber writes large ones in exponent
    // form, where plain std::to_chars would give an integer token of 20+
    // digits ("123456789012345683968") that the JSON parser rejects.
    if (std::isfinite(v)) values.push_back(v);
    values.push_back(static_cast<double>(state >> 11) * 0x1p-53 - 0.5);
  }
  std::string json = R"({"sensor_id":"a","fs":100,"ax":[)";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) json += ',';
    AppendJsonNumber(values[i], &json);
  }
  json += "]}";
  EventDecoder d;
  ASSERT_TRUE(d.Decode(json).ok());
  ASSERT_EQ(d.event().channels[0].size(), values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    ASSERT_EQ(Bits(d.event().channels[0][i]), Bits(values[i])) << i;
  }
}

}  // namespace
}  // namespace mh::pipeline
