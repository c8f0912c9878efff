// Parity with scikit-learn: models fitted by sklearn (tools/iforest_sklearn_export.py,
// run now) are imported and our Scorer must reproduce sklearn's score_samples,
// decision_function and predict on fresh rows.
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "iforest/model_io.h"
#include "iforest/scorer.h"
#include "iforest/sklearn_json.h"
#include "sklearn_cases.h"
#include "test_util.h"

namespace mh::iforest {
namespace {

using nlohmann::json;

class SklearnParityTest : public test::SklearnScriptTest<SklearnParityTest> {
 protected:
  static void SetUpTestSuite() {
    RunScript("iforest-parity", "iforest_sklearn_export.py", "export.json", "export.json");
  }
};

TEST_F(SklearnParityTest, ScoresDecisionsAndLabelsMatchSklearn) {
  ASSERT_NE(doc_, nullptr);
  const json& cases = (*doc_)["cases"];
  ASSERT_GE(cases.size(), 10u);
  test::SklearnTally tally;
  bool saw_subsets = false, saw_scaler = false;
  for (const json& c : cases) {
    const std::string name = c["name"];
    SCOPED_TRACE(name);
    Result<Model> model = ModelFromSklearnJson(c.dump());
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    saw_subsets = saw_subsets || !model->tree_features.empty();
    saw_scaler = saw_scaler || model->has_scaler;
    const auto rows = c["rows"].get<std::vector<std::vector<double>>>();
    for (const auto& row : rows) ASSERT_TRUE(CheckRow(*model, row).ok());
    Scorer scorer(*model);
    ASSERT_NO_FATAL_FAILURE(test::ExpectMatchesSklearn(scorer, c, &tally));
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
  EXPECT_GE(tally.on_offset, 1) << "no row exactly at the decision threshold";
  EXPECT_TRUE(saw_subsets);
  EXPECT_TRUE(saw_scaler);
  EXPECT_GT(tally.outliers, 0);
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
