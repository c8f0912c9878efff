#include "replay/table_file.h"

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "testing/test_paths.h"

namespace mh::replay {
namespace {

TEST(TableFile, RedactUrlHidesTheQuery) {
  EXPECT_EQ(RedactUrl("https://acct.blob.core.windows.net/c/f.parquet?sv=2024&sig=SECRET"),
            "https://acct.blob.core.windows.net/c/f.parquet?<redacted>");
  EXPECT_EQ(RedactUrl("/data/file.csv"), "/data/file.csv");
}

TEST(TableFile, IsHttpUrl) {
  EXPECT_TRUE(IsHttpUrl("http://x/y"));
  EXPECT_TRUE(IsHttpUrl("HTTPS://x/y"));
  EXPECT_FALSE(IsHttpUrl("file.csv"));
  EXPECT_FALSE(IsHttpUrl("ftp://x/y"));
}

TEST(TableFile, OpensCsvByContent) {
  const std::string dir = mh::testing::MakeTempDir("mh-tablefile");
  const std::string path = dir + "/t.txt";
  std::ofstream(path) << "a;b\n1,5;2\n";
  auto reader = OpenTableFile(path, {});
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  ASSERT_EQ((*reader)->columns().size(), 2u);
  TableBatch batch;
  ASSERT_TRUE((*reader)->Next(&batch).ok());
  ASSERT_EQ(batch.rows, 1u);
  EXPECT_EQ(batch.columns[0].doubles[0], 1.5);
}

TEST(TableFile, DirectoryIsNamedAsSuch) {
  const std::string dir = mh::testing::MakeTempDir("mh-tablefile-dir");
  for (const std::string& path : {dir, dir + "/sub.parquet"}) {
    if (path != dir) std::filesystem::create_directory(path);
    auto reader = OpenTableFile(path, {});
    ASSERT_FALSE(reader.ok());
    EXPECT_TRUE(reader.status().IsInvalidArgument()) << reader.status().ToString();
    EXPECT_EQ(reader.status().message(), path + ": is a directory");
  }
}

TEST(TableFile, ParquetMagicGoesToTheParquetReader) {
  // Not a valid Parquet file: whatever the Parquet reader's state, it must
  // not be read as CSV.
  auto reader = OpenTableBytes(std::string("PAR1garbage"), "x.bin", {});
  ASSERT_FALSE(reader.ok());
  EXPECT_TRUE(reader.status().IsNotSupported() || reader.status().IsCorruption())
      << reader.status().ToString();
}

TEST(TableFile, MissingFileIsNotFound) {
  auto reader = OpenTableFile("/nonexistent/x.csv", {});
  ASSERT_FALSE(reader.ok());
  EXPECT_TRUE(reader.status().IsNotFound());
}

TEST(TableFile, MalformedUrl) {
  auto body = FetchUrl("http://user@host/x?sig=SECRET", {});
  ASSERT_FALSE(body.ok());
  EXPECT_EQ(body.status().message().find("SECRET"), std::string::npos);
}

}  // namespace
}  // namespace mh::replay
