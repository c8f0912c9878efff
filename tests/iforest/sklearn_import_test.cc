// Import of scikit-learn pickles: models saved now by Debian's scikit-learn
// (tools/iforest_pickle_cases.py: every shape, pickle protocols 2-5) must
// score exactly as scikit-learn does, and the prototype's scikit-learn 1.7.2
// model must import and match the independent numpy reference
// (tools/iforest_seed_reference.py, which reads it without scikit-learn).
#include "iforest/sklearn_import.h"

#include <cmath>
#include <filesystem>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/compression.h"
#include "core/strings.h"
#include "iforest/model_io.h"
#include "iforest/pickle_reader.h"
#include "iforest/scorer.h"
#include "sklearn_cases.h"
#include "test_util.h"

namespace mh::iforest {
namespace {

using nlohmann::json;

class SklearnImportTest : public test::SklearnScriptTest<SklearnImportTest> {
 protected:
  static void SetUpTestSuite() {
    RunScript("iforest-import", "iforest_pickle_cases.py", "", "cases.json");
  }
};

TEST_F(SklearnImportTest, ScoresMatchSklearnForEveryShapeAndProtocol) {
  ASSERT_NE(doc_, nullptr);
  const json& cases = (*doc_)["cases"];
  ASSERT_GE(cases.size(), 12u);
  test::SklearnTally tally;
  bool saw_subsets = false, saw_threshold = false;
  for (const json& c : cases) {
    const std::string name = c["name"];
    SCOPED_TRACE(name);
    Result<Model> model = ImportSklearnFile(c["file"]);
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    EXPECT_EQ(model->feature_names, c["features"].get<std::vector<std::string>>());
    if (c["threshold"].is_null()) {
      EXPECT_FALSE(model->has_threshold);
    } else {
      saw_threshold = true;
      EXPECT_TRUE(model->has_threshold);
      EXPECT_EQ(model->threshold, c["threshold"].get<double>());
    }
    saw_subsets = saw_subsets || !model->tree_features.empty();
    // Through the model file too: version 2 keeps names and threshold.
    const std::string path = *dir_ + "/" + name + ".mhm";
    ASSERT_TRUE(SaveModel(*model, path).ok());
    Result<Model> reloaded = LoadAnyModel(path);
    ASSERT_TRUE(reloaded.ok()) << reloaded.status().ToString();
    EXPECT_EQ(reloaded->feature_names, model->feature_names);
    EXPECT_EQ(reloaded->has_threshold, model->has_threshold);

    Scorer scorer(*reloaded);
    ASSERT_NO_FATAL_FAILURE(test::ExpectMatchesSklearn(scorer, c, &tally));
  }
  EXPECT_TRUE(saw_subsets);
  EXPECT_TRUE(saw_threshold);
  EXPECT_GT(tally.outliers, 0);
  RecordProperty("rows_on_offset", tally.on_offset);
}

TEST_F(SklearnImportTest, CardRecordsSklearnParameters) {
  Result<Model> m = ImportSklearnFile(*dir_ + "/pipeline_c003_p4.joblib");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_TRUE(m->has_scaler);
  EXPECT_EQ(m->card.rows, 500);
  EXPECT_EQ(m->card.seed, 2001u);
  EXPECT_NE(m->card.params.find("contamination=0.03"), std::string::npos) << m->card.params;
  EXPECT_NE(m->card.params.find("n_estimators=50"), std::string::npos) << m->card.params;
  EXPECT_NE(m->card.params.find("sklearn_version="), std::string::npos) << m->card.params;
}

// Issue 14: joblib.dump(..., compress=...) files (zlib, gzip, bz2, lzma, xz;
// by argument and by file name) import and score exactly as the same model
// saved uncompressed, and as scikit-learn scores the file it loads back.
TEST_F(SklearnImportTest, CompressedJoblibFilesScoreAsTheUncompressedModel) {
  ASSERT_NE(doc_, nullptr);
  const json& compressed = (*doc_)["compressed"];
  ASSERT_GE(compressed.size(), 11u);
  std::set<Compression> codecs;
  for (const json& c : compressed) {
    const std::string name = c["name"];
    SCOPED_TRACE(name);
    const json* base = nullptr;
    for (const json& b : (*doc_)["cases"]) {
      if (b["name"] == c["of"]) base = &b;
    }
    ASSERT_NE(base, nullptr);
    const std::string bytes = test::ReadFile(c["file"]);
    ASSERT_TRUE(LooksLikePickle(bytes));
    codecs.insert(DetectCompression(bytes));
    Result<Model> plain = ImportSklearnFile((*base)["file"]);
    ASSERT_TRUE(plain.ok()) << plain.status().ToString();
    Result<Model> model = LoadAnyModel(c["file"]);
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    EXPECT_EQ(model->feature_names, plain->feature_names);
    EXPECT_EQ(model->card.params, plain->card.params);
    Scorer ours(*model), reference(*plain);
    const auto rows = (*base)["rows"].get<std::vector<std::vector<double>>>();
    const auto ss = c["score_samples"].get<std::vector<double>>();
    ASSERT_EQ(rows.size(), ss.size());
    for (std::size_t i = 0; i < rows.size(); ++i) {
      EXPECT_EQ(ours.ScoreSamples(rows[i]), reference.ScoreSamples(rows[i])) << "row " << i;
      EXPECT_NEAR(ours.ScoreSamples(rows[i]), ss[i], 1e-12) << "row " << i;
    }
  }
  EXPECT_EQ(codecs,
            (std::set<Compression>{Compression::kZlib, Compression::kGzip, Compression::kBzip2,
                                   Compression::kXz, Compression::kLzma}));
}

// Damaged compressed models: clear errors naming the file, the codec and the
// offset (or the limit), never a crash or a huge allocation.
TEST_F(SklearnImportTest, DamagedCompressedJoblibFilesGiveClearErrors) {
  ASSERT_NE(doc_, nullptr);
  const std::string dir = *dir_ + "/damaged";
  std::filesystem::create_directories(dir);
  const std::string xz = test::ReadFile(*dir_ + "/pipeline_c003_p4_xz3.joblib");
  const std::string bz2 = test::ReadFile(*dir_ + "/pipeline_c003_p4_bz2_3.joblib");
  const std::string zlib = test::ReadFile(*dir_ + "/pipeline_c003_p4_zlib3.joblib");
  struct Case {
    std::string file, bytes, needle;
  };
  std::string flipped = bz2;
  for (std::size_t i = flipped.size() / 2; i < flipped.size() / 2 + 8; ++i) flipped[i] ^= 0x33;
  const std::vector<Case> cases = {
      {"truncated.joblib.xz", xz.substr(0, xz.size() / 2),
       "truncated.joblib.xz: pickle: xz-compressed joblib file: xz: truncated stream at input "
       "offset " +
           std::to_string(xz.size() / 2)},
      {"corrupt_bz2.joblib", flipped,
       "corrupt_bz2.joblib: pickle: bz2-compressed joblib file: bz2: corrupt data at input "
       "offset "},
      {"header_only.joblib", zlib.substr(0, 2),
       "header_only.joblib: pickle: zlib-compressed joblib file: zlib: truncated stream at "
       "input offset 2 (0 bytes decompressed)"},
      {"zf_short.joblib", "ZF0x10", "zf_short.joblib: pickle: truncated joblib ZF header"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.file);
    test::WriteFile(dir + "/" + c.file, c.bytes);
    Result<Model> m = LoadAnyModel(dir + "/" + c.file);
    ASSERT_FALSE(m.ok());
    EXPECT_TRUE(m.status().IsCorruption()) << m.status().ToString();
    EXPECT_NE(m.status().message().find(c.needle), std::string::npos) << m.status().ToString();
  }
  // A bomb: zlib data that inflates past the limit stops there, naming it.
  PickleLimits limits;
  limits.max_input_bytes = 256 << 10;  // the file is 157 KB, its pickle 465 KB
  Result<Model> bomb = ImportSklearnPickle(zlib, "bomb.joblib", limits);
  ASSERT_FALSE(bomb.ok());
  EXPECT_TRUE(bomb.status().IsCorruption());
  EXPECT_NE(bomb.status().message().find("bomb.joblib: pickle: zlib-compressed joblib file: zlib: "
                                         "decompressed data exceeds the limit of 262144 bytes"),
            std::string::npos)
      << bomb.status().ToString();
  std::filesystem::remove_all(dir);
}

TEST(SeedModelTest, ImportsAndMatchesTheIndependentReference) {
  MH_REQUIRE_SHARED_DATA();
  const std::string seed = mh::testing::SharedDir() + "/data/seed/iforest_final.joblib";
  Result<Model> m = ImportSklearnFile(seed);
  ASSERT_TRUE(m.ok()) << m.status().ToString();

  std::string info_text;
  ASSERT_EQ(test::RunPython("iforest_seed_reference.py", "info " + seed, &info_text), 0);
  const json info = json::parse(info_text);
  EXPECT_EQ(m->feature_names, info["features"].get<std::vector<std::string>>());
  EXPECT_EQ(m->trees.size(), info["n_estimators"].get<std::size_t>());
  EXPECT_EQ(m->offset, info["offset"].get<double>());
  EXPECT_EQ(m->max_samples, info["max_samples"].get<std::int64_t>());
  ASSERT_TRUE(m->has_threshold);
  EXPECT_EQ(m->threshold, info["threshold"].get<double>());
  EXPECT_EQ(m->scaler.mean, info["scaler_mean"].get<std::vector<double>>());
  EXPECT_EQ(m->scaler.scale, info["scaler_scale"].get<std::vector<double>>());

  // Rows around the training distribution (the scaler's mean and scale), some far out.
  const std::string dir = mh::testing::MakeTempDir("iforest-seed");
  std::ostringstream csv;
  for (std::size_t j = 0; j < m->feature_names.size(); ++j) {
    csv << (j ? "," : "") << m->feature_names[j];
  }
  csv << "\n";
  std::vector<std::vector<double>> rows;
  std::uint64_t state = 12345;
  auto uniform = [&state] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<double>(state >> 11) / 9007199254740992.0;
  };
  for (int i = 0; i < 400; ++i) {
    std::vector<double> row;
    const double spread = i < 40 ? 8.0 : 2.0;
    for (std::size_t j = 0; j < m->feature_names.size(); ++j) {
      row.push_back(m->scaler.mean[j] + spread * (2.0 * uniform() - 1.0) * m->scaler.scale[j]);
      csv << (j ? "," : "") << FormatDouble(row.back());
    }
    csv << "\n";
    rows.push_back(row);
  }
  test::WriteFile(dir + "/in.csv", csv.str());
  std::string ignored;
  ASSERT_EQ(test::RunPython("iforest_seed_reference.py",
                            "score " + seed + " " + dir + "/in.csv " + dir + "/ref.csv", &ignored),
            0);
  std::istringstream ref(test::ReadFile(dir + "/ref.csv"));
  std::string line;
  std::getline(ref, line);
  ASSERT_EQ(line, "score,score_samples,anomaly");
  Scorer scorer(*m);
  int anomalies = 0;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    ASSERT_TRUE(std::getline(ref, line));
    const std::vector<std::string> f = Split(line, ',');
    ASSERT_EQ(f.size(), 3u);
    EXPECT_NEAR(scorer.DecisionFunction(rows[i]), *ParseDouble(f[0]), 1e-12) << "row " << i;
    EXPECT_NEAR(scorer.ScoreSamples(rows[i]), *ParseDouble(f[1]), 1e-12) << "row " << i;
    EXPECT_EQ(scorer.Predict(rows[i]) == -1 ? "1" : "0", f[2]) << "row " << i;
    anomalies += f[2] == "1";
  }
  EXPECT_GT(anomalies, 0);
  EXPECT_LT(anomalies, 400);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace mh::iforest
