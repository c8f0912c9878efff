// `machine-health train` end to end: runs the built binary (MH_BINARY).
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "core/strings.h"
#include "core/time_util.h"
#include "iforest/model_io.h"
#include "test_util.h"

namespace mh::iforest {
namespace {

class TrainCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    binary_ = mh::testing::BinaryPath();
    if (binary_.empty() || !std::filesystem::exists(binary_)) {
      GTEST_SKIP() << "MH_BINARY is not set to the built machine-health binary";
    }
    dir_ = mh::testing::MakeTempDir("iforest-cli");
    std::string csv = "window_start,machine_id,rms,kurtosis\n";
    for (int i = 0; i < 200; ++i) {
      csv += std::to_string(1000 * i) + ",m" + std::to_string(i % 3) + "," +
             std::to_string(1.0 + 0.01 * (i % 17)) + "," + std::to_string(3.0 + 0.1 * (i % 7)) +
             "\n";
    }
    test::WriteFile(dir_ + "/f.csv", csv);
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  // Runs `machine-health train <args>`; returns the exit code, fills out/err.
  int Train(const std::string& args, std::string* out, std::string* err) {
    const int rc =
        mh::testing::RunCommand(binary_ + " train " + args + " 2>" + dir_ + "/err.txt", out);
    *err = test::ReadFile(dir_ + "/err.txt");
    return rc;
  }

  std::string binary_, dir_;
};

TEST_F(TrainCliTest, TrainsAndWritesALoadableModel) {
  std::string out, err;
  ASSERT_EQ(Train("--input " + dir_ + "/f.csv --out " + dir_ + "/m.mhm --trees 10 --seed 7 " +
                      "--contamination 0.05 --threads 2",
                  &out, &err),
            0)
      << err;
  EXPECT_EQ(out.rfind("trained " + dir_ + "/m.mhm: rows=200 features=2 trees=10 offset=", 0), 0u)
      << out;
  Result<Model> m = LoadModel(dir_ + "/m.mhm");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->feature_names, (std::vector<std::string>{"rms", "kurtosis"}));
  EXPECT_TRUE(m->has_scaler);
  EXPECT_EQ(m->trees.size(), 10u);
  EXPECT_EQ(m->card.source, dir_ + "/f.csv");
  EXPECT_EQ(m->card.rows, 200);
  EXPECT_EQ(m->card.seed, 7u);
  EXPECT_TRUE(ParseInstant(m->card.created).ok()) << m->card.created;
  EXPECT_NE(m->card.params.find("contamination=0.05"), std::string::npos);
  EXPECT_NE(m->card.metrics.find("train_outlier_fraction="), std::string::npos);
  EXPECT_NE(out.find("offset=" + FormatDouble(m->offset)), std::string::npos) << out;
}

TEST_F(TrainCliTest, SelectsFeaturesAndScaler) {
  std::string out, err;
  ASSERT_EQ(Train("--input " + dir_ + "/f.csv --out " + dir_ + "/m.mhm --trees 3 " +
                      "--features kurtosis --no-scaler --max-samples 0.5",
                  &out, &err),
            0)
      << err;
  Result<Model> m = LoadModel(dir_ + "/m.mhm");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->feature_names, std::vector<std::string>{"kurtosis"});
  EXPECT_FALSE(m->has_scaler);
  EXPECT_EQ(m->max_samples, 100);
}

TEST_F(TrainCliTest, UsageErrorsExitTwo) {
  std::string out, err;
  const std::string base = "--input " + dir_ + "/f.csv --out " + dir_ + "/m.mhm ";
  EXPECT_EQ(Train(base + "--features rms,vibe,temp", &out, &err), 2);
  EXPECT_NE(err.find("'vibe', 'temp'"), std::string::npos) << err;
  for (const char* bad :
       {"--trees 0", "--trees x", "--max-samples 0", "--max-samples 2.5", "--max-features 0",
        "--max-features 3", "--contamination 0.9", "--threads -1", "--seed -4"}) {
    EXPECT_EQ(Train(base + bad, &out, &err), 2) << bad;
  }
  EXPECT_EQ(Train("--out " + dir_ + "/m.mhm", &out, &err), 2);  // --input required
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/m.mhm"));
}

TEST_F(TrainCliTest, BadCellsExitOneNamingLineAndColumn) {
  std::string out, err;
  const std::string csv = "window_start,rms,kurtosis\n0,1.0,2.0\n1,1.5,oops\n2,,2.0\n";
  test::WriteFile(dir_ + "/bad.csv", csv);
  EXPECT_EQ(Train("--input " + dir_ + "/bad.csv --out " + dir_ + "/m.mhm", &out, &err), 1);
  // A cell that is not a number: the CSV reader names line and column.
  EXPECT_NE(err.find(dir_ + "/bad.csv: line 3, column 3 ('kurtosis'): 'oops' is not a number"),
            std::string::npos)
      << err;
  test::WriteFile(dir_ + "/empty.csv", "window_start,rms\n0,1.0\n1,\n");
  EXPECT_EQ(Train("--input " + dir_ + "/empty.csv --out " + dir_ + "/m.mhm", &out, &err), 1);
  // Empty, NaN and infinite cells: the 1-based data row and the column.
  EXPECT_NE(err.find("empty.csv: row 2, column 'rms': missing value"), std::string::npos) << err;
  test::WriteFile(dir_ + "/nan.csv", "rms\n1.0\nnan\n");
  EXPECT_EQ(Train("--input " + dir_ + "/nan.csv --out " + dir_ + "/m.mhm", &out, &err), 1);
  EXPECT_NE(err.find("nan.csv: row 2, column 'rms': not finite (NaN)"), std::string::npos) << err;
  test::WriteFile(dir_ + "/short.csv", "rms,kurtosis\n1.0,2.0\n3.0\n");
  EXPECT_EQ(Train("--input " + dir_ + "/short.csv --out " + dir_ + "/m.mhm", &out, &err), 1);
  EXPECT_NE(err.find("short.csv: line 3: 1 fields, expected 2"), std::string::npos) << err;
  EXPECT_EQ(Train("--input " + dir_ + "/missing.csv --out " + dir_ + "/m.mhm", &out, &err), 1);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/m.mhm"));
}

}  // namespace
}  // namespace mh::iforest
