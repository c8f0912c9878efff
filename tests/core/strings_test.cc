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

TEST(ParseByteSizeTest, DecimalAndBinaryUnits) {
  EXPECT_EQ(*ParseByteSize("4096"), 4096u);
  EXPECT_EQ(*ParseByteSize("20GB"), 20'000'000'000u);
  EXPECT_EQ(*ParseByteSize("20gb"), 20'000'000'000u);
  EXPECT_EQ(*ParseByteSize("512MiB"), 512u << 20);
  EXPECT_EQ(*ParseByteSize("1.5KiB"), 1536u);
  EXPECT_EQ(*ParseByteSize("0"), 0u);
  for (const char* bad : {"", "GB", "-1GB", "20 GB", "20XB", "1e30", "99999999TB"}) {
    auto r = ParseByteSize(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_NE(r.status().message().find("not a size"), std::string::npos) << bad;
    }
  }
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

TEST(ParseDoubleExactTest, UnderflowIsZeroOverflowIsReported) {
  double v = 1;
  ASSERT_EQ(ParseDoubleExact("1e-400", &v), DoubleParse::kOk);
  EXPECT_EQ(v, 0.0);
  EXPECT_FALSE(std::signbit(v));
  ASSERT_EQ(ParseDoubleExact("-0.0001e-320", &v), DoubleParse::kOk);
  EXPECT_TRUE(std::signbit(v) && v == 0.0);
  EXPECT_EQ(ParseDoubleExact("1e400", &v), DoubleParse::kOverflow);
  EXPECT_EQ(ParseDoubleExact("-0.001e312", &v), DoubleParse::kOverflow);
  EXPECT_EQ(ParseDoubleExact("+1e99999999999999999999", &v), DoubleParse::kOverflow);
  ASSERT_EQ(ParseDoubleExact("+.5", &v), DoubleParse::kOk);
  EXPECT_EQ(v, 0.5);
  EXPECT_EQ(ParseDoubleExact("+-1", &v), DoubleParse::kInvalid);
  EXPECT_EQ(ParseDoubleExact("nan(1)", &v), DoubleParse::kInvalid);
  EXPECT_EQ(ParseDoubleExact(" 1", &v), DoubleParse::kInvalid);
  EXPECT_EQ(ParseDoubleExact("", &v), DoubleParse::kInvalid);
  EXPECT_FALSE(ParseInt("+-1").ok());
  EXPECT_NE(ParseDouble("1e400").status().message().find("too large"), std::string::npos);
}

TEST(QuoteForMessageTest, QuotesAndEscapes) {
  EXPECT_EQ(QuoteForMessage("rms"), "'rms'");
  EXPECT_EQ(QuoteForMessage(""), "''");
  EXPECT_EQ(QuoteForMessage(std::string_view("1\0", 2)), "'1\\0'");
  EXPECT_EQ(QuoteForMessage("a\tb\nc\x7f"), "'a\\x09b\\x0ac\\x7f'");
  EXPECT_EQ(QuoteForMessage("C:\\x41"), "'C:\\\\x41'");
  EXPECT_EQ(QuoteForMessage("it's"), "'it's'");
  // UTF-8 is kept; broken UTF-8 (a lone continuation byte, a truncated
  // sequence, an overlong form, a surrogate) is shown byte by byte.
  EXPECT_EQ(QuoteForMessage("m\xc3\xa5ndag \xe2\x82\xac"), "'m\xc3\xa5ndag \xe2\x82\xac'");
  EXPECT_EQ(QuoteForMessage("\x80\xc3"), "'\\x80\\xc3'");
  EXPECT_EQ(QuoteForMessage("\xc0\xaf"), "'\\xc0\\xaf'");
  EXPECT_EQ(QuoteForMessage("\xed\xa0\x80"), "'\\xed\\xa0\\x80'");
}

TEST(QuoteForMessageTest, TruncatesWithACount) {
  const std::string big(10'000'000, 'h');
  const std::string q = QuoteForMessage(big);
  EXPECT_EQ(q, "'" + std::string(80, 'h') + "...' (9999920 more bytes)");
  EXPECT_EQ(QuoteForMessage("abcdef", 3), "'abc...' (3 more bytes)");
  EXPECT_EQ(QuoteForMessage("abc", 3), "'abc'");
  // Never cut inside a UTF-8 character: "å" is two bytes.
  EXPECT_EQ(QuoteForMessage("a\xc3\xa5z", 2), "'a...' (3 more bytes)");
  EXPECT_EQ(QuoteForMessage("abc", 0), "'...' (3 more bytes)");
  // Escapes count as the one input byte they show; the bound holds.
  const std::string nuls(1000, '\x01');
  EXPECT_LE(QuoteForMessage(nuls).size(), 4u * 80 + 40);
}

TEST(FindInvalidUtf8Test, OffsetOfTheFirstBadByte) {
  EXPECT_EQ(FindInvalidUtf8(""), -1);
  EXPECT_EQ(FindInvalidUtf8("acc_x"), -1);
  EXPECT_EQ(FindInvalidUtf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"), -1);  // 2, 3, 4 bytes
  EXPECT_EQ(FindInvalidUtf8("ab\xff"), 2);
  EXPECT_EQ(FindInvalidUtf8("a\xc3"), 1);             // truncated sequence
  EXPECT_EQ(FindInvalidUtf8("\xc0\xaf"), 0);          // overlong '/'
  EXPECT_EQ(FindInvalidUtf8("x\xed\xa0\x80"), 1);     // surrogate U+D800
  EXPECT_EQ(FindInvalidUtf8("\xf4\x90\x80\x80"), 0);  // above U+10FFFF
  EXPECT_EQ(FindInvalidUtf8("\xc3\xa9\x80"), 2);      // stray continuation byte
}

}  // namespace
}  // namespace mh

namespace mh {
namespace {

TEST(Base64Test, Rfc4648TestVectorsAndEveryByte) {
  const std::pair<const char*, const char*> vectors[] = {{"", ""},
                                                         {"f", "Zg=="},
                                                         {"fo", "Zm8="},
                                                         {"foo", "Zm9v"},
                                                         {"foob", "Zm9vYg=="},
                                                         {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (const auto& [in, want] : vectors) {
    std::string out = "x";
    AppendBase64(in, &out);
    EXPECT_EQ(out, std::string("x") + want) << in;
  }
  // Bytes 0..255 (base64 of them as Python's base64.b64encode gives it).
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  std::string out;
  AppendBase64(all, &out);
  EXPECT_EQ(out.size(), 344u);
  EXPECT_EQ(out.substr(0, 24), "AAECAwQFBgcICQoLDA0ODxAR");
  EXPECT_EQ(out.substr(out.size() - 8), "/P3+/w==");
}

}  // namespace
}  // namespace mh
