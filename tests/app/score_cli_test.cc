// `machine-health score` and `train` in-process (app::RunMain): output format
// by extension and --format, standard output, unknown extensions, folder and
// glob input against the files one by one, --keep-going, the default feature
// rule of train, and duplicate --features.
#include "score_cli_test.h"

#include <filesystem>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/strings.h"
#include "core/table.h"
#include "csv/csv_reader.h"
#include "parquet/parquet_reader.h"

namespace mh::app::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// All rows of a table file read by our own readers.
TableBatch ReadTable(const std::string& path) {
  std::unique_ptr<TableReader> reader;
  if (path.size() > 8 && path.substr(path.size() - 8) == ".parquet") {
    auto r = parquet::OpenParquetTable(path, parquet::ParquetReadOptions{});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return {};
    reader = std::move(*r);
  } else {
    auto r = csv::OpenCsvTable(path, csv::CsvOptions{});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return {};
    reader = std::move(*r);
  }
  TableBatch all, b;
  all.Reset(0, reader->columns());
  while (true) {
    auto more = reader->Next(&b);
    EXPECT_TRUE(more.ok()) << more.status().ToString();
    if (!more.ok() || b.rows == 0) break;
    for (std::size_t j = 0; j < b.columns.size(); ++j) {
      TableColumn& d = all.columns[j];
      const TableColumn& s = b.columns[j];
      d.valid.insert(d.valid.end(), s.valid.begin(), s.valid.end());
      d.ints.insert(d.ints.end(), s.ints.begin(), s.ints.end());
      d.doubles.insert(d.doubles.end(), s.doubles.begin(), s.doubles.end());
      d.strings.insert(d.strings.end(), s.strings.begin(), s.strings.end());
    }
    all.rows += b.rows;
  }
  return all;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines = Split(text, '\n');
  if (!lines.empty() && lines.back().empty()) lines.pop_back();
  return lines;
}

TEST_F(ScoreCliTest, EachFormatByExtensionHoldsTheSameRowsAndKinds) {
  WriteAll(dir_ + "/in.csv", FeatureCsv(1000, 120));
  std::string out, err;
  for (const std::string ext : {"csv", "tsv", "jsonl", "ndjson", "parquet", "PARQUET"}) {
    ASSERT_EQ(Score(dir_ + "/in.csv", dir_ + "/s." + ext, &out, &err), kExitOk) << ext << err;
    EXPECT_FALSE(std::filesystem::exists(dir_ + "/s." + ext + ".tmp"));
  }
  const std::string csv = ReadAll(dir_ + "/s.csv");
  const std::vector<std::string> lines = Lines(csv);
  ASSERT_EQ(lines.size(), 121u);
  EXPECT_EQ(lines[0], "timestamp,window_start,machine_id,score,score_samples,anomaly");
  // Timestamps as RFC 3339 with the input's millisecond digits.
  EXPECT_THAT(lines[1], ::testing::StartsWith("2026-01-01T00:04:10.000Z,2560000,m1,"));
  EXPECT_THAT(lines[2], ::testing::StartsWith("2026-01-01T00:04:10.250Z,2562560,m2,"));

  // TSV: the same cells, tab separated.
  std::string tsv = ReadAll(dir_ + "/s.tsv");
  for (char& c : tsv) c = c == '\t' ? ',' : c;
  EXPECT_EQ(tsv, csv);

  // JSON Lines: one object per row, timestamps as strings, numbers as numbers.
  const std::vector<std::string> json = Lines(ReadAll(dir_ + "/s.jsonl"));
  ASSERT_EQ(json.size(), 120u);
  EXPECT_THAT(json[0], ::testing::StartsWith("{\"timestamp\":\"2026-01-01T00:04:10.000Z\","
                                             "\"window_start\":2560000,\"machine_id\":\"m1\","
                                             "\"score\":"));
  EXPECT_EQ(ReadAll(dir_ + "/s.ndjson"), ReadAll(dir_ + "/s.jsonl"));

  // Parquet keeps the kinds: timestamp TIMESTAMP, window_start INT64.
  const TableBatch pq = ReadTable(dir_ + "/s.parquet");
  const TableBatch back = ReadTable(dir_ + "/s.csv");
  ASSERT_EQ(pq.rows, 120u);
  ASSERT_EQ(pq.columns.size(), 6u);
  EXPECT_EQ(pq.columns[0].info.kind, ValueKind::kTimestamp);
  EXPECT_EQ(pq.columns[1].info.kind, ValueKind::kInt);
  EXPECT_EQ(pq.columns[2].info.kind, ValueKind::kString);
  EXPECT_EQ(pq.columns[3].info.kind, ValueKind::kDouble);
  EXPECT_EQ(pq.columns[5].info.kind, ValueKind::kInt);
  EXPECT_EQ(pq.columns[0].ints[1], (kStartSeconds + 250) * 1000000000LL + 250000000LL);
  // Every value equal to the CSV output read back (doubles bit for bit).
  ASSERT_EQ(back.rows, 120u);
  EXPECT_EQ(pq.columns[0].ints, back.columns[0].ints);
  EXPECT_EQ(pq.columns[1].ints, back.columns[1].ints);
  EXPECT_EQ(pq.columns[2].strings, back.columns[2].strings);
  EXPECT_EQ(pq.columns[3].doubles, back.columns[3].doubles);
  EXPECT_EQ(pq.columns[4].doubles, back.columns[4].doubles);
  EXPECT_EQ(pq.columns[5].ints, back.columns[5].ints);
  EXPECT_EQ(ReadAll(dir_ + "/s.PARQUET").substr(0, 4), "PAR1");
}

TEST_F(ScoreCliTest, FormatOverridesTheExtension) {
  WriteAll(dir_ + "/in.csv", FeatureCsv(0, 50));
  std::string out, err;
  ASSERT_EQ(Score(dir_ + "/in.csv", dir_ + "/s.csv", &out, &err), kExitOk) << err;
  ASSERT_EQ(Score(dir_ + "/in.csv", dir_ + "/scores.out", &out, &err, {"--format", "parquet"}),
            kExitOk)
      << err;
  EXPECT_EQ(ReadAll(dir_ + "/scores.out").substr(0, 4), "PAR1");
  ASSERT_EQ(Score(dir_ + "/in.csv", dir_ + "/x.parquet", &out, &err, {"--format", "csv"}), kExitOk)
      << err;
  EXPECT_EQ(ReadAll(dir_ + "/x.parquet"), ReadAll(dir_ + "/s.csv"));
}

TEST_F(ScoreCliTest, DashWritesCsvOrTheTextFormatAskedForToStandardOutput) {
  WriteAll(dir_ + "/in.csv", FeatureCsv(0, 50));
  std::string out, err;
  ASSERT_EQ(Score(dir_ + "/in.csv", dir_ + "/s.csv", &out, &err), kExitOk) << err;
  ASSERT_EQ(Score(dir_ + "/in.csv", "-", &out, &err), kExitOk) << err;
  EXPECT_EQ(out, ReadAll(dir_ + "/s.csv"));
  ASSERT_EQ(Score(dir_ + "/in.csv", dir_ + "/s.jsonl", &out, &err), kExitOk) << err;
  ASSERT_EQ(Score(dir_ + "/in.csv", "-", &out, &err, {"--format", "jsonl"}), kExitOk) << err;
  EXPECT_EQ(out, ReadAll(dir_ + "/s.jsonl"));
  EXPECT_EQ(Score(dir_ + "/in.csv", "-", &out, &err, {"--format", "parquet"}), kExitUsage);
  EXPECT_THAT(err, HasSubstr("standard output"));
}

TEST_F(ScoreCliTest, UnknownExtensionIsAUsageErrorNamingPathAndChoices) {
  WriteAll(dir_ + "/in.csv", FeatureCsv(0, 50));
  std::string out, err;
  EXPECT_EQ(Score(dir_ + "/in.csv", dir_ + "/scores.txt", &out, &err), kExitUsage);
  EXPECT_THAT(err, HasSubstr("scores.txt"));
  EXPECT_THAT(err, HasSubstr(".parquet"));
  EXPECT_THAT(err, HasSubstr(".jsonl"));
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/scores.txt"));
  EXPECT_EQ(Score(dir_ + "/in.csv", dir_ + "/s.csv", &out, &err, {"--format", "xml"}), kExitUsage);
  EXPECT_THAT(err, HasSubstr("--format"));
}

// A folder of snapshot files named so that byte order differs from natural
// order (f_2 before f_10).
void WriteSnapshots(const std::string& dir) {
  std::filesystem::create_directories(dir);
  WriteAll(dir + "/f_10.csv", FeatureCsv(600, 40));
  WriteAll(dir + "/f_2.csv", FeatureCsv(400, 30));
  WriteAll(dir + "/f_1.csv", FeatureCsv(300, 20));
}

TEST_F(ScoreCliTest, FolderAndGlobEqualTheFilesOneByOne) {
  const std::string snaps = dir_ + "/snaps";
  WriteSnapshots(snaps);
  std::string out, err;
  ASSERT_EQ(Score(snaps, dir_ + "/all.csv", &out, &err), kExitOk) << err;
  EXPECT_THAT(err, HasSubstr("from 3 files"));
  const std::vector<std::string> all = Lines(ReadAll(dir_ + "/all.csv"));
  ASSERT_EQ(all.size(), 1u + 20 + 30 + 40);
  EXPECT_EQ(all[0],
            "source_file,source_offset,timestamp,window_start,machine_id,score,score_samples,"
            "anomaly");
  std::vector<std::string> want;
  for (const std::string name : {"f_1.csv", "f_2.csv", "f_10.csv"}) {
    ASSERT_EQ(Score(snaps + "/" + name, "-", &out, &err), kExitOk) << err;
    const std::vector<std::string> one = Lines(out);
    for (std::size_t i = 1; i < one.size(); ++i) {
      want.push_back(snaps + "/" + name + "," + std::to_string(i - 1) + "," + one[i]);
    }
  }
  EXPECT_EQ(std::vector<std::string>(all.begin() + 1, all.end()), want);

  ASSERT_EQ(Score(snaps + "/f_*.csv", dir_ + "/glob.csv", &out, &err), kExitOk) << err;
  EXPECT_EQ(ReadAll(dir_ + "/glob.csv"), ReadAll(dir_ + "/all.csv"));
}

TEST_F(ScoreCliTest, AFailingFileStopsTheRunUnlessKeepGoing) {
  const std::string snaps = dir_ + "/snaps";
  WriteSnapshots(snaps);
  std::string bad = FeatureCsv(500, 10);
  bad += "2026-01-01T00:09:00.000Z,9,m0,oops,3.0\n";
  WriteAll(snaps + "/f_5.csv", bad);
  std::string out, err;
  EXPECT_EQ(Score(snaps, dir_ + "/s.csv", &out, &err), kExitFailure);
  EXPECT_THAT(err, HasSubstr("f_5.csv"));
  EXPECT_THAT(err, HasSubstr("line 12"));
  EXPECT_THAT(err, HasSubstr("--keep-going"));
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/s.csv"));
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/s.csv.tmp"));

  EXPECT_EQ(Score(snaps, dir_ + "/s.csv", &out, &err, {"--keep-going"}), kExitFailure);
  EXPECT_THAT(err, HasSubstr("1 of 4 files failed: '" + snaps + "/f_5.csv'"));
  const std::vector<std::string> rows = Lines(ReadAll(dir_ + "/s.csv"));
  ASSERT_EQ(rows.size(), 1u + 20 + 30 + 40);
  for (std::size_t i = 1; i < rows.size(); ++i) EXPECT_THAT(rows[i], Not(HasSubstr("f_5.csv")));
}

TEST_F(ScoreCliTest, KeyColumnsOfParquetInputKeepTheirKinds) {
  WriteAll(dir_ + "/in.csv", FeatureCsv(0, 60));
  std::string out, err;
  ASSERT_EQ(Run({"cat", dir_ + "/in.csv", "--out", dir_ + "/in.parquet"}, &out, &err), kExitOk)
      << err;
  ASSERT_EQ(Score(dir_ + "/in.parquet", dir_ + "/p.csv", &out, &err), kExitOk) << err;
  ASSERT_EQ(Score(dir_ + "/in.csv", dir_ + "/c.csv", &out, &err), kExitOk) << err;
  EXPECT_EQ(ReadAll(dir_ + "/p.csv"), ReadAll(dir_ + "/c.csv"));
  ASSERT_EQ(Score(dir_ + "/in.parquet", dir_ + "/p.parquet", &out, &err), kExitOk) << err;
  const TableBatch pq = ReadTable(dir_ + "/p.parquet");
  ASSERT_EQ(pq.rows, 60u);
  EXPECT_EQ(pq.columns[0].info.kind, ValueKind::kTimestamp);
  EXPECT_EQ(pq.columns[0].ints[4], kStartSeconds * 1000000000LL + 1000000000LL);
}

// Rows are scored, Parquet columns decoded and text rows rendered on several
// threads only for large inputs (thousands of rows per thread): 60,000 rows
// take every parallel path with 2 and 3 threads, whose outputs must be the
// bytes of the one-thread run in every format.
TEST_F(ScoreCliTest, ThreadsNeverChangeTheOutput) {
  WriteAll(dir_ + "/in.csv", FeatureCsv(0, 60000));
  std::string out, err;
  ASSERT_EQ(Run({"cat", dir_ + "/in.csv", "--out", dir_ + "/in.parquet"}, &out, &err), kExitOk)
      << err;
  for (const std::string input : {"in.csv", "in.parquet"}) {
    for (const std::string ext : {"csv", "jsonl", "parquet"}) {
      const std::string one = dir_ + "/one." + ext;
      ASSERT_EQ(Score(dir_ + "/" + input, one, &out, &err, {"--threads", "1"}), kExitOk) << err;
      const std::string expected = ReadAll(one);
      ASSERT_FALSE(expected.empty());
      for (const std::string threads : {"2", "3", "0"}) {
        const std::string many = dir_ + "/many." + ext;
        ASSERT_EQ(Score(dir_ + "/" + input, many, &out, &err, {"--threads", threads}), kExitOk)
            << err;
        EXPECT_TRUE(ReadAll(many) == expected) << input << " -> " << ext << ", " << threads;
      }
    }
  }
  // A key column that is also a feature (read once, used twice).
  for (const std::string input : {"in.csv", "in.parquet"}) {
    ASSERT_EQ(Score(dir_ + "/" + input, dir_ + "/k1.csv", &out, &err,
                    {"--features", "window_start,kurtosis", "--threads", "1"}),
              kExitOk)
        << err;
    ASSERT_EQ(Score(dir_ + "/" + input, dir_ + "/k2.csv", &out, &err,
                    {"--features", "window_start,kurtosis", "--threads", "2"}),
              kExitOk)
        << err;
    EXPECT_TRUE(ReadAll(dir_ + "/k1.csv") == ReadAll(dir_ + "/k2.csv")) << input;
    EXPECT_THAT(ReadAll(dir_ + "/k1.csv"), HasSubstr("\n2026-01-01T00:00:00.250Z,2560,m1,"));
  }
  // The rows are all there, each once and in order.
  const std::vector<std::string> lines = Lines(ReadAll(dir_ + "/one.csv"));
  ASSERT_EQ(lines.size(), 60001u);
  EXPECT_THAT(lines[1], ::testing::StartsWith("2026-01-01T00:00:00.000Z,0,m0,"));
  EXPECT_THAT(lines[60000], ::testing::StartsWith(Split(Lines(FeatureCsv(59999, 1))[1], ',')[0]));
  EXPECT_EQ(Score(dir_ + "/in.csv", dir_ + "/s.csv", &out, &err, {"--threads", "-1"}), kExitUsage);
  EXPECT_THAT(err, HasSubstr("--threads must be >= 0"));
}

// FeatureCsv without its timestamp column.
std::string FeatureCsvWithoutTime(std::size_t first, std::size_t rows) {
  std::string csv;
  for (const std::string& line : Lines(FeatureCsv(first, rows))) {
    csv += line.substr(line.find(',') + 1) + "\n";
  }
  return csv;
}

// A file written as text without a timestamp key is scored as a pipeline of
// 8192-row chunks (cmd_score.cc); standard output takes the whole-file path.
// Both must give the same bytes, whatever the threads, with source_offset
// counting across chunks, and the first bad row is the error, leaving no file.
TEST_F(ScoreCliTest, PipelinedChunksGiveTheBytesOfTheWholeFile) {
  WriteAll(dir_ + "/in.csv", FeatureCsvWithoutTime(0, 50000));
  std::string out, err;
  ASSERT_EQ(Run({"cat", dir_ + "/in.csv", "--out", dir_ + "/in.parquet"}, &out, &err), kExitOk)
      << err;
  for (const std::string input : {"in.csv", "in.parquet"}) {
    for (const std::string ext : {"csv", "tsv", "jsonl"}) {
      ASSERT_EQ(Score(dir_ + "/" + input, "-", &out, &err, {"--format", ext}), kExitOk) << err;
      const std::string whole = out;
      ASSERT_EQ(Lines(whole).size(), ext == "jsonl" ? 50000u : 50001u);
      for (const std::string threads : {"1", "2", "3"}) {
        const std::string path = dir_ + "/p." + ext;
        ASSERT_EQ(Score(dir_ + "/" + input, path, &out, &err, {"--threads", threads}), kExitOk)
            << err;
        EXPECT_TRUE(ReadAll(path) == whole) << input << " -> " << ext << ", " << threads;
      }
    }
  }
  // Several files: source_offset runs on across the chunks of each file.
  const std::string snaps = dir_ + "/many";
  std::filesystem::create_directories(snaps);
  WriteAll(snaps + "/a_1.csv", FeatureCsvWithoutTime(0, 20000));
  WriteAll(snaps + "/a_2.csv", FeatureCsvWithoutTime(20000, 30000));
  ASSERT_EQ(Score(snaps, "-", &out, &err), kExitOk) << err;
  const std::string whole = out;
  ASSERT_EQ(Score(snaps, dir_ + "/m.csv", &out, &err, {"--threads", "2"}), kExitOk) << err;
  EXPECT_TRUE(ReadAll(dir_ + "/m.csv") == whole);
  const std::vector<std::string> lines = Lines(whole);
  ASSERT_EQ(lines.size(), 50001u);
  EXPECT_THAT(lines[20000], ::testing::StartsWith(snaps + "/a_1.csv,19999,"));
  EXPECT_THAT(lines[40000], ::testing::StartsWith(snaps + "/a_2.csv,19999,"));

  // --keep-going over several files: a file failing in a late chunk leaves
  // none of its rows.
  std::string late = FeatureCsvWithoutTime(50000, 20000);
  const std::size_t row = late.find("\n" + std::to_string(2560 * 68000) + ",");
  ASSERT_NE(row, std::string::npos);
  late.replace(late.find(",m", row + 1), 3, ",m2,oops");
  WriteAll(snaps + "/a_3.csv", late);
  EXPECT_EQ(Score(snaps, dir_ + "/k.csv", &out, &err, {"--keep-going"}), kExitFailure);
  EXPECT_THAT(err, HasSubstr("1 of 3 files failed"));
  EXPECT_TRUE(ReadAll(dir_ + "/k.csv") == whole);
  std::filesystem::remove(snaps + "/a_3.csv");

  // A bad cell in a late chunk: the error of the whole-file path, no file.
  std::string bad = FeatureCsvWithoutTime(0, 40000);
  const std::size_t at = bad.find("\n" + std::to_string(2560 * 37000) + ",");
  ASSERT_NE(at, std::string::npos);
  const std::size_t comma = bad.find(',', bad.find(',', at + 1) + 1);
  bad.replace(comma + 1, bad.find(',', comma + 1) - comma - 1, "oops");
  WriteAll(dir_ + "/bad.csv", bad);
  ASSERT_EQ(Score(dir_ + "/bad.csv", "-", &out, &err), kExitFailure);
  const std::string whole_error = err;
  EXPECT_THAT(whole_error, HasSubstr("line 37002"));
  for (const std::string threads : {"1", "2"}) {
    EXPECT_EQ(Score(dir_ + "/bad.csv", dir_ + "/b.csv", &out, &err, {"--threads", threads}),
              kExitFailure);
    EXPECT_EQ(err, whole_error);
    EXPECT_FALSE(std::filesystem::exists(dir_ + "/b.csv"));
    EXPECT_FALSE(std::filesystem::exists(dir_ + "/b.csv.tmp"));
  }
}

TEST_F(ScoreCliTest, DuplicateFeaturesAreUsageErrors) {
  WriteAll(dir_ + "/in.csv", FeatureCsv(0, 50));
  std::string out, err;
  EXPECT_EQ(Score(dir_ + "/in.csv", "-", &out, &err, {"--features", "rms,rms"}), kExitUsage);
  EXPECT_THAT(err, HasSubstr("'rms' is listed twice"));
  EXPECT_EQ(Run({"train", "--input", dir_ + "/in.csv", "--features", "rms, kurtosis,rms", "--out",
                 dir_ + "/m.mhm"},
                &out, &err),
            kExitUsage);
  EXPECT_THAT(err, HasSubstr("'rms' is listed twice"));
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/m.mhm"));
}

TEST_F(ScoreCliTest, TrainNamesItsFeaturesAndNeverDropsANumericColumn) {
  std::string out, err;
  // The default features are named in the log (keys and text left out).
  ASSERT_EQ(
      Run({"train", "--input", dir_ + "/train.csv", "--trees", "10", "--out", dir_ + "/m.mhm"},
          &out, &err),
      kExitOk)
      << err;
  EXPECT_THAT(err, HasSubstr("2 features rms,kurtosis"));
  EXPECT_THAT(out, HasSubstr("features=2"));

  // A numeric column whose first cell is empty: an error naming the row,
  // not a dropped column.
  WriteAll(dir_ + "/empty_first.csv", "rms,kurtosis,crest\n1.0,,2.0\n1.1,3.1,2.1\n0.9,2.9,1.9\n");
  EXPECT_EQ(
      Run({"train", "--input", dir_ + "/empty_first.csv", "--out", dir_ + "/m.mhm"}, &out, &err),
      kExitFailure);
  EXPECT_THAT(err, HasSubstr("empty_first.csv: row 1, column 'kurtosis': missing value"));

  // A numeric column with a word in its first cell: the reader's error naming
  // line and column.
  WriteAll(dir_ + "/word_first.csv", "rms,kurtosis,crest\n1.0,abc,2.0\n1.1,3.1,2.1\n0.9,2.9,1.9\n");
  EXPECT_EQ(
      Run({"train", "--input", dir_ + "/word_first.csv", "--out", dir_ + "/m.mhm"}, &out, &err),
      kExitFailure);
  EXPECT_THAT(err, HasSubstr("line 2"));
  EXPECT_THAT(err, HasSubstr("'kurtosis'"));

  // A text column stays out, and the log says so.
  WriteAll(dir_ + "/text.csv", "rms,state,crest\n1.0,ok,2.0\n1.1,ok,2.1\n0.9,bad,1.9\n");
  ASSERT_EQ(Run({"train", "--input", dir_ + "/text.csv", "--trees", "5", "--out", dir_ + "/m.mhm"},
                &out, &err),
            kExitOk)
      << err;
  EXPECT_THAT(err, HasSubstr("2 features rms,crest (not numeric: 'state')"));
}

TEST_F(ScoreCliTest, TrainReadsAFolderAsOneTable) {
  const std::string snaps = dir_ + "/snaps";
  WriteSnapshots(snaps);
  std::string out, err;
  ASSERT_EQ(Run({"train", "--input", snaps, "--trees", "10", "--out", dir_ + "/m.mhm"}, &out, &err),
            kExitOk)
      << err;
  EXPECT_THAT(out, HasSubstr("rows=90 features=2"));
}

TEST_F(ScoreCliTest, TrainOverAFolderStopsAtABadFileUnlessKeepGoing) {
  const std::string snaps = dir_ + "/snaps";
  WriteSnapshots(snaps);
  std::string bad = FeatureCsv(500, 10);
  bad += "2026-01-01T00:09:00.000Z,9,m0,oops,3.0\n";
  WriteAll(snaps + "/f_5.csv", bad);
  std::string out, err;
  EXPECT_EQ(Run({"train", "--input", snaps, "--trees", "10", "--out", dir_ + "/m.mhm"}, &out, &err),
            kExitFailure);
  EXPECT_THAT(err, HasSubstr("f_5.csv"));
  EXPECT_THAT(err, HasSubstr("--keep-going"));
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/m.mhm"));
  EXPECT_EQ(
      Run({"train", "--input", snaps, "--trees", "10", "--keep-going", "--out", dir_ + "/m.mhm"},
          &out, &err),
      kExitFailure);
  EXPECT_THAT(err, HasSubstr("1 of 4 files failed"));
  EXPECT_THAT(out, HasSubstr("rows=90 features=2"));  // the three good files
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/m.mhm"));
}

}  // namespace
}  // namespace mh::app::test

namespace mh::app::test {
namespace {

// `simulate` writes the same rows in every format: Parquet (timestamp
// TIMESTAMP, values DOUBLE) equal to its CSV read back.
TEST_F(ScoreCliTest, SimulateWritesParquetWithTheCsvValues) {
  std::string out, err;
  const std::vector<std::string> common = {"simulate", "--duration", "0.05s", "--fs",
                                           "2000",     "--machines", "2"};
  std::vector<std::string> csv_args = common, pq_args = common;
  csv_args.insert(csv_args.end(), {"--out", dir_ + "/sim.csv"});
  pq_args.insert(pq_args.end(), {"--out", dir_ + "/sim.parquet"});
  ASSERT_EQ(Run(csv_args, &out, &err), kExitOk) << err;
  ASSERT_EQ(Run(pq_args, &out, &err), kExitOk) << err;
  const TableBatch csv = ReadTable(dir_ + "/sim.csv");
  const TableBatch pq = ReadTable(dir_ + "/sim.parquet");
  ASSERT_EQ(csv.rows, 200u);
  ASSERT_EQ(pq.rows, csv.rows);
  ASSERT_EQ(pq.columns.size(), 6u);
  EXPECT_EQ(pq.columns[0].info.kind, ValueKind::kTimestamp);
  EXPECT_EQ(pq.columns[0].ints, csv.columns[0].ints);
  EXPECT_EQ(pq.columns[1].strings, csv.columns[1].strings);
  for (std::size_t j = 3; j < 6; ++j) EXPECT_EQ(pq.columns[j].doubles, csv.columns[j].doubles);
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/sim.parquet.labels.csv"));

  std::vector<std::string> bad = common;
  bad.insert(bad.end(), {"--out", dir_ + "/sim.dat"});
  EXPECT_EQ(Run(bad, &out, &err), kExitUsage);
  EXPECT_THAT(err, HasSubstr("sim.dat"));
}

}  // namespace
}  // namespace mh::app::test

namespace mh::app::test {
namespace {

// The `timestamp` key through the one timestamp rule: epoch seconds and
// milliseconds become the same instants as the ISO text (RFC 3339 in CSV,
// TIMESTAMP in Parquet), and the unit chosen is logged; a column of epochs
// that fits no unit is an error naming the column.
TEST_F(ScoreCliTest, EpochTimestampsAreReadByTheOneRule) {
  const std::string iso = FeatureCsv(0, 40);
  std::string seconds = "timestamp" + iso.substr(iso.find(','), iso.find('\n') - iso.find(','));
  std::string millis = seconds;
  seconds += "\n";
  millis += "\n";
  std::string tiny = seconds;
  std::size_t pos = iso.find('\n') + 1;
  for (std::size_t i = 0; pos < iso.size(); ++i) {
    const std::size_t end = iso.find('\n', pos);
    const std::string rest = iso.substr(iso.find(',', pos), end - iso.find(',', pos));
    // Whole seconds only, so that epoch seconds are integers: rows 0, 4, 8...
    if (i % 4 == 0) {
      seconds += std::to_string(kStartSeconds + static_cast<std::int64_t>(i / 4)) + rest + "\n";
      tiny += std::to_string(12 + i) + rest + "\n";
    }
    millis +=
        std::to_string((kStartSeconds * 1000) + 250 * static_cast<std::int64_t>(i)) + rest + "\n";
    pos = end + 1;
  }
  WriteAll(dir_ + "/iso.csv", iso);
  WriteAll(dir_ + "/s.csv", seconds);
  WriteAll(dir_ + "/ms.csv", millis);
  WriteAll(dir_ + "/tiny.csv", tiny);
  std::string out, err, want;
  ASSERT_EQ(Score(dir_ + "/iso.csv", "-", &out, &err), kExitOk) << err;
  want = out;
  ASSERT_EQ(Score(dir_ + "/ms.csv", "-", &out, &err), kExitOk) << err;
  EXPECT_EQ(out, want);
  EXPECT_THAT(err, HasSubstr("milliseconds"));
  ASSERT_EQ(Score(dir_ + "/s.csv", dir_ + "/s.parquet", &out, &err), kExitOk) << err;
  EXPECT_THAT(err, HasSubstr("seconds"));
  const TableBatch pq = ReadTable(dir_ + "/s.parquet");
  ASSERT_EQ(pq.rows, 10u);
  EXPECT_EQ(pq.columns[0].info.kind, ValueKind::kTimestamp);
  EXPECT_EQ(pq.columns[0].ints[3], (kStartSeconds + 3) * 1000000000LL);
  EXPECT_EQ(Score(dir_ + "/tiny.csv", "-", &out, &err), kExitFailure);
  EXPECT_THAT(err, HasSubstr("'timestamp'"));
}

}  // namespace
}  // namespace mh::app::test
