// Parity with scikit-learn: models fitted by sklearn (tools/iforest_sklearn_export.py,
// run now) are imported and our Scorer must reproduce sklearn's score_samples,
// decision_function and predict on fresh rows.
#include <cmath>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "iforest/model_io.h"
#include "iforest/scorer.h"
#include "iforest/sklearn_json.h"
#include "test_util.h"

namespace mh::iforest {
namespace {

using nlohmann::json;

class SklearnParityTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(mh::testing::MakeTempDir("iforest-parity"));
    const std::string out = *dir_ + "/export.json";
    std::string ignored;
    const int rc = test::RunPython("iforest_sklearn_export.py", out, &ignored);
    ASSERT_EQ(rc, 0) << "tools/iforest_sklearn_export.py failed";
    doc_ = new json(json::parse(test::ReadFile(out)));
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(*dir_);
    delete dir_;
    delete doc_;
  }
  static std::string* dir_;
  static json* doc_;
};
std::string* SklearnParityTest::dir_ = nullptr;
json* SklearnParityTest::doc_ = nullptr;

TEST_F(SklearnParityTest, ScoresDecisionsAndLabelsMatchSklearn) {
  ASSERT_NE(doc_, nullptr);
  const json& cases = (*doc_)["cases"];
  ASSERT_GE(cases.size(), 10u);
  int at_threshold = 0;
  bool saw_subsets = false, saw_scaler = false, saw_outlier = false;
  for (const json& c : cases) {
    const std::string name = c["name"];
    SCOPED_TRACE(name);
    Result<Model> model = ModelFromSklearnJson(c.dump());
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    saw_subsets = saw_subsets || !model->tree_features.empty();
    saw_scaler = saw_scaler || model->has_scaler;
    Scorer scorer(*model);
    const auto rows = c["rows"].get<std::vector<std::vector<double>>>();
    const auto ss = c["score_samples"].get<std::vector<double>>();
    const auto df = c["decision_function"].get<std::vector<double>>();
    const auto pred = c["predict"].get<std::vector<int>>();
    ASSERT_EQ(rows.size(), ss.size());
    for (std::size_t i = 0; i < rows.size(); ++i) {
      ASSERT_TRUE(CheckRow(*model, rows[i]).ok());
      EXPECT_NEAR(scorer.ScoreSamples(rows[i]), ss[i], 1e-12) << "row " << i;
      const double ours = scorer.DecisionFunction(rows[i]);
      EXPECT_NEAR(ours, df[i], 1e-12) << "row " << i;
      EXPECT_EQ(scorer.Predict(rows[i]), pred[i]) << "row " << i;
      if (df[i] == 0.0) {
        ++at_threshold;
        EXPECT_EQ(ours, 0.0) << "row " << i << " sits on the offset in sklearn";
      }
      saw_outlier = saw_outlier || pred[i] == -1;
    }
    // The blocked batch path gives the single-row results bit for bit.
    Matrix x{rows.size(), rows[0].size(), {}};
    for (const auto& r : rows) x.data.insert(x.data.end(), r.begin(), r.end());
    std::vector<double> batch(x.rows);
    scorer.ScoreSamplesBatch(x, batch);
    for (std::size_t i = 0; i < rows.size(); ++i) {
      ASSERT_EQ(batch[i], scorer.ScoreSamples(rows[i])) << "row " << i;
    }
  }
  // The export must exercise the interesting paths, or the test proves little.
  EXPECT_GE(at_threshold, 1) << "no row exactly at the decision threshold";
  EXPECT_TRUE(saw_subsets);
  EXPECT_TRUE(saw_scaler);
  EXPECT_TRUE(saw_outlier);
}

TEST_F(SklearnParityTest, ImportedModelsSurviveTheModelFileBitForBit) {
  ASSERT_NE(doc_, nullptr);
  for (const json& c : (*doc_)["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    Result<Model> model = ModelFromSklearnJson(c.dump());
    ASSERT_TRUE(model.ok());
    const std::string path = *dir_ + "/model.mhm";
    ASSERT_TRUE(SaveModel(*model, path).ok());
    Result<Model> loaded = LoadModel(path);
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    Scorer a(*model), b(*loaded);
    for (const auto& row : c["rows"].get<std::vector<std::vector<double>>>()) {
      const double sa = a.DecisionFunction(row), sb = b.DecisionFunction(row);
      EXPECT_EQ(std::memcmp(&sa, &sb, sizeof sa), 0);
    }
  }
}

TEST(SklearnJsonTest, RejectsBrokenDocuments) {
  EXPECT_TRUE(ModelFromSklearnJson("not json").status().IsCorruption());
  EXPECT_TRUE(ModelFromSklearnJson("[]").status().IsCorruption());
  const std::string good =
      R"({"feature_names":["a"],"scaler":null,"max_samples":2,"offset":-0.5,)"
      R"("estimators_features":[],"trees":[{"children_left":[1,-1,-1],)"
      R"("children_right":[2,-1,-1],"feature":[0,-2,-2],"threshold":[0.5,-2,-2],)"
      R"("n_node_samples":[2,1,1]}]})";
  ASSERT_TRUE(ModelFromSklearnJson(good).ok());
  std::string missing = good;
  missing.replace(missing.find("\"offset\""), 8, "\"offzet\"");
  Result<Model> r = ModelFromSklearnJson(missing);
  EXPECT_TRUE(r.status().IsCorruption());
  EXPECT_NE(r.status().message().find("offset"), std::string::npos);
  std::string wrong_type = good;
  wrong_type.replace(wrong_type.find("[0.5"), 4, "[\"x\"");
  EXPECT_TRUE(ModelFromSklearnJson(wrong_type).status().IsCorruption());
  std::string cycle = good;
  cycle.replace(cycle.find("[1,-1,-1]"), 9, "[0,-1,-1]");
  EXPECT_TRUE(ModelFromSklearnJson(cycle).status().IsCorruption());
}

}  // namespace
}  // namespace mh::iforest
