#include "core/strings.h"

#include <cmath>
#include <string>

#include <gtest/gtest.h>

namespace mh {
namespace {

TEST(ParseDoubleTest, StrictWholeString) {
  EXPECT_DOUBLE_EQ(*ParseDouble("1.5"), 1.5);
  EXPECT_DOUBLE_EQ(*ParseDouble("-2e3"), -2000);
  EXPECT_FALSE(ParseDouble("").ok());
  EXPECT_FALSE(ParseDouble("1.5x").ok());
  EXPECT_FALSE(ParseDouble("1,5").ok());
}

TEST(ParseIntTest, StrictWholeString) {
  EXPECT_EQ(*ParseInt("42"), 42);
  EXPECT_FALSE(ParseInt("4.2").ok());
  EXPECT_FALSE(ParseInt("99999999999999999999").ok());
}

TEST(TrimSpaceTest, StripsAsciiWhiteSpaceAtBothEndsOnly) {
  EXPECT_EQ(TrimSpace(" \t a b\r\n"), "a b");
  EXPECT_EQ(TrimSpace("\v\fx\f"), "x");
  EXPECT_EQ(TrimSpace(" \n\t "), "");
  EXPECT_EQ(TrimSpace(""), "");
  // Not white space: NUL, other control bytes, non-ASCII bytes (UTF-8 NBSP).
  EXPECT_EQ(TrimSpace(std::string_view("\0x\0", 3)), std::string_view("\0x\0", 3));
  EXPECT_EQ(TrimSpace("\x1fx"), "\x1fx");
  EXPECT_EQ(TrimSpace("\xc2\xa0x"), "\xc2\xa0x");
}

TEST(FormatDoubleTest, ShortestRoundTrip) {
  for (double v : {0.1, 1.0 / 3.0, 1e-300, 123456789.125, -0.0}) {
    EXPECT_EQ(*ParseDouble(FormatDouble(v)), v);
  }
  EXPECT_EQ(FormatDouble(NAN), "NaN");
  EXPECT_EQ(FormatDouble(-INFINITY), "-Infinity");
}

TEST(AppendJsonNumberTest, ShortestTextThatReadsBack) {
  for (double v : {0.1, -2.5e-7, 1.0 / 3.0, 123456789.125, 1e17, 9.9e17, 1e18,
                   1.2345678901234568e20, -3.4e38, 1.7976931348623157e308, 5e-324}) {
    std::string out;
    AppendJsonNumber(v, &out);
    EXPECT_EQ(*ParseDouble(out), v) << out;
    EXPECT_LE(out.size(), 24u) << out;
  }
}

TEST(AppendJsonNumberTest, NoIntegerTextTooLongForSixtyFourBits) {
  // std::to_chars writes 1.2345678901234568e20 as 123456789012345683968,
  // which no int64/uint64 JSON reader takes.
  for (double v : {1e18, 1.2345678901234568e20, -9.3e18, 1.8446744073709552e19, 1e22}) {
    std::string out;
    AppendJsonNumber(v, &out);
    EXPECT_NE(out.find('e'), std::string::npos) << out;
  }
  std::string small;
  AppendJsonNumber(123456789012345678.0, &small);
  EXPECT_EQ(small.find('e'), std::string::npos) << small << " fits in int64: kept as digits";
}

TEST(PercentEncodeTest, KeepsUnreservedAndEncodesEveryOtherByte) {
  EXPECT_EQ(PercentEncode(""), "");
  EXPECT_EQ(PercentEncode("AZaz09-_.~"), "AZaz09-_.~");
  EXPECT_EQ(PercentEncode("a b&c=d/e?f%"), "a%20b%26c%3Dd%2Fe%3Ff%25");
  EXPECT_EQ(PercentEncode("\"q\"+"), "%22q%22%2B");
  EXPECT_EQ(PercentEncode(std::string("\0\x7f\xff", 3)), "%00%7F%FF");
  EXPECT_EQ(PercentEncode("\xc3\xa9"), "%C3%A9");  // UTF-8 byte by byte
}

}  // namespace
}  // namespace mh
