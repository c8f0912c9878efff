// Native training: input validation, determinism, tree invariants, and
// quality and numerics checked against numpy / scikit-learn run now.
#include "iforest/train.h"

#include <cmath>
#include <filesystem>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/strings.h"
#include "iforest/model_io.h"
#include "iforest/scorer.h"
#include "test_util.h"

namespace mh::iforest {
namespace {

using nlohmann::json;

Matrix Gaussian(std::size_t n, std::size_t d, std::uint32_t seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  Matrix x{n, d, std::vector<double>(n * d)};
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < d; ++j) x.data[i * d + j] = normal(gen) * (j + 1.0) + 10.0 * j;
  }
  return x;
}

std::vector<std::string> Names(std::size_t d) {
  std::vector<std::string> names;
  for (std::size_t j = 0; j < d; ++j) names.push_back("f" + std::to_string(j));
  return names;
}

Matrix FromJson(const json& rows) {
  const auto v = rows.get<std::vector<std::vector<double>>>();
  Matrix x{v.size(), v.empty() ? 0 : v[0].size(), {}};
  for (const auto& r : v) x.data.insert(x.data.end(), r.begin(), r.end());
  return x;
}

std::string JsonArray(const std::vector<double>& v) {
  std::string s = "[";
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + FormatDouble(v[i]);
  return s + "]";
}

// Runs a numpy/sklearn snippet that reads the JSON in `input` as `doc` and
// prints its result; returns stdout.
std::string PythonEval(const std::string& code, const std::string& input) {
  const std::string dir = mh::testing::MakeTempDir("iforest-py");
  test::WriteFile(dir + "/in.json", input);
  test::WriteFile(dir + "/run.py",
                  "import json, sys\nimport numpy as np\n"
                  "from sklearn.preprocessing import StandardScaler\n"
                  "doc = json.load(open(sys.argv[1]))\n" +
                      code + "\n");
  std::string out;
  const int rc = mh::testing::RunCommand(
      mh::testing::ReferencePython() + " " + dir + "/run.py " + dir + "/in.json", &out);
  std::filesystem::remove_all(dir);
  EXPECT_EQ(rc, 0) << code;
  return out;
}

TEST(TrainTest, RejectsBadInput) {
  TrainOptions o;
  EXPECT_TRUE(Train(Matrix{}, {}, o).status().IsInvalidArgument());
  Matrix x = Gaussian(10, 2, 1);
  EXPECT_TRUE(Train(x, {"a"}, o).status().IsInvalidArgument());
  EXPECT_TRUE(Train(x, {"a", "a"}, o).status().IsInvalidArgument());
  EXPECT_TRUE(Train(x, {"a", ""}, o).status().IsInvalidArgument());
  x.data[3 * 2 + 1] = std::numeric_limits<double>::quiet_NaN();
  Result<Model> r = Train(x, {"a", "b"}, o);
  ASSERT_TRUE(r.status().IsInvalidArgument());
  EXPECT_EQ(r.status().message(), "row 3, column 1 (b) is nan");
  x.data[3 * 2 + 1] = -std::numeric_limits<double>::infinity();
  EXPECT_EQ(Train(x, {"a", "b"}, o).status().message(), "row 3, column 1 (b) is infinite");
}

TEST(TrainTest, RejectsBadOptions) {
  const Matrix x = Gaussian(50, 3, 2);
  auto bad = [&x](TrainOptions o, const std::string& mentions) {
    Result<Model> r = Train(x, Names(3), o);
    EXPECT_TRUE(r.status().IsInvalidArgument()) << mentions;
    EXPECT_NE(r.status().message().find(mentions), std::string::npos) << r.status().message();
  };
  TrainOptions o;
  o.n_estimators = 0;
  bad(o, "n_estimators");
  for (const char* ms : {"0", "-3", "1.5", "0.0", "abc", "", "nan"}) {
    o = {};
    o.max_samples = ms;
    bad(o, "max_samples");
  }
  for (double mf : {0.0, -1.0, 2.5, 4.0, std::numeric_limits<double>::quiet_NaN()}) {
    o = {};
    o.max_features = mf;
    bad(o, "max_features");
  }
  for (const char* c : {"0", "0.6", "x", "-0.1", ""}) {
    o = {};
    o.contamination = c;
    bad(o, "contamination");
  }
  o = {};
  o.threads = -1;
  bad(o, "threads");
}

TEST(TrainTest, ResolvesMaxSamplesLikeSklearn) {
  EXPECT_EQ(*ResolveMaxSamples("auto", 1000), 256);
  EXPECT_EQ(*ResolveMaxSamples("auto", 100), 100);
  EXPECT_EQ(*ResolveMaxSamples("100", 1000), 100);
  EXPECT_EQ(*ResolveMaxSamples("5000", 1000), 1000);  // capped at n
  EXPECT_EQ(*ResolveMaxSamples("0.5", 401), 200);     // int(0.5 * 401)
  EXPECT_EQ(*ResolveMaxSamples("1.0", 401), 401);
}

TEST(TrainTest, DeterministicForSeedWhateverTheThreads) {
  const Matrix x = Gaussian(500, 4, 3);
  TrainOptions o;
  o.n_estimators = 20;
  o.max_features = 0.5;
  o.contamination = "0.1";
  o.threads = 1;
  Result<Model> a = Train(x, Names(4), o);
  o.threads = 2;
  Result<Model> b = Train(x, Names(4), o);
  o.threads = 7;
  Result<Model> c = Train(x, Names(4), o);
  o.seed = 43;
  Result<Model> other = Train(x, Names(4), o);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok() && other.ok());
  EXPECT_EQ(SerializeModel(*a), SerializeModel(*b));
  EXPECT_EQ(SerializeModel(*a), SerializeModel(*c));
  EXPECT_NE(SerializeModel(*a), SerializeModel(*other));
}

TEST(TrainTest, TreesFollowTheIsolationTreeRules) {
  for (bool bootstrap : {false, true}) {
    const Matrix x = Gaussian(1000, 5, 4);
    TrainOptions o;
    o.n_estimators = 30;
    o.max_samples = "100";
    o.max_features = 3;
    o.bootstrap = bootstrap;
    o.standardize = false;
    Result<Model> m = Train(x, Names(5), o);
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(m->max_samples, 100);
    ASSERT_EQ(m->tree_features.size(), 30u);
    const int max_depth = 7;  // ceil(log2(100))
    for (std::size_t t = 0; t < m->trees.size(); ++t) {
      const Tree& tree = m->trees[t];
      EXPECT_EQ(m->tree_features[t].size(), 3u);
      if (bootstrap) {
        EXPECT_LE(tree.n_node_samples[0], 100.0);  // distinct rows of 100 draws
        EXPECT_GT(tree.n_node_samples[0], 50.0);
      } else {
        EXPECT_EQ(tree.n_node_samples[0], 100.0);
      }
      for (std::size_t i = 0; i < tree.size(); ++i) {
        EXPECT_LE(tree.depth[i], max_depth);
        if (tree.left[i] < 0) {
          // A leaf: at max depth, or a single row (Gaussian data has no ties).
          EXPECT_TRUE(tree.depth[i] == max_depth || tree.n_node_samples[i] == 1.0);
          continue;
        }
        EXPECT_EQ(tree.n_node_samples[tree.left[i]] + tree.n_node_samples[tree.right[i]],
                  tree.n_node_samples[i]);
        EXPECT_LT(tree.feature[i], 3);
      }
    }
  }
}

TEST(TrainTest, ConstantFeaturesAreNeverSplitAndDuplicatesEndInLeaves) {
  // Column 0 is constant; column 1 takes two values, so a tree can only split
  // once on column 1 and then every node is constant in all features.
  Matrix x{200, 2, {}};
  for (int i = 0; i < 200; ++i) {
    x.data.push_back(5.0);
    x.data.push_back(i % 2 ? 1.0 : 2.0);
  }
  TrainOptions o;
  o.n_estimators = 10;
  Result<Model> m = Train(x, {"c", "b"}, o);
  ASSERT_TRUE(m.ok());
  for (const Tree& tree : m->trees) {
    ASSERT_EQ(tree.size(), 3u);
    EXPECT_EQ(tree.feature[0], 1);
    EXPECT_EQ(tree.n_node_samples[1] + tree.n_node_samples[2], tree.n_node_samples[0]);
  }
}

TEST(TrainTest, ScalerMatchesSklearnStandardScaler) {
  Matrix x = Gaussian(300, 4, 5);
  for (std::size_t i = 0; i < x.rows; ++i) x.data[i * 4 + 2] = 1e6 + 0.1;  // constant column
  TrainOptions o;
  o.n_estimators = 5;
  Result<Model> m = Train(x, Names(4), o);
  ASSERT_TRUE(m.ok());
  ASSERT_TRUE(m->has_scaler);
  json in;
  std::vector<std::vector<double>> rows;
  for (std::size_t i = 0; i < x.rows; ++i) rows.emplace_back(x.Row(i).begin(), x.Row(i).end());
  in["x"] = rows;
  std::istringstream out(
      PythonEval("s = StandardScaler().fit(np.array(doc['x']))\n"
                 "for v in list(s.mean_) + list(s.scale_): print(repr(float(v)))",
                 in.dump()));
  for (std::size_t j = 0; j < 4; ++j) {
    double mean = 0.0;
    out >> mean;
    EXPECT_NEAR(m->scaler.mean[j], mean, 1e-12 * std::max(1.0, std::fabs(mean)));
  }
  for (std::size_t j = 0; j < 4; ++j) {
    double scale = 0.0;
    out >> scale;
    EXPECT_NEAR(m->scaler.scale[j], scale, 1e-12 * scale) << j;
  }
  EXPECT_EQ(m->scaler.scale[2], 1.0);
}

TEST(TrainTest, PercentileMatchesNumpy) {
  std::mt19937 gen(6);
  std::uniform_real_distribution<double> u(-1.0, 0.0);
  const std::vector<double> qs = {0.0, 3.0, 3.0000000000000004, 10.0, 50.0, 97.5, 100.0};
  std::vector<std::vector<double>> vectors;
  for (std::size_t n : {1u, 2u, 7u, 100u, 301u, 1000u}) {
    vectors.emplace_back(n);
    for (double& e : vectors.back()) e = u(gen);
  }
  json in = vectors;
  std::istringstream out(PythonEval(
      "for v in doc:\n  for q in " + JsonArray(qs) + ": print(repr(float(np.percentile(v, q))))",
      in.dump()));
  for (const auto& v : vectors) {
    for (double q : qs) {
      double expected = 0.0;
      ASSERT_TRUE(out >> expected);
      EXPECT_EQ(Percentile(v, q), expected) << "n=" << v.size() << " q=" << q;
    }
  }
}

TEST(TrainTest, ContaminationOffsetIsNumpyPercentileOfTrainingScores) {
  const Matrix x = Gaussian(801, 3, 7);
  TrainOptions o;
  o.n_estimators = 25;
  o.contamination = "0.05";
  Result<Model> m = Train(x, Names(3), o);
  ASSERT_TRUE(m.ok());
  Scorer scorer(*m);
  std::vector<double> scores(x.rows);
  int outliers = 0;
  for (std::size_t i = 0; i < x.rows; ++i) {
    scores[i] = scorer.ScoreSamples(x.Row(i));
    outliers += scorer.Predict(x.Row(i)) == -1;
  }
  const double expected = std::stod(
      PythonEval("print(repr(float(np.percentile(doc, 100.0 * 0.05))))", JsonArray(scores)));
  EXPECT_EQ(m->offset, expected);
  // 5% of 801 rows lie strictly below the 5th percentile (up to ties).
  EXPECT_NEAR(outliers, 40, 2);
}

TEST(TrainTest, RocAucMatchesSklearnOnPlantedOutliers) {
  const std::string dir = mh::testing::MakeTempDir("iforest-auc");
  std::string ignored;
  ASSERT_EQ(test::RunPython("iforest_sklearn_auc.py", "gen " + dir + "/data.json 11 12 13 14 15",
                            &ignored),
            0);
  const json doc = json::parse(test::ReadFile(dir + "/data.json"));
  json scored;
  std::vector<double> sklearn_auc;
  for (const json& ds : doc["datasets"]) {
    const Matrix train = FromJson(ds["train"]);
    const Matrix test_rows = FromJson(ds["test"]);
    TrainOptions o;
    o.n_estimators = 300;  // as the script's sklearn forest
    o.seed = ds["seed"].get<std::uint64_t>();
    Result<Model> m = Train(train, Names(train.cols), o);
    ASSERT_TRUE(m.ok());
    Scorer scorer(*m);
    std::vector<double> scores(test_rows.rows);
    scorer.ScoreSamplesBatch(test_rows, scores);
    scored["datasets"].push_back({{"labels", ds["labels"]}, {"scores", scores}});
    sklearn_auc.push_back(ds["sklearn_auc"].get<double>());
  }
  test::WriteFile(dir + "/scored.json", scored.dump());
  std::string out;
  ASSERT_EQ(test::RunPython("iforest_sklearn_auc.py", "auc " + dir + "/scored.json", &out), 0);
  std::istringstream in(out);
  double sum_diff = 0.0;
  for (std::size_t s = 0; s < sklearn_auc.size(); ++s) {
    double ours = 0.0;
    ASSERT_TRUE(in >> ours);
    EXPECT_GT(ours, 0.8) << "seed " << s;  // the outliers are findable
    EXPECT_NEAR(ours, sklearn_auc[s], 0.01) << "dataset " << s;
    sum_diff += ours - sklearn_auc[s];
  }
  EXPECT_LT(std::fabs(sum_diff / 5.0), 0.005);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace mh::iforest
