// The shared rules for tables of samples (replay/sample_columns.h): default
// channels, FEMTO time of day, date-times in file names.
#include "replay/sample_columns.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/time_util.h"

namespace mh::replay {
namespace {

using ::testing::HasSubstr;

TEST(SampleColumns, TimeAndIndexColumnsAreNotChannels) {
  for (const char* name : {"timestamp", "Hour", " time ", "sample_no", "machine_id", "t_ts",
                           "Unnamed: 0", "time_s", "row"}) {
    EXPECT_TRUE(IsTimeOrIndexColumn(name)) << name;
  }
  for (const char* name : {"acc_horizontal_g", "bearing1_x", "ax", "temperature"}) {
    EXPECT_FALSE(IsTimeOrIndexColumn(name)) << name;
  }
}

TEST(SampleColumns, DefaultChannelsAndTheirErrors) {
  std::vector<TableColumnInfo> cols = {{"hour", ValueKind::kInt},
                                       {"ax", ValueKind::kDouble},
                                       {"note", ValueKind::kString},
                                       {"ay", ValueKind::kInt}};
  TableBatch batch;
  batch.Reset(0, cols);
  auto chosen = ChooseDefaultChannels("f.csv", cols, batch, "?channels=");
  ASSERT_TRUE(chosen.ok());
  EXPECT_EQ(chosen->channels, (std::vector<std::string>{"ax", "ay"}));
  EXPECT_EQ(chosen->skipped, "hour (time/index), note (string)");
  std::vector<TableColumnInfo> none = {{"note", ValueKind::kString}};
  batch.Reset(0, none);
  auto bad = ChooseDefaultChannels("f.csv", none, batch, "?channels=");
  EXPECT_TRUE(bad.status().IsCorruption());
  EXPECT_THAT(bad.status().message(), HasSubstr("f.csv: no channel column"));
  EXPECT_THAT(bad.status().message(), HasSubstr("name the channels with ?channels="));
}

TEST(SampleColumns, FemtoTimeOfDay) {
  std::vector<TableColumnInfo> cols = {{"Hour", ValueKind::kInt},
                                       {"minute", ValueKind::kInt},
                                       {"second", ValueKind::kDouble},
                                       {"microsecond", ValueKind::kInt},
                                       {"x", ValueKind::kDouble}};
  const std::vector<std::size_t> tod = TimeOfDayColumns(cols);
  ASSERT_EQ(tod, (std::vector<std::size_t>{0, 1, 2, 3}));
  TableBatch b;
  b.Reset(0, cols);
  b.rows = 2;
  b.columns[0].ints = {9, 25};
  b.columns[1].ints = {39, 0};
  b.columns[2].doubles = {39, 0};
  b.columns[3].ints = {65664, 0};
  b.columns[4].doubles = {0, 0};
  for (auto& c : b.columns) c.valid.assign(2, 1);
  EXPECT_EQ(*TimeOfDayNs(b, tod, 0, "f"), ((9 * 60 + 39) * 60 + 39) * 1'000'000'000LL + 65'664'000);
  EXPECT_THAT(TimeOfDayNs(b, tod, 1, "f").status().message(),
              HasSubstr("f: row 2: column 'Hour': '25' is not a time-of-day field"));
  cols.pop_back();
  cols.erase(cols.begin());
  EXPECT_TRUE(TimeOfDayColumns(cols).empty());
}

TEST(SampleColumns, DateTimesInFileNames) {
  EXPECT_EQ(FileNameTimeNs("2003.10.22.12.06.24"), *ParseInstant("2003-10-22T12:06:24Z"));
  EXPECT_EQ(FileNameTimeNs("2004.02.12.10.32.39.csv"), *ParseInstant("2004-02-12T10:32:39Z"));
  EXPECT_EQ(FileNameTimeNs("pump_2026-12-01T10-00-05.parquet"),
            *ParseInstant("2026-12-01T10:00:05Z"));
  EXPECT_EQ(FileNameTimeNs("acc_00001.csv"), std::nullopt);
  EXPECT_EQ(FileNameTimeNs("2003.13.22.12.06.24"), std::nullopt);   // month 13
  EXPECT_EQ(FileNameTimeNs("12003.10.22.12.06.24"), std::nullopt);  // part of a longer number
  EXPECT_EQ(FileNameTimeNs("2003.10.22.12.06"), std::nullopt);
}

}  // namespace
}  // namespace mh::replay
