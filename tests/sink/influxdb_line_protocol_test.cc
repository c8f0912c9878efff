// Unit tests of the InfluxDB line protocol encoder and the record schema.
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sink/influxdb/line_protocol.h"

namespace mh::sink::influxdb {
namespace {

using ::testing::HasSubstr;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

std::string Measurement(std::string_view name) {
  std::string out;
  EXPECT_TRUE(AppendMeasurement(name, &out)) << name;
  return out;
}
std::string Key(std::string_view text) {
  std::string out;
  EXPECT_TRUE(AppendKeyOrTagValue(text, &out)) << text;
  return out;
}
std::string StringValue(std::string_view text) {
  std::string out;
  EXPECT_TRUE(AppendStringFieldValue(text, &out)) << text;
  return out;
}
std::string Float(double value) {
  std::string out;
  AppendFloat(value, &out);
  return out;
}

TEST(LineProtocolEscapeTest, MeasurementEscapesCommaAndSpaceOnly) {
  EXPECT_EQ(Measurement("anomaly_score"), "anomaly_score");
  EXPECT_EQ(Measurement("my meas,x=y"), "my\\ meas\\,x=y");
  EXPECT_EQ(Measurement("say \"hi\""), "say\\ \"hi\"");
}

TEST(LineProtocolEscapeTest, KeysAndTagValuesEscapeCommaEqualsSpace) {
  EXPECT_EQ(Key("m1"), "m1");
  EXPECT_EQ(Key("a,b=c d"), "a\\,b\\=c\\ d");
  EXPECT_EQ(Key("\"quoted\""), "\"quoted\"");  // quotes are plain characters here
  EXPECT_EQ(Key("tab\there"), "tab\there");
  EXPECT_EQ(Key("π-sensor"), "π-sensor");  // UTF-8 passes through
}

TEST(LineProtocolEscapeTest, BackslashesInNames) {
  // Literal when an ordinary character follows (portable to every parser).
  EXPECT_EQ(Key("plant\\m1"), "plant\\m1");
  // Doubled at the end, before another backslash and before an escaped
  // character, so that "\\" reads back as one backslash.
  EXPECT_EQ(Key("end\\"), "end\\\\");
  EXPECT_EQ(Key("a\\\\b"), "a\\\\\\b");
  EXPECT_EQ(Key("a\\,b"), "a\\\\\\,b");
  EXPECT_EQ(Key("a\\ b"), "a\\\\\\ b");
  EXPECT_EQ(Key("a\\=b"), "a\\\\\\=b");
  EXPECT_EQ(Measurement("a\\=b"), "a\\=b");  // '=' is not special in a measurement
  EXPECT_EQ(Measurement("a\\,b"), "a\\\\\\,b");
}

TEST(LineProtocolEscapeTest, StringFieldValuesQuoteAndEscape) {
  EXPECT_EQ(StringValue("running"), "\"running\"");
  EXPECT_EQ(StringValue(""), "\"\"");
  EXPECT_EQ(StringValue("say \"hi\", a=b"), "\"say \\\"hi\\\", a=b\"");
  EXPECT_EQ(StringValue("C:\\dir\\"), "\"C:\\\\dir\\\\\"");
}

TEST(LineProtocolEscapeTest, NewlinesAndEmptyTextAreRefused) {
  std::string out = "kept";
  EXPECT_FALSE(AppendMeasurement("a\nb", &out));
  EXPECT_FALSE(AppendKeyOrTagValue("a\rb", &out));
  EXPECT_FALSE(AppendKeyOrTagValue("", &out));
  EXPECT_FALSE(AppendMeasurement("", &out));
  EXPECT_FALSE(AppendStringFieldValue("line1\nline2", &out));
  EXPECT_EQ(out, "kept");
}

TEST(LineProtocolFloatTest, ShortestRoundTripText) {
  EXPECT_EQ(Float(0.1), "0.1");
  EXPECT_EQ(Float(3.0), "3");
  EXPECT_EQ(Float(-0.0), "-0");
  EXPECT_EQ(Float(1e-5), "1e-05");
  EXPECT_EQ(Float(-1.5e-5), "-1.5e-05");
  EXPECT_EQ(Float(123456.75), "123456.75");
  EXPECT_EQ(Float(std::numeric_limits<double>::max()), "1.7976931348623157e+308");
  EXPECT_EQ(Float(std::numeric_limits<double>::denorm_min()), "5e-324");
  EXPECT_EQ(Float(0.30000000000000004), "0.30000000000000004");
}

TEST(LineProtocolFloatTest, EveryValueReadsBackExactly) {
  std::mt19937_64 random(42);
  std::uniform_int_distribution<std::uint64_t> bits;
  for (int i = 0; i < 100000; ++i) {
    const std::uint64_t b = bits(random);
    double value;
    std::memcpy(&value, &b, sizeof value);
    if (!std::isfinite(value)) continue;
    const std::string text = Float(value);
    ASSERT_EQ(std::strtod(text.c_str(), nullptr), value) << text;
    ASSERT_EQ(text.find_first_not_of("0123456789.e+-"), std::string::npos) << text;
  }
}

TEST(LineEncoderTest, AllValueTypes) {
  std::string out;
  LineEncoder encoder(&out);
  encoder.Begin("m");
  encoder.AddTag("host", "a b");
  encoder.AddFloat("f", 1.5);
  encoder.AddInt("i", -5);
  encoder.AddInt("max", std::numeric_limits<std::int64_t>::max());
  encoder.AddInt("min", std::numeric_limits<std::int64_t>::min());
  encoder.AddBool("yes", true);
  encoder.AddBool("no", false);
  encoder.AddString("s", "x\"y");
  Result<bool> written = encoder.End(1700000000123456789);
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  EXPECT_TRUE(*written);
  EXPECT_EQ(out,
            "m,host=a\\ b f=1.5,i=-5i,max=9223372036854775807i,min=-9223372036854775808i,"
            "yes=true,no=false,s=\"x\\\"y\" 1700000000123456789\n");
}

TEST(LineEncoderTest, NonFiniteFloatsAreSkipped) {
  std::string out;
  LineEncoder encoder(&out);
  encoder.Begin("m");
  encoder.AddFloat("a", kNaN);
  encoder.AddFloat("b", 2);
  encoder.AddFloat("c", kInf);
  encoder.AddFloat("d", -kInf);
  ASSERT_TRUE(encoder.End(5).ok());
  EXPECT_EQ(out, "m b=2 5\n");
  EXPECT_THAT(out, ::testing::Not(HasSubstr("NaN")));
}

TEST(LineEncoderTest, LineWithoutFiniteFieldIsRemoved) {
  std::string out = "before\n";
  LineEncoder encoder(&out);
  encoder.Begin("m");
  encoder.AddTag("t", "v");
  encoder.AddFloat("a", kNaN);
  Result<bool> written = encoder.End(1);
  ASSERT_TRUE(written.ok());
  EXPECT_FALSE(*written);
  EXPECT_EQ(out, "before\n");
}

TEST(LineEncoderTest, RefusedElementsRemoveTheLine) {
  struct Case {
    const char* name;
    std::function<void(LineEncoder&)> build;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"newline in tag value",
       [](LineEncoder& e) {
         e.Begin("m");
         e.AddTag("t", "a\nb");
         e.AddFloat("f", 1);
       },
       "tag 't'"},
      {"empty tag value",
       [](LineEncoder& e) {
         e.Begin("m");
         e.AddTag("t", "");
         e.AddFloat("f", 1);
       },
       "empty value"},
      {"newline in measurement",
       [](LineEncoder& e) {
         e.Begin("m\n");
         e.AddFloat("f", 1);
       },
       "measurement"},
      {"comment measurement",
       [](LineEncoder& e) {
         e.Begin("#m");
         e.AddFloat("f", 1);
       },
       "'#'"},
      {"newline in field key of a skipped value",
       [](LineEncoder& e) {
         e.Begin("m");
         e.AddFloat("f\n", kNaN);
         e.AddFloat("g", 1);
       },
       "field key"},
      {"newline in string value",
       [](LineEncoder& e) {
         e.Begin("m");
         e.AddString("s", "a\r\nb");
       },
       "field 's'"},
  };
  for (const Case& c : cases) {
    std::string out = "before\n";
    LineEncoder encoder(&out);
    c.build(encoder);
    Result<bool> written = encoder.End(1);
    ASSERT_FALSE(written.ok()) << c.name;
    EXPECT_TRUE(written.status().IsInvalidArgument()) << c.name;
    EXPECT_THAT(written.status().message(), HasSubstr(c.message)) << c.name;
    EXPECT_EQ(out, "before\n") << c.name;
  }
}

TEST(LineEncoderTest, TimestampRange) {
  const std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
  const std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  for (std::int64_t ts : {kMin, kMin + 1, kMax}) {
    std::string out;
    LineEncoder encoder(&out);
    encoder.Begin("m");
    encoder.AddFloat("f", 1);
    EXPECT_FALSE(encoder.End(ts).ok()) << ts;
    EXPECT_EQ(out, "");
  }
  std::string out;
  LineEncoder encoder(&out);
  encoder.Begin("m");
  encoder.AddFloat("f", 1);
  ASSERT_TRUE(encoder.End(kMin + 2).ok());
  encoder.Begin("m");
  encoder.AddFloat("f", 1);
  ASSERT_TRUE(encoder.End(kMax - 1).ok());
  encoder.Begin("m");
  encoder.AddFloat("f", 1);
  ASSERT_TRUE(encoder.End(-1).ok());
  EXPECT_EQ(out, "m f=1 -9223372036854775806\nm f=1 9223372036854775806\nm f=1 -1\n");
}

TEST(LineEncoderTest, UnfinishedLineIsDiscardedByNextBegin) {
  std::string out;
  LineEncoder encoder(&out);
  encoder.Begin("dropped");
  encoder.AddFloat("f", 1);
  encoder.Begin("kept");
  encoder.AddFloat("f", 2);
  ASSERT_TRUE(encoder.End(3).ok());
  EXPECT_EQ(out, "kept f=2 3\n");
}

// --- The record schema ---

const auto kNames = std::make_shared<const std::vector<std::string>>(
    std::vector<std::string>{"rms_ax", "kurtosis_ax", "bandE0_200_ax"});

WindowRecord Scored() {
  WindowRecord r;
  r.machine_id = "m1";
  r.window_start_ns = 1761559200000000000;
  r.feature_names = kNames;
  r.features = {0.42, 3.25, 1e-05};
  r.rms = 0.42;
  r.score = -0.125;
  r.score_samples = -0.625;
  r.anomaly = true;
  r.state = MachineState::kAnomalous;
  r.state_score = -0.1;
  r.threshold = 0;
  return r;
}

TEST(WindowRecordLinesTest, GoldenLines) {
  std::string out;
  Result<EncodedLines> lines = AppendWindowRecord(Scored(), &out);
  ASSERT_TRUE(lines.ok()) << lines.status().ToString();
  EXPECT_EQ(lines->written, 2);
  EXPECT_EQ(lines->skipped, 0);
  EXPECT_EQ(out,
            "anomaly_score,sensor_id=m1 score=-0.125,score_samples=-0.625,anomaly=true,"
            "threshold=0 1761559200000000000\n"
            "signal_features,device_id=m1 rms_ax=0.42,kurtosis_ax=3.25,bandE0_200_ax=1e-05 "
            "1761559200000000000\n");
}

// A record of a known model file tags its score line with model_version
// (escaped as any tag value); the feature line is unchanged.
TEST(WindowRecordLinesTest, ModelVersionTagOnTheScoreLine) {
  WindowRecord r = Scored();
  auto p = std::make_shared<ModelProvenance>();
  p->version = "3f2a9c0d1e4b";
  r.model = p;
  std::string out;
  ASSERT_TRUE(AppendWindowRecord(r, &out).ok());
  EXPECT_EQ(out,
            "anomaly_score,sensor_id=m1,model_version=3f2a9c0d1e4b score=-0.125,"
            "score_samples=-0.625,anomaly=true,threshold=0 1761559200000000000\n"
            "signal_features,device_id=m1 rms_ax=0.42,kurtosis_ax=3.25,bandE0_200_ax=1e-05 "
            "1761559200000000000\n");
  p->version = "a b,c=d";
  out.clear();
  ASSERT_TRUE(AppendWindowRecord(r, &out).ok());
  EXPECT_EQ(out.substr(0, out.find(" score=")),
            "anomaly_score,sensor_id=m1,model_version=a\\ b\\,c\\=d");
  p->version.clear();  // no version: no tag (the prototype's schema)
  out.clear();
  ASSERT_TRUE(AppendWindowRecord(r, &out).ok());
  EXPECT_EQ(out.find("model_version"), std::string::npos);
}

TEST(WindowRecordLinesTest, SameRecordGivesByteIdenticalLines) {
  std::string a;
  std::string b;
  ASSERT_TRUE(AppendWindowRecord(Scored(), &a).ok());
  ASSERT_TRUE(AppendWindowRecord(Scored(), &b).ok());
  EXPECT_EQ(a, b);
  EXPECT_FALSE(a.empty());
}

TEST(WindowRecordLinesTest, LearningRecordWritesFeaturesOnly) {
  WindowRecord r = Scored();
  r.score = kNaN;
  r.score_samples = kNaN;
  r.anomaly = false;
  std::string out;
  Result<EncodedLines> lines = AppendWindowRecord(r, &out);
  ASSERT_TRUE(lines.ok());
  EXPECT_EQ(lines->written, 1);
  EXPECT_EQ(lines->skipped, 0);
  EXPECT_EQ(out,
            "signal_features,device_id=m1 rms_ax=0.42,kurtosis_ax=3.25,bandE0_200_ax=1e-05 "
            "1761559200000000000\n");
}

TEST(WindowRecordLinesTest, NonFiniteValuesAreSkipped) {
  WindowRecord r = Scored();
  r.score_samples = kNaN;
  r.threshold = kInf;
  r.features = {kNaN, 2, -kInf};
  std::string out;
  ASSERT_TRUE(AppendWindowRecord(r, &out).ok());
  EXPECT_EQ(out,
            "anomaly_score,sensor_id=m1 score=-0.125,anomaly=true 1761559200000000000\n"
            "signal_features,device_id=m1 kurtosis_ax=2 1761559200000000000\n");
}

TEST(WindowRecordLinesTest, FeatureLineWithoutFiniteValueIsSkippedAndCounted) {
  WindowRecord r = Scored();
  r.features = {kNaN, kInf, kNaN};
  std::string out;
  Result<EncodedLines> lines = AppendWindowRecord(r, &out);
  ASSERT_TRUE(lines.ok());
  EXPECT_EQ(lines->written, 1);
  EXPECT_EQ(lines->skipped, 1);
  EXPECT_THAT(out, ::testing::StartsWith("anomaly_score,"));
  EXPECT_THAT(out, ::testing::Not(HasSubstr("signal_features")));
}

TEST(WindowRecordLinesTest, MachineIdIsEscaped) {
  WindowRecord r = Scored();
  r.machine_id = "press 1,line=2";
  r.score = kNaN;
  std::string out;
  ASSERT_TRUE(AppendWindowRecord(r, &out).ok());
  EXPECT_THAT(out, ::testing::StartsWith("signal_features,device_id=press\\ 1\\,line\\=2 "));
}

TEST(WindowRecordLinesTest, InvalidRecordsAppendNothing) {
  std::vector<std::pair<std::string, WindowRecord>> cases;
  WindowRecord r = Scored();
  r.machine_id = "";
  cases.emplace_back("without a machine id", r);
  r = Scored();
  r.feature_names = nullptr;
  cases.emplace_back("no feature names", r);
  r = Scored();
  r.features.pop_back();
  cases.emplace_back("features", r);
  r = Scored();
  r.machine_id = "m1\n";
  cases.emplace_back("record of 'm1", r);
  r = Scored();
  r.feature_names =
      std::make_shared<const std::vector<std::string>>(std::vector<std::string>{"a", "", "c"});
  cases.emplace_back("field key", r);
  for (const auto& [message, record] : cases) {
    std::string out = "before\n";
    Result<EncodedLines> lines = AppendWindowRecord(record, &out);
    ASSERT_FALSE(lines.ok()) << message;
    EXPECT_TRUE(lines.status().IsInvalidArgument()) << message;
    EXPECT_THAT(lines.status().message(), HasSubstr(message));
    EXPECT_EQ(out, "before\n") << message;
  }
}

}  // namespace
}  // namespace mh::sink::influxdb
