// Training quality on real recordings: FEMTO Bearing1_1 (trained on its
// healthy part) and CWRU normal vs faults, window features computed in numpy
// by tools/iforest_real_auc.py, which also gives scikit-learn's ROC AUC for 5
// seeds. Our models (Train, same parameters, 5 seeds) must reach the same
// mean AUC within 0.01; the AUC of our scores is computed by scikit-learn
// (tools/iforest_sklearn_auc.py auc).
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "iforest/scorer.h"
#include "iforest/train.h"
#include "test_util.h"

namespace mh::iforest {
namespace {

using nlohmann::json;

Matrix FromJson(const json& rows) {
  Matrix x;
  x.rows = rows.size();
  x.cols = rows.at(0).size();
  for (const json& r : rows) {
    for (const json& v : r) x.data.push_back(v.get<double>());
  }
  return x;
}

TEST(RealDataAucTest, MeanAucMatchesSklearnOnFemtoAndCwru) {
  MH_REQUIRE_SHARED_DATA();
  const std::string dir = mh::testing::MakeTempDir("iforest-real-auc");
  std::string ignored;
  ASSERT_EQ(
      test::RunPython("iforest_real_auc.py",
                      "gen " + mh::testing::SharedDir() + "/data " + dir + "/data.json", &ignored),
      0);
  const json doc = json::parse(test::ReadFile(dir + "/data.json"));
  ASSERT_EQ(doc["datasets"].size(), 4u);
  constexpr int kSeeds = 5;
  json scored;
  std::vector<std::string> names;
  std::vector<double> sklearn_mean;
  for (const json& ds : doc["datasets"]) {
    names.push_back(ds["name"]);
    const Matrix train = FromJson(ds["train"]);
    const Matrix test_rows = FromJson(ds["test"]);
    double mean = 0.0;
    for (const json& a : ds["sklearn_auc"]) mean += a.get<double>() / kSeeds;
    sklearn_mean.push_back(mean);
    for (int seed = 0; seed < kSeeds; ++seed) {
      TrainOptions o;
      o.n_estimators = 300;  // as the script's sklearn forests
      o.seed = static_cast<std::uint64_t>(seed);
      Result<Model> m = Train(train, ds["feature_names"].get<std::vector<std::string>>(), o);
      ASSERT_TRUE(m.ok()) << m.status().ToString();
      Scorer scorer(*m);
      std::vector<double> scores(test_rows.rows);
      scorer.ScoreSamplesBatch(test_rows, scores);
      scored["datasets"].push_back({{"labels", ds["labels"]}, {"scores", scores}});
    }
  }
  test::WriteFile(dir + "/scored.json", scored.dump());
  std::string out;
  ASSERT_EQ(test::RunPython("iforest_sklearn_auc.py", "auc " + dir + "/scored.json", &out), 0);
  std::istringstream in(out);
  for (std::size_t d = 0; d < names.size(); ++d) {
    double mean = 0.0;
    for (int s = 0; s < kSeeds; ++s) {
      double auc = 0.0;
      ASSERT_TRUE(in >> auc);
      mean += auc / kSeeds;
    }
    EXPECT_NEAR(mean, sklearn_mean[d], 0.01) << names[d];
    EXPECT_GT(mean, 0.85) << names[d];  // the faults are findable
    RecordProperty(names[d] + "_ours", std::to_string(mean));
    RecordProperty(names[d] + "_sklearn", std::to_string(sklearn_mean[d]));
    std::printf("%s: ours %.4f sklearn %.4f\n", names[d].c_str(), mean, sklearn_mean[d]);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace mh::iforest
