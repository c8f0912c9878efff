// csv/timestamp_column.h, the column-level entry point every command calls:
// each column kind, text with and without offset, bad cells (escaped), the
// unit decided on the first batch. Instants are analytic.
#include "csv/timestamp_column.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace mh::csv {
namespace {

constexpr std::int64_t kNewYear2026Ns = 1'767'225'600LL * 1'000'000'000;

TableColumn Column(ValueKind kind, std::size_t rows) {
  TableColumn c;
  c.info.name = "t";
  c.info.kind = kind;
  c.valid.assign(rows, 1);
  return c;
}

TimestampColumnReader Reader(EpochUnit unit = EpochUnit::kAuto, const char* zone = "UTC",
                             bool bad_as_invalid = false) {
  TimestampColumnOptions o;
  o.unit = unit;
  o.time_zone = zone;
  o.source = "f.csv";
  o.bad_as_invalid = bad_as_invalid;
  auto r = TimestampColumnReader::Make(o);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return std::move(r).value();
}

TEST(TimestampColumn, TypedTimestampsDatesAndNulls) {
  std::vector<std::int64_t> ns;
  std::vector<std::uint8_t> valid;
  TableColumn ts = Column(ValueKind::kTimestamp, 2);
  ts.ints = {kNewYear2026Ns, 0};
  ts.valid[1] = 0;
  auto r = Reader();
  ASSERT_TRUE(r.Convert(ts, 0, &ns, &valid).ok());
  EXPECT_EQ(ns[0], kNewYear2026Ns);
  EXPECT_EQ(valid, (std::vector<std::uint8_t>{1, 0}));
  EXPECT_EQ(r.Describe(), "column 't': date-times");
  // A date is local midnight: 2026-01-01 in Stockholm (UTC+1) is 23:00Z.
  TableColumn date = Column(ValueKind::kDate, 1);
  date.ints = {20454};  // days from 1970-01-01 to 2026-01-01
  auto sthlm = Reader(EpochUnit::kAuto, "Europe/Stockholm");
  ASSERT_TRUE(sthlm.Convert(date, 0, &ns, &valid).ok());
  EXPECT_EQ(ns[0], kNewYear2026Ns - 3600LL * 1'000'000'000);
}

TEST(TimestampColumn, EpochNumbersOfEveryNumericKind) {
  std::vector<std::int64_t> ns;
  std::vector<std::uint8_t> valid;
  TableColumn d = Column(ValueKind::kDouble, 2);
  d.doubles = {1767225600000.0, 1767225600500.0};
  auto r = Reader();
  ASSERT_TRUE(r.Convert(d, 0, &ns, &valid).ok());
  EXPECT_EQ(ns, (std::vector<std::int64_t>{kNewYear2026Ns, kNewYear2026Ns + 500'000'000}));
  EXPECT_EQ(r.chosen(), EpochUnit::kMillis);
  EXPECT_EQ(r.Describe(), "column 't': epoch milliseconds (auto)");
  TableColumn u = Column(ValueKind::kUInt64, 1);
  u.ints = {1767225600};
  auto r2 = Reader(EpochUnit::kSeconds);
  ASSERT_TRUE(r2.Convert(u, 0, &ns, &valid).ok());
  EXPECT_EQ(ns[0], kNewYear2026Ns);
  EXPECT_EQ(r2.Describe(), "column 't': epoch seconds (--timestamp-unit s)");
}

TEST(TimestampColumn, TextWithAndWithoutOffset) {
  std::vector<std::int64_t> ns;
  std::vector<std::uint8_t> valid;
  TableColumn s = Column(ValueKind::kString, 4);
  s.strings = {"2026-01-01T00:00:00Z", "2026-01-01T02:00:00+02:00", " 2026-01-01 00:00:00.25 ",
               "2026-01-01"};
  auto r = Reader();
  ASSERT_TRUE(r.Convert(s, 0, &ns, &valid).ok());
  EXPECT_EQ(ns, (std::vector<std::int64_t>{kNewYear2026Ns, kNewYear2026Ns,
                                           kNewYear2026Ns + 250'000'000, kNewYear2026Ns}));
  auto ny = Reader(EpochUnit::kAuto, "America/New_York");  // UTC-5 in January
  ASSERT_TRUE(ny.Convert(s, 0, &ns, &valid).ok());
  EXPECT_EQ(ns[0], kNewYear2026Ns);
  EXPECT_EQ(ns[1], kNewYear2026Ns);
  EXPECT_EQ(ns[2], kNewYear2026Ns + 5 * 3600LL * 1'000'000'000 + 250'000'000);
}

TEST(TimestampColumn, BadTextIsAnEscapedErrorOrInvalidWhenAsked) {
  std::vector<std::int64_t> ns;
  std::vector<std::uint8_t> valid;
  TableColumn s = Column(ValueKind::kString, 2);
  s.strings = {"1767225600", std::string("17672256\0"
                                         "00",
                                         11)};
  auto r = Reader();
  Status st = r.Convert(s, 100, &ns, &valid);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.message(),
            "f.csv: column 't': row 102: '17672256\\000' is not a timestamp (an epoch number or an "
            "iso 8601 date-time)");
  auto skip = Reader(EpochUnit::kAuto, "UTC", true);
  ASSERT_TRUE(skip.Convert(s, 0, &ns, &valid).ok());
  EXPECT_EQ(valid, (std::vector<std::uint8_t>{1, 0}));
  EXPECT_EQ(skip.bad_cells(), 1);
}

TEST(TimestampColumn, KindsWithoutInstantsAreErrors) {
  std::vector<std::int64_t> ns;
  std::vector<std::uint8_t> valid;
  TableColumn b = Column(ValueKind::kBool, 1);
  b.ints = {1};
  auto r = Reader();
  Status st = r.Convert(b, 0, &ns, &valid);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("column 't' holds bool values, not timestamps"), std::string::npos);
}

TEST(TimestampColumn, UnitDecidedOnTheFirstBatchHoldsForLaterOnes) {
  std::vector<std::int64_t> ns;
  std::vector<std::uint8_t> valid;
  auto r = Reader();
  TableColumn first = Column(ValueKind::kInt, 2);
  first.ints = {1767225600, 1767225601};
  ASSERT_TRUE(r.Convert(first, 0, &ns, &valid).ok());
  TableColumn later = Column(ValueKind::kInt, 1);
  later.ints = {1767225602000};
  Status st = r.Convert(later, 2, &ns, &valid);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("f.csv: column 't': row 3: 1767225602000 reads as epoch "
                              "milliseconds"),
            std::string::npos)
      << st.message();
}

}  // namespace
}  // namespace mh::csv
