#include "replay/input_files.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "testing/test_paths.h"

namespace mh::replay {
namespace {

void Touch(const std::string& path) { std::ofstream(path) << "a\n1\n"; }

TEST(NaturalLess, NumbersCompareByValue) {
  std::vector<std::string> names = {"acc_10.csv", "acc_2.csv", "acc_1.csv",  "acc_02.csv",
                                    "b.csv",      "acc_.csv",  "acc_100.csv"};
  std::sort(names.begin(), names.end(), NaturalLess);
  const std::vector<std::string> expected = {"acc_.csv",   "acc_1.csv",   "acc_2.csv", "acc_02.csv",
                                             "acc_10.csv", "acc_100.csv", "b.csv"};
  EXPECT_EQ(names, expected);
}

TEST(NaturalLess, IsAStrictOrder) {
  const std::vector<std::string> names = {"a1", "a01", "a001", "a1b", "a", "", "1", "01", "a2"};
  for (const auto& x : names) {
    EXPECT_FALSE(NaturalLess(x, x)) << x;
    for (const auto& y : names) {
      if (x != y) {
        EXPECT_NE(NaturalLess(x, y), NaturalLess(y, x)) << x << " " << y;
      }
    }
  }
}

TEST(NaturalLess, HugeDigitRunsDoNotOverflow) {
  EXPECT_TRUE(NaturalLess("x99999999999999999999999", "x100000000000000000000000"));
  EXPECT_FALSE(NaturalLess("x100000000000000000000000", "x99999999999999999999999"));
}

TEST(ExpandInputs, FolderGivesItsDataFilesInNaturalOrder) {
  const std::string dir = mh::testing::MakeTempDir("mh-inputs");
  for (const char* n :
       {"acc_10.csv", "acc_2.csv", "acc_1.CSV", "t.parquet", "notes.md", ".hidden.csv"}) {
    Touch(dir + "/" + n);
  }
  std::filesystem::create_directory(dir + "/sub");
  Touch(dir + "/sub/acc_3.csv");
  auto in = ExpandInputs(dir);
  ASSERT_TRUE(in.ok()) << in.status().ToString();
  EXPECT_TRUE(in->multiple);
  const std::vector<std::string> expected = {dir + "/acc_1.CSV", dir + "/acc_2.csv",
                                             dir + "/acc_10.csv", dir + "/t.parquet"};
  EXPECT_EQ(in->files, expected);
  std::filesystem::remove_all(dir);
}

TEST(ExpandInputs, GlobMatchesInNaturalOrder) {
  const std::string dir = mh::testing::MakeTempDir("mh-inputs");
  for (const char* n : {"acc_10.csv", "acc_9.csv", "other.csv"}) Touch(dir + "/" + n);
  auto in = ExpandInputs(dir + "/acc_*.csv");
  ASSERT_TRUE(in.ok()) << in.status().ToString();
  EXPECT_TRUE(in->multiple);
  const std::vector<std::string> expected = {dir + "/acc_9.csv", dir + "/acc_10.csv"};
  EXPECT_EQ(in->files, expected);
  auto none = ExpandInputs(dir + "/zzz*.csv");
  ASSERT_FALSE(none.ok());
  EXPECT_TRUE(none.status().IsNotFound());
  EXPECT_NE(none.status().message().find("no file matches"), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(ExpandInputs, GlobMatchingAFolderIsRefused) {
  const std::string dir = mh::testing::MakeTempDir("mh-inputs");
  std::filesystem::create_directory(dir + "/run1");
  auto in = ExpandInputs(dir + "/run*");
  ASSERT_FALSE(in.ok());
  EXPECT_TRUE(in.status().IsInvalidArgument());
  EXPECT_NE(in.status().message().find("matches the folder"), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(ExpandInputs, FileAndUrlPassThroughMissingIsNotFound) {
  const std::string dir = mh::testing::MakeTempDir("mh-inputs");
  Touch(dir + "/a.csv");
  auto file = ExpandInputs(dir + "/a.csv");
  ASSERT_TRUE(file.ok());
  EXPECT_FALSE(file->multiple);
  EXPECT_EQ(file->files, std::vector<std::string>{dir + "/a.csv"});
  auto url = ExpandInputs("https://example.invalid/x.csv?sig=1");
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url->files.size(), 1u);
  auto missing = ExpandInputs(dir + "/b.csv");
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(missing.status().IsNotFound());
  std::filesystem::remove_all(dir);
}

TEST(ExpandInputs, FolderOfFoldersSuggestsAGlob) {
  const std::string dir = mh::testing::MakeTempDir("mh-inputs");
  std::filesystem::create_directory(dir + "/Bearing1_1");
  std::filesystem::create_directory(dir + "/Bearing2_1");
  auto in = ExpandInputs(dir);
  ASSERT_FALSE(in.ok());
  EXPECT_TRUE(in.status().IsInvalidArgument());
  EXPECT_NE(in.status().message().find("'Bearing1_1', 'Bearing2_1'"), std::string::npos)
      << in.status().message();
  EXPECT_NE(in.status().message().find("*/*.csv"), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(ExpandInputs, FemtoRunFolder) {
  MH_REQUIRE_SHARED_DATA();
  const std::string dir = mh::testing::SharedDir() + "/data/femto/Bearing1_1";
  auto in = ExpandInputs(dir);
  ASSERT_TRUE(in.ok()) << in.status().ToString();
  ASSERT_EQ(in->files.size(), 72u);
  EXPECT_EQ(in->files.front(), dir + "/acc_00001.csv");
  EXPECT_EQ(in->files.back(), dir + "/acc_02803.csv");
}

}  // namespace
}  // namespace mh::replay
