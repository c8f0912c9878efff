#include "replay/event_json.h"

#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace mh::replay {
namespace {

TEST(EventJson, FeatureEventShapeAndRoundTrip) {
  const std::vector<std::string> keys = {"feature_1", "feature_2", "feature_3"};
  const std::vector<double> values = {0.0797777769880162, -3e-300, 1e22};
  std::string out;
  AppendFeatureEventJson({"sim-1", 1761523205.25, keys, values}, &out);
  EXPECT_EQ(out.find('\n'), std::string::npos);
  const auto j = nlohmann::json::parse(out);
  ASSERT_TRUE(j.is_object());
  ASSERT_EQ(j.size(), 5u);
  EXPECT_EQ(j["sensor_id"], "sim-1");
  EXPECT_EQ(j["timestamp"].get<double>(), 1761523205.25);
  for (std::size_t i = 0; i < keys.size(); ++i) {
    EXPECT_EQ(j[keys[i]].get<double>(), values[i]) << keys[i];  // exact round trip
  }
  // Key order is the given order: sensor_id, timestamp, features.
  EXPECT_LT(out.find("\"sensor_id\""), out.find("\"timestamp\""));
  EXPECT_LT(out.find("\"feature_1\""), out.find("\"feature_2\""));
}

TEST(EventJson, StringsAreEscaped) {
  const std::string id = std::string("a\"b\\c\n\t\x01") + "\xc3\xa5";
  const std::vector<std::string> keys = {"k\"ey"};
  const std::vector<double> values = {1};
  std::string out;
  AppendFeatureEventJson({id, 0, keys, values}, &out);
  const auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["sensor_id"].get<std::string>(), id);
  EXPECT_EQ(j["k\"ey"].get<double>(), 1.0);
}

TEST(EventJson, PreEncodedKeysGiveTheSameText) {
  const std::vector<std::string> keys = {"feature_1", "k\"e\\y\n", "\xc3\xa5", ""};
  const std::vector<double> values = {0.1, -2.5e-7, 123456789.0, 0};
  const std::vector<std::string> encoded = EncodeFeatureKeys(keys);
  ASSERT_EQ(encoded.size(), keys.size());
  EXPECT_EQ(encoded[0], ",\"feature_1\":");
  std::string plain, fast;
  AppendFeatureEventJson({"s\"1", 1761523205.5, keys, values}, &plain);
  AppendFeatureEventJson({"s\"1", 1761523205.5, keys, values}, encoded, &fast);
  EXPECT_EQ(fast, plain);
  EXPECT_EQ(nlohmann::json::parse(fast)["k\"e\\y\n"].get<double>(), -2.5e-7);
}

TEST(EventJson, WaveformEvent) {
  const std::vector<std::string> channels = {"ax", "ay"};
  const std::vector<std::vector<double>> samples = {{0.5, -1.25, 3}, {1, 2, 3}};
  std::string out;
  AppendWaveformEventJson({"m1", 12.5, 25600, channels, samples}, &out);
  const auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["sensor_id"], "m1");
  EXPECT_EQ(j["fs"].get<double>(), 25600.0);
  EXPECT_EQ(j["ax"].get<std::vector<double>>(), samples[0]);
  EXPECT_EQ(j["ay"].get<std::vector<double>>(), samples[1]);
}

TEST(EventJsonDeathTest, NonFiniteIsABug) {
  std::string out;
  EXPECT_DEATH(AppendJsonNumber(std::numeric_limits<double>::quiet_NaN(), &out), "");
}

}  // namespace
}  // namespace mh::replay
