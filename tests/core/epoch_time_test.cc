// The one epoch-unit rule (core/epoch_time.h): per-column choice by the
// plausible range of dates, errors for values fitting no unit or mixed
// units, streaming stability, explicit units, the prototype rule by name and
// the nearest-double seconds. Expected instants are computed analytically
// (2026-01-01T00:00:00Z = 1767225600 s).
#include "core/epoch_time.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace mh {
namespace {

constexpr std::int64_t kNewYear2026S = 1'767'225'600;
constexpr std::int64_t kNewYear2026Ns = kNewYear2026S * 1'000'000'000;

TEST(EpochTime, ParseAndNameUnits) {
  for (EpochUnit u : {EpochUnit::kAuto, EpochUnit::kSeconds, EpochUnit::kMillis, EpochUnit::kMicros,
                      EpochUnit::kNanos, EpochUnit::kPrototype}) {
    auto parsed = ParseEpochUnit(EpochUnitName(u));
    ASSERT_TRUE(parsed.ok()) << EpochUnitName(u);
    EXPECT_EQ(*parsed, u);
  }
  EXPECT_EQ(*ParseEpochUnit("milliseconds"), EpochUnit::kMillis);
  EXPECT_EQ(*ParseEpochUnit("seconds"), EpochUnit::kSeconds);
  auto bad = ParseEpochUnit("days");
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(bad.status().IsInvalidArgument());
  EXPECT_NE(bad.status().message().find("prototype"), std::string::npos);
}

TEST(EpochTime, PlausibleRangesAreDisjointAndBounded) {
  const double s = static_cast<double>(kNewYear2026S);
  EXPECT_EQ(PlausibleEpochUnit(s), EpochUnit::kSeconds);
  EXPECT_EQ(PlausibleEpochUnit(s * 1e3), EpochUnit::kMillis);
  EXPECT_EQ(PlausibleEpochUnit(s * 1e6), EpochUnit::kMicros);
  EXPECT_EQ(PlausibleEpochUnit(s * 1e9), EpochUnit::kNanos);
  // [1990-01-01, 2100-01-01): 631152000 s is in, one second less is not.
  EXPECT_EQ(PlausibleEpochUnit(631152000.0), EpochUnit::kSeconds);
  EXPECT_EQ(PlausibleEpochUnit(631151999.0), EpochUnit::kAuto);
  EXPECT_EQ(PlausibleEpochUnit(4102444799.0), EpochUnit::kSeconds);
  EXPECT_EQ(PlausibleEpochUnit(4102444800.0), EpochUnit::kAuto);
  EXPECT_EQ(PlausibleEpochUnit(4102444800.0 * 1e3 - 1), EpochUnit::kMillis);
  EXPECT_EQ(PlausibleEpochUnit(-s), EpochUnit::kAuto);
  EXPECT_EQ(PlausibleEpochUnit(12), EpochUnit::kAuto);
  EXPECT_EQ(PlausibleEpochUnit(std::nan("")), EpochUnit::kAuto);
}

TEST(EpochTime, AutoChoosesOneUnitPerColumn) {
  struct Case {
    double scale;
    EpochUnit unit;
  };
  for (const Case c : {Case{1, EpochUnit::kSeconds}, Case{1e3, EpochUnit::kMillis},
                       Case{1e6, EpochUnit::kMicros}, Case{1e9, EpochUnit::kNanos}}) {
    EpochColumnDecoder d(EpochUnit::kAuto);
    const std::vector<double> values = {kNewYear2026S * c.scale, (kNewYear2026S + 1) * c.scale};
    const std::vector<std::int64_t> rows = {1, 2};
    ASSERT_TRUE(d.Decide(values, rows, "t").ok());
    EXPECT_EQ(d.chosen(), c.unit);
    auto ns = d.ToNs(values[1], 2, "t");
    ASSERT_TRUE(ns.ok()) << ns.status().ToString();
    EXPECT_EQ(*ns, kNewYear2026Ns + 1'000'000'000) << c.scale;
  }
  // Integers exactly, even beyond 2^53 ns.
  EpochColumnDecoder d(EpochUnit::kAuto);
  auto ns = d.ToNs(std::int64_t{1'767'225'600'123'456'789}, 1, "t");
  ASSERT_TRUE(ns.ok());
  EXPECT_EQ(*ns, 1'767'225'600'123'456'789);
  EXPECT_EQ(d.chosen(), EpochUnit::kNanos);
}

TEST(EpochTime, EpochSecondsAreNot1970) {
  // The case: the prototype's guess read 1767225600 as ms.
  EpochColumnDecoder d(EpochUnit::kAuto);
  auto ns = d.ToNs(std::int64_t{kNewYear2026S}, 1, "timestamp");
  ASSERT_TRUE(ns.ok());
  EXPECT_EQ(*ns, kNewYear2026Ns);
  EXPECT_EQ(NsToSeconds(*ns), 1767225600.0);
}

TEST(EpochTime, ValueFittingNoUnitIsAnErrorNamingColumnRowAndValue) {
  const std::vector<double> values = {static_cast<double>(kNewYear2026S), 12};
  const std::vector<std::int64_t> rows = {1, 2};
  auto got = DecideEpochUnit(values, rows, "ts");
  ASSERT_FALSE(got.ok());
  EXPECT_TRUE(got.status().IsInvalidArgument());
  const std::string& m = got.status().message();
  EXPECT_NE(m.find("column 'ts': row 2: 12 is not an epoch time"), std::string::npos) << m;
  EXPECT_NE(m.find("--timestamp-unit s|ms|us|ns"), std::string::npos) << m;
}

TEST(EpochTime, NegativeValuesFitNoUnit) {
  const std::vector<double> values = {-1767225600.0};
  const std::vector<std::int64_t> rows = {7};
  auto got = DecideEpochUnit(values, rows, "ts");
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.status().message().find("row 7: -1767225600 is not an epoch time"),
            std::string::npos)
      << got.status().message();
  // With an explicit unit a negative value is an instant before 1970.
  auto ns = EpochToNs(-1.5, EpochUnit::kSeconds);
  ASSERT_TRUE(ns.ok());
  EXPECT_EQ(*ns, -1'500'000'000);
}

TEST(EpochTime, MixedUnitsAreAnErrorNamingBothRows) {
  const std::vector<double> values = {1767225600, 1767225601, 1767225602000};
  const std::vector<std::int64_t> rows = {1, 2, 3};
  auto got = DecideEpochUnit(values, rows, "ts");
  ASSERT_FALSE(got.ok());
  const std::string& m = got.status().message();
  EXPECT_NE(m.find("column 'ts': row 3: 1767225602000 reads as epoch milliseconds"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("row 1 (1767225600) as epoch seconds"), std::string::npos) << m;
  EXPECT_NE(m.find("mixed units"), std::string::npos) << m;
}

TEST(EpochTime, StreamingKeepsTheFirstBatchsUnit) {
  EpochColumnDecoder d(EpochUnit::kAuto);
  const std::vector<double> first = {1767225600000, 1767225601000};
  const std::vector<std::int64_t> rows = {1, 2};
  ASSERT_TRUE(d.Decide(first, rows, "ts").ok());
  EXPECT_EQ(d.chosen(), EpochUnit::kMillis);
  // A second Decide (a later batch) does not re-decide.
  const std::vector<double> later = {1767225602};
  const std::vector<std::int64_t> later_rows = {9000};
  ASSERT_TRUE(d.Decide(later, later_rows, "ts").ok());
  EXPECT_EQ(d.chosen(), EpochUnit::kMillis);
  EXPECT_TRUE(d.ToNs(1767225602000.0, 8999, "ts").ok());
  auto bad = d.ToNs(1767225602.0, 9000, "ts");
  ASSERT_FALSE(bad.ok());
  const std::string& m = bad.status().message();
  EXPECT_NE(m.find("column 'ts': row 9000: 1767225602 reads as epoch seconds"), std::string::npos)
      << m;
  EXPECT_NE(m.find("epoch milliseconds"), std::string::npos) << m;
  auto none = d.ToNs(std::int64_t{5}, 9001, "ts");
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("row 9001: 5 is not an epoch time"), std::string::npos);
}

TEST(EpochTime, ExplicitUnitsConvertAnyFiniteValueWithOverflowCheck) {
  EpochColumnDecoder s(EpochUnit::kSeconds);
  auto small = s.ToNs(12.25, 1, "t");
  ASSERT_TRUE(small.ok());
  EXPECT_EQ(*small, 12'250'000'000);
  EXPECT_EQ(*EpochToNs(std::int64_t{1767225600123}, EpochUnit::kMillis),
            kNewYear2026Ns + 123'000'000);
  EXPECT_EQ(*EpochToNs(1767225600123456.0, EpochUnit::kMicros), kNewYear2026Ns + 123'456'000);
  EXPECT_EQ(*EpochToNs(std::int64_t{7}, EpochUnit::kNanos), 7);
  // Fractions of seconds to the nearest ns, the whole part exact.
  EXPECT_EQ(*EpochToNs(1767225600.5, EpochUnit::kSeconds), kNewYear2026Ns + 500'000'000);
  // Beyond int64 ns (about 2262): an error, never a wrapped value.
  auto over = EpochToNs(std::int64_t{10'000'000'000}, EpochUnit::kSeconds);
  ASSERT_FALSE(over.ok());
  EXPECT_NE(over.status().message().find("int64 nanosecond range"), std::string::npos);
  EXPECT_FALSE(EpochToNs(9.3e18, EpochUnit::kNanos).ok());
  EXPECT_FALSE(EpochToNs(1e300, EpochUnit::kSeconds).ok());
  EXPECT_FALSE(EpochToNs(std::numeric_limits<double>::infinity(), EpochUnit::kSeconds).ok());
  EXPECT_FALSE(EpochToNs(std::nan(""), EpochUnit::kMillis).ok());
  auto named = s.ToNs(std::int64_t{std::numeric_limits<std::int64_t>::max()}, 4, "t");
  ASSERT_FALSE(named.ok());
  EXPECT_NE(named.status().message().find("column 't': row 4"), std::string::npos);
}

TEST(EpochTime, PrototypeRuleByNameReproducesTheOldGuess) {
  // > 1e12 ns, > 1e9 ms, > 1e6 us, else s: value by value, no error.
  EpochColumnDecoder d(EpochUnit::kPrototype);
  struct Case {
    std::int64_t v;
    double seconds;  // what the prototype's Python sent
  };
  for (const Case c : {Case{1761523205, 1761523205 / 1e3}, Case{1761523205123, 1761523205123 / 1e9},
                       Case{1761523205123456, 1761523205123456 / 1e9}, Case{1500000, 1500000 / 1e6},
                       Case{999999, 999999}, Case{12, 12}}) {
    auto ns = d.ToNs(c.v, 1, "ts");
    ASSERT_TRUE(ns.ok()) << c.v;
    EXPECT_EQ(NsToSeconds(*ns), c.seconds) << c.v;
  }
  // Epoch seconds of 2026 land in 1970 (why it is kept only by name).
  auto ns = d.ToNs(std::int64_t{kNewYear2026S}, 1, "ts");
  ASSERT_TRUE(ns.ok());
  EXPECT_LT(*ns, std::int64_t{86400} * 30 * 1'000'000'000);
}

TEST(EpochTime, NsToSecondsIsTheNearestDouble) {
  // Integral epoch numbers give exactly the double Python computes as
  // v / 10**k (one correctly rounded division), the reference here.
  EXPECT_EQ(NsToSeconds(1'761'523'205'123'000'000), 1761523205123.0 / 1e3);
  EXPECT_EQ(NsToSeconds(1'761'523'205'123'456'000), 1761523205123456.0 / 1e6);
  EXPECT_EQ(NsToSeconds(1'761'523'205'100'000'000), 17615232051.0 / 10.0);
  EXPECT_EQ(NsToSeconds(-1'761'523'205'123'000'000), -1761523205123.0 / 1e3);
  EXPECT_EQ(NsToSeconds(1'500'000'000), 1.5);
  EXPECT_EQ(NsToSeconds(0), 0.0);
  // Every ms of a day in 2026: the nearest double to ms / 1e3.
  for (std::int64_t ms = 1767225600000; ms < 1767225600000 + 86'400'000; ms += 997) {
    ASSERT_EQ(NsToSeconds(ms * 1'000'000), static_cast<double>(ms) / 1e3) << ms;
  }
}

}  // namespace
}  // namespace mh
