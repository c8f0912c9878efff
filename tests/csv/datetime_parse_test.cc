#include "csv/datetime_parse.h"

#include <gtest/gtest.h>

namespace mh::csv {
namespace {

// Days since the epoch, computed independently by counting (Gregorian rules).
std::int64_t CountDays(int y, int m, int d) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  auto leap = [](int yy) { return (yy % 4 == 0 && yy % 100 != 0) || yy % 400 == 0; };
  std::int64_t n = 0;
  for (int yy = 1970; yy < y; ++yy) n += leap(yy) ? 366 : 365;
  for (int yy = y; yy < 1970; ++yy) n -= leap(yy) ? 366 : 365;
  for (int mm = 1; mm < m; ++mm) n += kDays[mm - 1] + (mm == 2 && leap(y) ? 1 : 0);
  return n + d - 1;
}

TEST(ParseDate, IsoAndSwedishAndEnglish) {
  EXPECT_EQ(ParseDate("2025-10-27"), CountDays(2025, 10, 27));
  EXPECT_EQ(ParseDate("2025/10/27"), CountDays(2025, 10, 27));
  EXPECT_EQ(ParseDate("den 27 oktober 2025"), CountDays(2025, 10, 27));
  EXPECT_EQ(ParseDate("den 1 januari 2024"), CountDays(2024, 1, 1));
  EXPECT_EQ(ParseDate("m\xc3\xa5ndag 27 oktober 2025"), CountDays(2025, 10, 27));
  EXPECT_EQ(ParseDate("s\xc3\xb6ndag den 26 oktober 2025"), CountDays(2025, 10, 26));
  EXPECT_EQ(ParseDate("Den 29 Februari 2024"), CountDays(2024, 2, 29));
  EXPECT_EQ(ParseDate("27 okt. 2025"), CountDays(2025, 10, 27));
  EXPECT_EQ(ParseDate("27 October 2025"), CountDays(2025, 10, 27));
  EXPECT_EQ(ParseDate("1969-12-31"), -1);
}

TEST(ParseDate, RejectsInvalid) {
  for (const char* s : {"", "2025-13-01", "2025-02-29", "den 32 oktober 2025", "den 27 oktobr 2025",
                        "den  27 oktober 2025", "den 27 oktober 25", "27.10.2025", "2025-10-27x",
                        "den 27 oktober 2025 ", "den", "1e5", "0000-01-01"}) {
    EXPECT_FALSE(ParseDate(s).has_value()) << s;
  }
}

TEST(ParseTimeOfDay, Forms) {
  constexpr std::int64_t kS = kNanosPerSecond;
  EXPECT_EQ(ParseTimeOfDay("00:00:00"), 0);
  EXPECT_EQ(ParseTimeOfDay("23:59:59"), 86399 * kS);
  EXPECT_EQ(ParseTimeOfDay("01:02"), 3720 * kS);
  int digits = 0;
  EXPECT_EQ(ParseTimeOfDay("00:00:05.25", &digits), 5 * kS + 250'000'000);
  EXPECT_EQ(digits, 2);
  EXPECT_EQ(ParseTimeOfDay("00:00:05,123456789"), 5 * kS + 123'456'789);
  for (const char* s : {"24:00:00", "12:60", "1:00", "12:00:00.", "12:00:00.1234567891", "x"}) {
    EXPECT_FALSE(ParseTimeOfDay(s).has_value()) << s;
  }
}

TEST(ParseDateTime, ZonesAndLocal) {
  const std::int64_t base = CountDays(2025, 10, 27) * kNanosPerDay + 5 * kNanosPerSecond;
  auto z = ParseDateTime("2025-10-27T00:00:05Z");
  ASSERT_TRUE(z);
  EXPECT_TRUE(z->has_zone);
  EXPECT_EQ(z->ns, base);
  auto off = ParseDateTime("2025-10-27T02:00:05+02:00");
  ASSERT_TRUE(off);
  EXPECT_EQ(off->ns, base);
  auto off2 = ParseDateTime("2025-10-26T19:00:05-0500");
  ASSERT_TRUE(off2);
  EXPECT_EQ(off2->ns, base);
  auto local = ParseDateTime("2025-10-27 00:00:05.5");
  ASSERT_TRUE(local);
  EXPECT_FALSE(local->has_zone);
  EXPECT_EQ(local->ns, base + 500'000'000);
  EXPECT_EQ(local->fraction_digits, 1);
  auto utc = ParseDateTime("2025-10-27 00:00:05 UTC");
  ASSERT_TRUE(utc);
  EXPECT_TRUE(utc->has_zone);
  for (const char* s :
       {"2025-10-27", "2025-10-27T", "2025-10-27T00:00:05+2", "2025-10-27T00:00:05Q",
        "2025-10-27T00:00:05+24:00", "den 27 oktober 2025 00:00:05"}) {
    EXPECT_FALSE(ParseDateTime(s).has_value()) << s;
  }
}

}  // namespace
}  // namespace mh::csv
