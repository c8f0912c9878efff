// ParquetWriter: round trips through our reader (all codecs, row group and
// page sizes, projection), statistics in the footer, option/input errors.
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include "parquet/internal/codec.h"
#include "parquet/parquet_reader.h"
#include "parquet/parquet_writer.h"
#include "testing/test_paths.h"
#include "writer_test_util.h"

namespace mh::parquet {
namespace {

using testutil::MakeBatch;
using testutil::Schema;

bool SameCell(const TableColumn& a, std::size_t i, const TableColumn& b, std::size_t j) {
  if (a.valid[i] != b.valid[j]) return false;
  if (!a.valid[i]) return true;
  switch (a.info.kind) {
    case ValueKind::kDouble: {
      double x = a.doubles[i], y = b.doubles[j];
      if (std::isnan(x)) return std::isnan(y);
      return std::memcmp(&x, &y, sizeof x) == 0;
    }
    case ValueKind::kString:
      return a.strings[i] == b.strings[j];
    default:
      return a.ints[i] == b.ints[j];
  }
}

Status WriteFile(const std::string& path, std::size_t rows, const ParquetWriteOptions& options) {
  MH_ASSIGN_OR_RETURN(std::unique_ptr<ParquetWriter> w,
                      ParquetWriter::Create(path, Schema(), options));
  for (std::size_t done = 0; done < rows; done += 100) {
    MH_RETURN_IF_ERROR(w->Write(
        MakeBatch(static_cast<std::int64_t>(done), std::min<std::size_t>(100, rows - done))));
  }
  return w->Close();
}

struct Params {
  ParquetCodec codec;
  std::size_t row_group_rows, page_rows;
  bool dictionary;
};

class WriterRoundTrip : public ::testing::TestWithParam<Params> {};

TEST_P(WriterRoundTrip, ReadsBackIdentically) {
  const Params& p = GetParam();
  std::string dir = testing::MakeTempDir("mh-parquet-writer");
  std::string path = dir + "/t.parquet";
  ParquetWriteOptions options;
  options.codec = p.codec;
  options.row_group_rows = p.row_group_rows;
  options.page_rows = p.page_rows;
  options.dictionary = p.dictionary;
  options.max_dictionary_entries = 50;  // "note" falls back to PLAIN
  const std::size_t kRows = 523;
  ASSERT_TRUE(WriteFile(path, kRows, options).ok());
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp-" + std::to_string(::getpid())));

  TableBatch want = MakeBatch(0, kRows);
  ParquetReadOptions ro;
  ro.batch_rows = 50;
  auto reader = OpenParquetTable(path, ro);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  ASSERT_EQ((*reader)->columns().size(), want.columns.size());
  for (std::size_t j = 0; j < want.columns.size(); ++j) {
    EXPECT_EQ((*reader)->columns()[j].name, want.columns[j].info.name);
    EXPECT_EQ((*reader)->columns()[j].kind, want.columns[j].info.kind);
  }
  EXPECT_EQ((*reader)->columns()[1].fraction_digits, 6);
  std::size_t row = 0;
  TableBatch got;
  while (true) {
    auto r = (*reader)->Next(&got);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    if (got.rows == 0) break;
    for (std::size_t i = 0; i < got.rows; ++i, ++row) {
      for (std::size_t j = 0; j < got.columns.size(); ++j) {
        ASSERT_TRUE(SameCell(want.columns[j], row, got.columns[j], i))
            << "row " << row << " column " << want.columns[j].info.name;
      }
    }
  }
  EXPECT_EQ(row, kRows);

  auto info = ReadParquetInfo(path);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->num_rows, static_cast<std::int64_t>(kRows));
  EXPECT_EQ(info->row_groups.size(), (kRows + p.row_group_rows - 1) / p.row_group_rows);
  // Footer null counts against the data.
  std::size_t first = 0;
  for (const auto& rg : info->row_groups) {
    for (std::size_t j = 0; j < rg.chunks.size(); ++j) {
      std::int64_t nulls = 0;
      for (std::size_t i = first; i < first + static_cast<std::size_t>(rg.num_rows); ++i) {
        nulls += want.columns[j].valid[i] ? 0 : 1;
      }
      EXPECT_TRUE(rg.chunks[j].has_null_count);
      EXPECT_EQ(rg.chunks[j].null_count, nulls);
    }
    first += static_cast<std::size_t>(rg.num_rows);
  }
  std::filesystem::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Layouts, WriterRoundTrip,
                         ::testing::Values(Params{ParquetCodec::kUncompressed, 1000, 64, true},
                                           Params{ParquetCodec::kSnappy, 100, 64, true},
                                           Params{ParquetCodec::kZstd, 7, 3, true},
                                           Params{ParquetCodec::kSnappy, 523, 1000, false},
                                           Params{ParquetCodec::kZstd, 200, 1, true}));

TEST(WriterTest, ProjectionReadsOnlyTheNamedColumns) {
  std::string dir = testing::MakeTempDir("mh-parquet-writer");
  std::string path = dir + "/p.parquet";
  ASSERT_TRUE(WriteFile(path, 250, ParquetWriteOptions{}).ok());
  ParquetReadOptions ro;
  ro.columns = {"rms", "sensor_id"};
  auto reader = OpenParquetTable(path, ro);
  ASSERT_TRUE(reader.ok());
  ASSERT_EQ((*reader)->columns().size(), 2u);
  EXPECT_EQ((*reader)->columns()[0].name, "rms");
  TableBatch want = MakeBatch(0, 250), got;
  ASSERT_TRUE((*reader)->Next(&got).ok());
  ASSERT_EQ(got.rows, 250u);
  for (std::size_t i = 0; i < 250; ++i) {
    EXPECT_TRUE(SameCell(want.columns[3], i, got.columns[0], i));
    EXPECT_TRUE(SameCell(want.columns[2], i, got.columns[1], i));
  }
  ro.columns = {"nope"};
  auto bad = OpenParquetTable(path, ro);
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(bad.status().IsInvalidArgument());
  EXPECT_NE(bad.status().message().find("'nope'"), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(WriterTest, RejectsBadSchemasAndBatches) {
  std::string dir = testing::MakeTempDir("mh-parquet-writer");
  std::string path = dir + "/bad.parquet";
  ParquetWriteOptions o;
  EXPECT_TRUE(ParquetWriter::Create(path, {}, o).status().IsInvalidArgument());
  EXPECT_TRUE(ParquetWriter::Create(path, {{"a", ValueKind::kInt, 9}, {"a", ValueKind::kInt, 9}}, o)
                  .status()
                  .IsInvalidArgument());
  EXPECT_TRUE(
      ParquetWriter::Create(path, {{"d", ValueKind::kDecimal, 9}}, o).status().IsInvalidArgument());
  EXPECT_TRUE(ParquetWriter::Create(path, {{"t", ValueKind::kTimestamp, 3}}, o)
                  .status()
                  .IsInvalidArgument());
  {
    auto w = ParquetWriter::Create(path, Schema(), o);
    ASSERT_TRUE(w.ok());
    TableBatch b = MakeBatch(0, 10);
    b.columns[3].doubles.pop_back();
    EXPECT_TRUE((*w)->Write(b).IsInvalidArgument());
    TableBatch c = MakeBatch(0, 10);
    c.columns[1].ints[0] = 1234;  // not whole microseconds
    c.columns[1].valid[0] = 1;
    Status s = (*w)->Write(c);
    EXPECT_TRUE(s.IsInvalidArgument());
    EXPECT_NE(s.message().find("'ts_us' row 0"), std::string::npos) << s.ToString();
    // Destroyed without Close: nothing left behind.
  }
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_TRUE(std::filesystem::is_empty(dir));
  std::filesystem::remove_all(dir);
}

// Page CRCs are IEEE CRC-32 (as zlib's crc32): the check value of
// "123456789", and zlib's value on buffers of every length up to 300 bytes
// and on a large one.
TEST(WriterTest, PageCrcIsZlibsCrc32) {
  const std::string check = "123456789";
  EXPECT_EQ(internal::Crc32(reinterpret_cast<const std::uint8_t*>(check.data()), check.size()),
            0xCBF43926u);
  std::string bytes(1 << 20, '\0');
  std::uint32_t x = 12345;
  for (char& c : bytes) {
    x = x * 1103515245u + 12345u;
    c = static_cast<char>(x >> 24);
  }
  const auto* p = reinterpret_cast<const std::uint8_t*>(bytes.data());
  for (std::size_t n = 0; n <= 300; ++n) {
    EXPECT_EQ(internal::Crc32(p + 1, n), crc32(0L, p + 1, static_cast<uInt>(n))) << n;
  }
  EXPECT_EQ(internal::Crc32(p, bytes.size()), crc32(0L, p, static_cast<uInt>(bytes.size())));
}

TEST(WriterTest, EmptyTableIsValid) {
  std::string dir = testing::MakeTempDir("mh-parquet-writer");
  std::string path = dir + "/empty.parquet";
  auto w = ParquetWriter::Create(path, Schema(), ParquetWriteOptions{});
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Close().ok());
  EXPECT_TRUE((*w)->Close().IsInvalidArgument());
  auto reader = OpenParquetTable(path, ParquetReadOptions{});
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  TableBatch b;
  ASSERT_TRUE((*reader)->Next(&b).ok());
  EXPECT_EQ(b.rows, 0u);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace mh::parquet
