// Helpers shared by the scikit-learn parity tests: a fixture whose test suite
// runs one tools/ script (Debian's scikit-learn, through the reference
// python) once and shares the JSON document of cases it writes, and the check
// of one case's rows against scikit-learn's own answers.
#ifndef MH_TESTS_IFOREST_SKLEARN_CASES_H_
#define MH_TESTS_IFOREST_SKLEARN_CASES_H_

#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "iforest/scorer.h"
#include "test_util.h"

namespace mh::iforest::test {

// Base of a fixture (`Suite`, the fixture itself, so that each suite has its
// own run): the suite's tests share the run's fresh temp dir `dir_` (removed
// after the suite) and the parsed document `doc_` (null when the script
// failed).
template <typename Suite>
class SklearnScriptTest : public ::testing::Test {
 protected:
  // For the fixture's SetUpTestSuite: makes `dir_`, runs tools/<script> with
  // the argument dir_/<arg> (`dir_` itself when `arg` is empty) and parses
  // dir_/<document>.
  static void RunScript(const std::string& temp_prefix, const std::string& script,
                        const std::string& arg, const std::string& document) {
    dir_ = new std::string(mh::testing::MakeTempDir(temp_prefix));
    std::string ignored;
    ASSERT_EQ(RunPython(script, arg.empty() ? *dir_ : *dir_ + "/" + arg, &ignored), 0)
        << "tools/" << script << " failed";
    doc_ = new nlohmann::json(nlohmann::json::parse(ReadFile(*dir_ + "/" + document)));
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(*dir_);
    delete dir_;
    delete doc_;
    dir_ = nullptr;
    doc_ = nullptr;
  }

  static inline std::string* dir_ = nullptr;
  static inline nlohmann::json* doc_ = nullptr;
};

// Counts over the rows of the cases checked.
struct SklearnTally {
  int on_offset = 0;  // rows whose sklearn decision_function is exactly 0
  int outliers = 0;   // rows sklearn predicts -1 for
};

// Expects `scorer` to reproduce the case's "score_samples" and
// "decision_function" (within 1e-12; exactly 0 where sklearn's decision is 0)
// and "predict" on its "rows"; adds to *tally.
inline void ExpectMatchesSklearn(Scorer& scorer, const nlohmann::json& c, SklearnTally* tally) {
  const auto rows = c["rows"].get<std::vector<std::vector<double>>>();
  const auto ss = c["score_samples"].get<std::vector<double>>();
  const auto df = c["decision_function"].get<std::vector<double>>();
  const auto pred = c["predict"].get<std::vector<int>>();
  ASSERT_EQ(rows.size(), ss.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    EXPECT_NEAR(scorer.ScoreSamples(rows[i]), ss[i], 1e-12) << "row " << i;
    const double ours = scorer.DecisionFunction(rows[i]);
    EXPECT_NEAR(ours, df[i], 1e-12) << "row " << i;
    EXPECT_EQ(scorer.Predict(rows[i]), pred[i]) << "row " << i;
    if (df[i] == 0.0) {
      ++tally->on_offset;
      EXPECT_EQ(ours, 0.0) << "row " << i << " sits on the offset in sklearn";
    }
    tally->outliers += pred[i] == -1;
  }
}

}  // namespace mh::iforest::test

#endif  // MH_TESTS_IFOREST_SKLEARN_CASES_H_
