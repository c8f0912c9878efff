// `machine-health model import|info` and `machine-health score` end to end:
// runs the built binary (MH_BINARY) on the prototype's scikit-learn 1.7.2
// model and on hostile or bad input.
#include <cmath>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/strings.h"
#include "core/time_util.h"
#include "iforest/model_io.h"
#include "iforest/scorer.h"
#include "iforest/sklearn_import.h"
#include "test_util.h"

namespace mh::iforest {
namespace {

class ModelCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    binary_ = mh::testing::BinaryPath();
    if (binary_.empty() || !std::filesystem::exists(binary_)) {
      GTEST_SKIP() << "MH_BINARY is not set to the built machine-health binary";
    }
    MH_REQUIRE_SHARED_DATA();
    seed_ = mh::testing::SharedDir() + "/data/seed/iforest_final.joblib";
    dir_ = mh::testing::MakeTempDir("iforest-model-cli");
    // sensor_id,timestamp + the seed model's features (in another order) + an extra column.
    std::ostringstream csv;
    csv << "timestamp,mag,sensor_id,ax,ay,extra,ax_diff,ay_diff,mag_diff\n";
    for (int i = 0; i < 120; ++i) {
      const double k = i < 10 ? 6.0 : 1.0;
      csv << (1700000000 + i) << "," << FormatDouble(0.63 + k * 0.5 * std::sin(i * 1.3)) << ",s"
          << (i % 2) << "," << FormatDouble(k * 0.6 * std::cos(i * 0.7)) << ","
          << FormatDouble(k * 0.5 * std::sin(i * 0.9)) << ",x,"
          << FormatDouble(k * 0.4 * std::sin(i * 2.1)) << ","
          << FormatDouble(k * 0.9 * std::cos(i * 1.7)) << ","
          << FormatDouble(k * 0.3 * std::sin(i * 0.4)) << "\n";
    }
    test::WriteFile(dir_ + "/in.csv", csv.str());
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  // Runs `machine-health <args>`; returns the exit code, sets out/err.
  int Run(const std::string& args, std::string* out, std::string* err) {
    out->clear();
    const int rc = mh::testing::RunCommand(binary_ + " " + args + " 2>" + dir_ + "/err.txt", out);
    *err = test::ReadFile(dir_ + "/err.txt");
    return rc;
  }

  std::string binary_, seed_, dir_;
};

TEST_F(ModelCliTest, InfoShowsTheSeedModelsContract) {
  std::string out, err;
  ASSERT_EQ(Run("model info " + seed_, &out, &err), 0) << err;
  EXPECT_NE(out.find("features:    6 (unknown): ax, ay, mag, ax_diff, ay_diff, mag_diff"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("trees:       100"), std::string::npos) << out;
  EXPECT_NE(out.find("contamination=0.05"), std::string::npos) << out;
  EXPECT_NE(out.find("threshold:   0.56932965336144"), std::string::npos) << out;

  std::string ref;
  ASSERT_EQ(test::RunPython("iforest_seed_reference.py", "info " + seed_, &ref), 0);
  const nlohmann::json expected = nlohmann::json::parse(ref);
  std::string json_text;
  ASSERT_EQ(Run("model info --json " + seed_, &json_text, &err), 0) << err;
  const nlohmann::json info = nlohmann::json::parse(json_text);
  EXPECT_EQ(info["features"], expected["features"]);
  EXPECT_EQ(info["trees"], expected["n_estimators"]);
  EXPECT_EQ(info["offset"].get<double>(), expected["offset"].get<double>());
  EXPECT_EQ(info["threshold"].get<double>(), expected["threshold"].get<double>());
}

TEST_F(ModelCliTest, ImportThenScoreMatchesTheReferenceBitForBit) {
  std::string out, err;
  ASSERT_EQ(Run("model import " + seed_ + " --out " + dir_ + "/seed.mhm", &out, &err), 0) << err;
  Result<Model> m = LoadModel(dir_ + "/seed.mhm");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_TRUE(m->has_threshold);
  ASSERT_EQ(Run("model info " + dir_ + "/seed.mhm", &out, &err), 0) << err;
  EXPECT_NE(out.find("machine-health model file, version 2"), std::string::npos) << out;
  EXPECT_NE(out.find("ax, ay, mag, ax_diff, ay_diff, mag_diff"), std::string::npos) << out;

  std::string from_joblib, from_mhm;
  ASSERT_EQ(
      Run("score --model " + seed_ + " --input " + dir_ + "/in.csv --out -", &from_joblib, &err), 0)
      << err;
  ASSERT_EQ(Run("score --model " + dir_ + "/seed.mhm --input " + dir_ + "/in.csv --out " + dir_ +
                    "/out.csv",
                &out, &err),
            0)
      << err;
  from_mhm = test::ReadFile(dir_ + "/out.csv");
  EXPECT_EQ(from_joblib, from_mhm);

  std::string ignored;
  ASSERT_EQ(
      test::RunPython("iforest_seed_reference.py",
                      "score " + seed_ + " " + dir_ + "/in.csv " + dir_ + "/ref.csv", &ignored),
      0);
  std::istringstream ours(from_mhm), ref(test::ReadFile(dir_ + "/ref.csv"));
  std::string a, b;
  std::getline(ours, a);
  std::getline(ref, b);
  EXPECT_EQ(a, "timestamp,sensor_id,score,score_samples,anomaly");
  Scorer scorer(*m);
  int rows = 0, anomalies = 0;
  while (std::getline(ours, a) && std::getline(ref, b)) {
    const std::vector<std::string> o = Split(a, ','), r = Split(b, ',');
    ASSERT_EQ(o.size(), 5u);
    ASSERT_EQ(r.size(), 3u);
    // Epoch seconds in, RFC 3339 out (the one timestamp rule).
    EXPECT_EQ(o[0], FormatRfc3339((1700000000LL + rows) * 1000000000LL, 3));
    EXPECT_EQ(o[1], "s" + std::to_string(rows % 2));
    EXPECT_NEAR(*ParseDouble(o[2]), *ParseDouble(r[0]), 1e-12) << "row " << rows;
    EXPECT_NEAR(*ParseDouble(o[3]), *ParseDouble(r[1]), 1e-12) << "row " << rows;
    EXPECT_EQ(o[4], r[2]) << "row " << rows;
    anomalies += o[4] == "1";
    ++rows;
  }
  EXPECT_EQ(rows, 120);
  EXPECT_GT(anomalies, 0);
}

TEST_F(ModelCliTest, BadCellsAndMissingColumnsAreNamed) {
  std::string out, err;
  std::string csv = test::ReadFile(dir_ + "/in.csv");
  // Row 3 (line 4): ay becomes nan; then empty; then text.
  auto with_ay = [&](const std::string& value) {
    std::istringstream in(csv);
    std::string line, result;
    for (int n = 1; std::getline(in, line); ++n) {
      if (n == 4) {
        std::vector<std::string> f = Split(line, ',');
        f[4] = value;
        line.clear();
        for (std::size_t i = 0; i < f.size(); ++i) line += (i ? "," : "") + f[i];
      }
      result += line + "\n";
    }
    test::WriteFile(dir_ + "/bad.csv", result);
  };
  const std::string score = "score --model " + seed_ + " --input " + dir_ + "/bad.csv --out -";
  with_ay("nan");
  EXPECT_EQ(Run(score, &out, &err), 1);
  EXPECT_NE(err.find("bad.csv: row 3, column 'ay': not finite (NaN)"), std::string::npos) << err;
  with_ay("");
  EXPECT_EQ(Run(score, &out, &err), 1);
  EXPECT_NE(err.find("row 3, column 'ay': missing value"), std::string::npos) << err;
  with_ay("1.0x");
  EXPECT_EQ(Run(score, &out, &err), 1);
  // Not a number: the CSV reader names the line and the column.
  EXPECT_NE(err.find("bad.csv: line 4, column 5 ('ay'): '1.0x' is not a number"), std::string::npos)
      << err;

  test::WriteFile(dir_ + "/few.csv", "sensor_id,ax,mag\ns1,0.1,0.2\n");
  EXPECT_EQ(Run("score --model " + seed_ + " --input " + dir_ + "/few.csv --out -", &out, &err), 1);
  EXPECT_NE(err.find("missing feature column(s) 'ay', 'ax_diff', 'ay_diff', 'mag_diff'"),
            std::string::npos)
      << err;
  EXPECT_EQ(Run("score --model " + seed_ + " --input " + dir_ + "/few.csv --out - --features a,b",
                &out, &err),
            2);
  EXPECT_NE(err.find("--features lists 2 columns but the model has 6 features"), std::string::npos)
      << err;
}

TEST_F(ModelCliTest, UnnamedModelsUseFeatureNAndFeaturesMapsColumns) {
  // The seed model under generic names: a dict {"model": pipeline} carries none.
  Result<Model> m = ImportSklearnFile(seed_);
  ASSERT_TRUE(m.ok());
  for (std::size_t j = 0; j < m->feature_names.size(); ++j) {
    m->feature_names[j] = "feature_" + std::to_string(j + 1);
  }
  ASSERT_TRUE(SaveModel(*m, dir_ + "/generic.mhm").ok());
  std::string csv = test::ReadFile(dir_ + "/in.csv");
  std::string renamed = csv;
  renamed.replace(0, csv.find('\n'),
                  "timestamp,feature_3,sensor_id,feature_1,feature_2,extra,feature_4,feature_5,"
                  "feature_6");
  test::WriteFile(dir_ + "/generic.csv", renamed);
  std::string by_name, mapped, err;
  ASSERT_EQ(Run("score --model " + dir_ + "/generic.mhm --input " + dir_ + "/generic.csv --out -",
                &by_name, &err),
            0)
      << err;
  ASSERT_EQ(Run("score --model " + dir_ + "/generic.mhm --input " + dir_ +
                    "/in.csv --out - --features ax,ay,mag,ax_diff,ay_diff,mag_diff",
                &mapped, &err),
            0)
      << err;
  std::string direct;
  ASSERT_EQ(Run("score --model " + seed_ + " --input " + dir_ + "/in.csv --out -", &direct, &err),
            0);
  EXPECT_EQ(by_name, direct);
  EXPECT_EQ(mapped, direct);
}

TEST_F(ModelCliTest, HostilePicklesAreRefused) {
  test::WriteFile(dir_ + "/evil.joblib", std::string("\x80\x02"
                                                     "cos\nsystem\nq\x00.",
                                                     16));
  std::string out, err;
  EXPECT_EQ(Run("model info " + dir_ + "/evil.joblib", &out, &err), 1);
  EXPECT_NE(err.find("refusing global 'os.system'"), std::string::npos) << err;
  EXPECT_EQ(Run("model import " + dir_ + "/evil.joblib --out " + dir_ + "/x.mhm", &out, &err), 1);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/x.mhm"));
  EXPECT_EQ(
      Run("score --model " + dir_ + "/evil.joblib --input " + dir_ + "/in.csv --out -", &out, &err),
      1);
  EXPECT_NE(err.find("refusing global 'os.system'"), std::string::npos) << err;
}

}  // namespace
}  // namespace mh::iforest
