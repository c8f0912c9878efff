// Hostile input: truncated files at every offset, flipped bytes and forged
// footers must fail with an error (never crash, hang or allocate without
// bound; run under ASan/UBSan in CI).
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "parquet/parquet_reader.h"
#include "parquet/parquet_writer.h"
#include "testing/test_paths.h"
#include "writer_test_util.h"

namespace mh::parquet {
namespace {

std::string SmallFile(ParquetCodec codec) {
  std::string dir = testing::MakeTempDir("mh-parquet-hostile");
  std::string path = dir + "/h.parquet";
  ParquetWriteOptions o;
  o.codec = codec;
  o.row_group_rows = 40;
  o.page_rows = 16;
  auto w = ParquetWriter::Create(path, testutil::Schema(), o);
  EXPECT_TRUE(w.ok());
  EXPECT_TRUE((*w)->Write(testutil::MakeBatch(0, 100)).ok());
  EXPECT_TRUE((*w)->Close().ok());
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::remove(path.c_str());
  std::remove(dir.c_str());
  return ss.str();
}

// Opens and reads everything; returns the first error (OK if all read).
Status ReadAll(std::string bytes, std::int64_t* rows = nullptr) {
  ParquetReadOptions o;
  o.source_name = "mem.parquet";
  o.batch_rows = 33;
  MH_ASSIGN_OR_RETURN(std::unique_ptr<TableReader> r,
                      OpenParquetTableFromBuffer(std::move(bytes), o));
  TableBatch b;
  std::int64_t n = 0;
  while (true) {
    MH_ASSIGN_OR_RETURN(bool more, r->Next(&b));
    (void)more;
    if (b.rows == 0) break;
    n += static_cast<std::int64_t>(b.rows);
  }
  if (rows) *rows = n;
  return Status::OK();
}

// A file truncated after it was opened (a data logger rewriting a file of a
// `run --from dir:` folder): an IOError naming the file and the offset, never
// SIGBUS (the reader once memory-mapped its input).
TEST(HostileTest, FileTruncatedWhileReadIsAnErrorNotACrash) {
  const std::string dir = testing::MakeTempDir("mh-parquet-truncated");
  const std::string path = dir + "/t.parquet";
  ParquetWriteOptions wo;
  wo.row_group_rows = 40;
  wo.page_rows = 16;
  {
    auto w = ParquetWriter::Create(path, testutil::Schema(), wo);
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    ASSERT_TRUE((*w)->Write(testutil::MakeBatch(0, 1000)).ok());
    ASSERT_TRUE((*w)->Close().ok());
  }
  const auto full = static_cast<std::int64_t>(std::filesystem::file_size(path));
  // Truncated after the first batch (to half), and at once after opening (to
  // nothing).
  for (const std::int64_t keep : {full / 2, std::int64_t{0}}) {
    SCOPED_TRACE(keep);
    std::filesystem::copy_file(path, dir + "/r.parquet",
                               std::filesystem::copy_options::overwrite_existing);
    const std::string read_path = dir + "/r.parquet";
    ParquetReadOptions o;
    o.batch_rows = 40;
    auto r = OpenParquetTable(read_path, o);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    TableBatch b;
    std::int64_t rows = 0;
    if (keep > 0) {
      auto first = (*r)->Next(&b);
      ASSERT_TRUE(first.ok()) << first.status().ToString();
      rows += static_cast<std::int64_t>(b.rows);
      ASSERT_EQ(rows, 40);
    }
    std::filesystem::resize_file(read_path, static_cast<std::uintmax_t>(keep));
    Status failed = Status::OK();
    while (true) {
      auto more = (*r)->Next(&b);
      if (!more.ok()) {
        failed = more.status();
        break;
      }
      if (b.rows == 0) break;
      rows += static_cast<std::int64_t>(b.rows);
    }
    ASSERT_FALSE(failed.ok()) << rows << " rows read from a truncated file";
    EXPECT_TRUE(failed.IsIOError()) << failed.ToString();
    const std::string& m = failed.message();
    EXPECT_NE(m.find(read_path + ": read at offset "), std::string::npos) << m;
    EXPECT_NE(
        m.find("end of file (the file was " + std::to_string(full) + " bytes when opened, now " +
               std::to_string(keep) + " bytes: truncated while being read)"),
        std::string::npos)
        << m;
    EXPECT_LT(rows, 1000);
  }
  std::filesystem::remove_all(dir);
}

TEST(HostileTest, IntactFileReads) {
  std::int64_t rows = 0;
  ASSERT_TRUE(ReadAll(SmallFile(ParquetCodec::kSnappy), &rows).ok());
  EXPECT_EQ(rows, 100);
}

TEST(HostileTest, EveryTruncationFailsWithCorruption) {
  for (ParquetCodec codec : {ParquetCodec::kUncompressed, ParquetCodec::kZstd}) {
    std::string file = SmallFile(codec);
    for (std::size_t n = 0; n < file.size(); ++n) {
      Status s = ReadAll(file.substr(0, n));
      ASSERT_FALSE(s.ok()) << "truncated at " << n;
      EXPECT_TRUE(s.IsCorruption()) << s.ToString();
      EXPECT_NE(s.message().find("mem.parquet"), std::string::npos) << s.ToString();
    }
  }
}

TEST(HostileTest, FlippedBytesNeverCrash) {
  std::string file = SmallFile(ParquetCodec::kSnappy);
  int errors = 0;
  for (std::size_t i = 0; i < file.size(); ++i) {
    for (unsigned char mask : {0xffu, 0x01u, 0x80u}) {
      std::string bad = file;
      bad[i] = static_cast<char>(bad[i] ^ mask);
      Status s = ReadAll(bad);
      if (!s.ok()) {
        ++errors;
        EXPECT_FALSE(s.message().empty());
      }
    }
  }
  // Page bodies carry CRCs and the footer is dense: most flips are caught.
  EXPECT_GT(errors, static_cast<int>(file.size()));
}

TEST(HostileTest, ForgedFooterLengthIsCorruption) {
  std::string file = SmallFile(ParquetCodec::kSnappy);
  std::string bad = file;
  bad[bad.size() - 8] = '\xff';
  bad[bad.size() - 7] = '\xff';
  bad[bad.size() - 6] = '\xff';
  bad[bad.size() - 5] = '\x7f';
  Status s = ReadAll(bad);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_NE(s.message().find("footer length"), std::string::npos) << s.ToString();
}

TEST(HostileTest, HugeThriftListInFooterIsRefusedBeforeAllocating) {
  // A footer whose schema list claims 2^31 elements in a few bytes.
  std::string footer = "\x15\x02";           // field 1 (version) i32 = 1
  footer += "\x19\xfc\xff\xff\xff\xff\x07";  // field 2: list of structs, size varint 2^31-1
  footer += std::string(8, '\0');
  std::string file = "PAR1" + footer;
  std::uint32_t len = static_cast<std::uint32_t>(footer.size());
  for (int i = 0; i < 4; ++i) file.push_back(static_cast<char>((len >> (8 * i)) & 0xff));
  file += "PAR1";
  Status s = ReadAll(file);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_NE(s.message().find("offset"), std::string::npos) << s.ToString();
}

}  // namespace
}  // namespace mh::parquet
