#include "core/strings.h"

#include <cmath>

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

TEST(FormatDoubleTest, ShortestRoundTrip) {
  for (double v : {0.1, 1.0 / 3.0, 1e-300, 123456789.125, -0.0}) {
    EXPECT_EQ(*ParseDouble(FormatDouble(v)), v);
  }
  EXPECT_EQ(FormatDouble(NAN), "NaN");
  EXPECT_EQ(FormatDouble(-INFINITY), "-Infinity");
}

}  // namespace
}  // namespace mh
