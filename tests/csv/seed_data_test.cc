// The prototype's own data (../shared/data/seed/iiot_rms.csv: tab-separated,
// decimal commas, Swedish dates with a separate time column, rows out of
// order, Europe/Stockholm) loads with the instants and values that pandas and
// zoneinfo compute at test time.
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "csv/csv_reader.h"
#include "csv_test_util.h"
#include "testing/test_paths.h"

namespace mh::csv {
namespace {

constexpr const char* kScript = R"PY(
import re, sys, datetime as dt
from zoneinfo import ZoneInfo
import pandas as pd
months = {"januari": 1, "februari": 2, "mars": 3, "april": 4, "maj": 5, "juni": 6, "juli": 7,
          "augusti": 8, "september": 9, "oktober": 10, "november": 11, "december": 12}
df = pd.read_csv(sys.argv[1], sep="\t", decimal=",", float_precision="round_trip")
z = ZoneInfo("Europe/Stockholm")
cols = ["RMS", "Peak-to-Peak", "Crest Factor", "Skewness", "Kurtosis", "Band Energy"]
for _, r in df.iterrows():
    d, mon, y = re.fullmatch(r"den (\d+) (\w+) (\d{4})", r["Date"]).groups()
    hh, mm, ss = (int(x) for x in r["time"].split(":"))
    local = dt.datetime(int(y), months[mon], int(d), hh, mm, ss, tzinfo=z)
    ns = int(local.timestamp()) * 1000000000
    off = int(local.utcoffset().total_seconds())
    print(r["device_id"], ns, off, int(r["Day"]), " ".join(repr(float(r[c])) for c in cols))
)PY";

TEST(SeedData, IiotRmsLoadsWithCorrectInstants) {
  MH_REQUIRE_SHARED_DATA();
  const std::string path = mh::testing::SharedDir() + "/data/seed/iiot_rms.csv";
  const std::string dir = mh::testing::MakeTempDir("mh-seed");
  std::ofstream(dir + "/ref.py") << kScript;
  std::string out;
  ASSERT_EQ(
      mh::testing::RunCommand(mh::testing::ReferencePython() + " " + dir + "/ref.py " + path, &out),
      0);

  CsvOptions options;
  options.time_zone = "Europe/Stockholm";
  auto reader = OpenCsvTable(path, options);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  auto table = testing::ReadAll(**reader);
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  const auto& cols = table->columns;
  ASSERT_EQ(cols.size(), 11u);  // 10 in the file + the combined timestamp
  const std::vector<std::string> names = {"device_id", "RMS",      "Peak-to-Peak", "Crest Factor",
                                          "Skewness",  "Kurtosis", "Band Energy",  "Date",
                                          "time",      "Day",      "timestamp"};
  for (std::size_t j = 0; j < names.size(); ++j) EXPECT_EQ(cols[j].name, names[j]);
  EXPECT_EQ(cols[0].kind, ValueKind::kString);
  for (int j = 1; j <= 6; ++j)
    EXPECT_EQ(cols[static_cast<std::size_t>(j)].kind, ValueKind::kDouble);
  EXPECT_EQ(cols[7].kind, ValueKind::kDate);
  EXPECT_EQ(cols[8].kind, ValueKind::kTime);
  EXPECT_EQ(cols[9].kind, ValueKind::kInt);
  EXPECT_EQ(cols[10].kind, ValueKind::kTimestamp);

  std::istringstream in(out);
  std::size_t row = 0, out_of_order = 0, cet_rows = 0, cest_free = 0;
  std::string device;
  std::int64_t ns = 0, offset = 0, day = 0;
  while (in >> device >> ns >> offset >> day) {
    ASSERT_LT(row, table->rows);
    EXPECT_EQ(table->data[0].strings[row], device) << "row " << row;
    ASSERT_EQ(table->data[10].valid[row], 1);
    ASSERT_EQ(table->data[10].ints[row], ns) << "row " << row;
    EXPECT_EQ(table->data[9].ints[row], day);
    for (int j = 1; j <= 6; ++j) {
      std::string text;
      in >> text;
      EXPECT_EQ(table->data[static_cast<std::size_t>(j)].doubles[row],
                std::strtod(text.c_str(), nullptr))
          << "row " << row << " column " << names[static_cast<std::size_t>(j)];
    }
    if (row > 0 && table->data[10].ints[row] < table->data[10].ints[row - 1]) ++out_of_order;
    if (offset == 3600) ++cet_rows;
    if (offset != 7200) ++cest_free;
    ++row;
  }
  // 9,510 data rows (the last line has no newline) as pandas reads them.
  EXPECT_EQ(row, table->rows);
  EXPECT_GT(row, 9500u);
  EXPECT_GT(out_of_order, 0u);  // the file's rows are not sorted
  EXPECT_EQ(cet_rows, row);     // all after the 26 Oct 2025 change: +01:00
  EXPECT_EQ(cest_free, row);
}

}  // namespace
}  // namespace mh::csv
