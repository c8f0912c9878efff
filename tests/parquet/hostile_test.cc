// Hostile input: truncated files at every offset, flipped bytes and forged
// footers must fail with an error (never crash, hang or allocate without
// bound; run under ASan/UBSan in CI).
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
