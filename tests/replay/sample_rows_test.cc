// ReadSampleRows (replay/sample_rows.h): a table of samples as runs of one
// machine, with times and file rows, on CSV files written here.
#include "replay/sample_rows.h"

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "replay/table_file.h"
#include "testing/test_paths.h"

namespace mh::replay {
namespace {

using ::testing::HasSubstr;

struct Seen {
  std::string machine;
  std::vector<double> ax;
  std::vector<std::int64_t> times;
  std::vector<std::uint64_t> rows;
};

class SampleRowsTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = mh::testing::MakeTempDir("mh-sample-rows"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Reads `csv` (written to a file) with `o`; the runs seen, *status the
  // result. The layout is the file's own unless `layout` is given.
  std::vector<Seen> Read(const std::string& csv, SampleRowsOptions o, Status* status,
                         const SampleRowsLayout* layout = nullptr) {
    const std::string path = dir_ + "/s.csv";
    std::ofstream(path) << csv;
    std::vector<Seen> seen;
    auto opened = OpenTableFile(path, TableFileOptions{});
    EXPECT_TRUE(opened.ok()) << opened.status().ToString();
    if (!opened.ok()) return seen;
    TableBatch batch;
    EXPECT_TRUE((*opened)->Next(&batch).ok());
    auto own = DescribeSampleRows("s.csv", (*opened)->columns(), batch);
    EXPECT_TRUE(own.ok());
    layout_ = *own;
    *status = ReadSampleRows(**opened, batch, "s.csv", layout != nullptr ? *layout : *own, o,
                             [&](const SampleRun& run) {
                               Seen s;
                               s.machine = std::string(run.machine);
                               s.ax.assign(run.channels[0].begin(), run.channels[0].end());
                               s.times.assign(run.times.begin(), run.times.end());
                               s.rows.assign(run.rows.begin(), run.rows.end());
                               seen.push_back(s);
                               return Status::OK();
                             });
    return seen;
  }

  std::string dir_;
  SampleRowsLayout layout_;
};

TEST_F(SampleRowsTest, RunsPerMachineInRowOrderWithTimesAndRows) {
  SampleRowsOptions o;
  o.channels = {"ax"};
  Status s;
  const auto seen = Read(
      "timestamp,machine_id,ax\n"
      "2026-01-01T00:00:00.001Z,a,1\n2026-01-01T00:00:00.002Z,a,2\n"
      "2026-01-01T00:00:00.003Z,b,3\n2026-01-01T00:00:00.004Z,a,4\n",
      o, &s);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(layout_.machine);
  EXPECT_EQ(layout_.time_kind, ValueKind::kTimestamp);
  EXPECT_EQ(layout_.fraction_digits, 3);
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].machine, "a");
  EXPECT_EQ(seen[0].ax, (std::vector<double>{1, 2}));
  EXPECT_EQ(seen[0].rows, (std::vector<std::uint64_t>{0, 1}));
  const std::int64_t t0 = 1767225600000000000;
  EXPECT_EQ(seen[0].times, (std::vector<std::int64_t>{t0 + 1000000, t0 + 2000000}));
  EXPECT_EQ(seen[1].machine, "b");
  EXPECT_EQ(seen[1].rows, (std::vector<std::uint64_t>{2}));
  EXPECT_EQ(seen[2].machine, "a");
  EXPECT_EQ(seen[2].ax, (std::vector<double>{4}));
}

TEST_F(SampleRowsTest, LongRunsAreSplitAndFloat32Rounds) {
  SampleRowsOptions o;
  o.channels = {"ax"};
  o.max_run_rows = 2;
  o.float32 = true;
  Status s;
  const auto seen = Read("ax\n0.1\n0.2\n0.3\n", o, &s);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(layout_.time_kind, ValueKind::kInt);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].ax, (std::vector<double>{static_cast<float>(0.1), static_cast<float>(0.2)}));
  EXPECT_TRUE(seen[0].times.empty());
  EXPECT_EQ(seen[1].rows, (std::vector<std::uint64_t>{2}));
}

TEST_F(SampleRowsTest, RowsBeforeABadRowAreHandedOnThenTheErrorNamesRowAndColumn) {
  SampleRowsOptions o;
  o.channels = {"ax"};
  Status s;
  const auto seen = Read(
      "ax,ay\n1,0\n2,0\n1e39,0\n",
      [&] {
        SampleRowsOptions f = o;
        f.float32 = true;
        return f;
      }(),
      &s);
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_THAT(s.message(), HasSubstr("s.csv: row 3: column 'ax': '1e+39' is outside the float32"));
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].ax, (std::vector<double>{1, 2}));
  o.channels = {"az"};
  Read("ax\n1\n", o, &s);
  EXPECT_THAT(s.message(), HasSubstr("s.csv: no column 'az' (columns: ax)"));
}

TEST_F(SampleRowsTest, ALayoutOtherThanTheFirstFilesIsAnError) {
  SampleRowsOptions o;
  o.channels = {"ax"};
  SampleRowsLayout first;
  first.machine = true;
  Status s;
  Read("ax\n1\n", o, &s, &first);
  EXPECT_THAT(s.message(), HasSubstr("s.csv: has no machine_id column, the first file has"));
  first.machine = false;
  first.time_kind = ValueKind::kTime;
  Read("ax\n1\n", o, &s, &first);
  EXPECT_THAT(s.message(),
              HasSubstr("has no time columns, the first file hour/minute/second/microsecond"));
}

}  // namespace
}  // namespace mh::replay
