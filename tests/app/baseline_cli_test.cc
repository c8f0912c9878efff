// machine-health baseline list|show|reset|retrain|assign in-process
// (app::RunMain), on windows written by the SQLite sink: retraining from
// stored windows (card, rows, range, threshold by the default rule),
// versions, reset, assigning a scikit-learn .joblib, text and JSON output,
// and the exit codes (1 runtime, 2 usage).
#include <cmath>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "app/pipeline_options.h"
#include "core/time_util.h"
#include "iforest/model_io.h"
#include "iforest/scorer.h"
#include "score/baseline.h"
#include "sink/sqlite/baseline_store.h"
#include "sink/sqlite/sqlite_sink.h"
#include "testing/cli_run.h"
#include "testing/test_paths.h"

namespace mh::app {
namespace {

using mh::testing::RunCli;
using nlohmann::json;
using ::testing::HasSubstr;

constexpr std::int64_t kSecond = 1'000'000'000;
constexpr std::int64_t kT0 = 1'790'000'000 * kSecond;  // 2026-09-21T14:13:20Z
constexpr int kWindows = 400;

// The stored features of window i of machine m1 (deterministic).
std::vector<double> Stored(int i) {
  std::mt19937_64 rng(1000 + static_cast<std::uint64_t>(i));
  std::normal_distribution<double> n(0, 1);
  return {0.5 * std::exp(0.1 * n(rng)), 3 + 0.2 * n(rng), 0.1 * n(rng)};
}
const std::vector<std::string> kStored = {"rms_ax", "kurtosis_ax", "skewness_ax"};
// The model features of the baseline the test stores first.
const std::vector<std::string> kModel = {"log_rms_ax", "kurtosis_ax"};
std::vector<double> ModelRow(int i) {
  std::vector<double> s = Stored(i);
  return {std::log(s[0]), s[1]};
}

// ModelRow(i) of the stored window: the store keeps features in float32.
std::vector<double> StoredModelRow(int i) {
  std::vector<double> s = Stored(i);
  return {std::log(static_cast<double>(static_cast<float>(s[0]))),
          static_cast<double>(static_cast<float>(s[1]))};
}

score::LearnOptions DefaultLearn() {
  auto options = MakePipelineOptions(PipelineArgs{});
  EXPECT_TRUE(options.ok());
  return options->learn;
}

class BaselineCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = mh::testing::MakeTempDir("mh-baseline-cli");
    ASSERT_FALSE(dir_.empty());
    db_ = dir_ + "/m.db";
    auto sink = sink::OpenSqliteSink({db_});
    ASSERT_TRUE(sink.ok()) << sink.status().ToString();
    auto names = std::make_shared<const std::vector<std::string>>(kStored);
    std::vector<sink::WindowRecord> batch;
    for (int i = 0; i < kWindows; ++i) {
      sink::WindowRecord r;
      r.machine_id = "m1";
      r.window_start_ns = kT0 + i * kSecond;
      r.feature_names = names;
      r.features = Stored(i);
      batch.push_back(std::move(r));
    }
    ASSERT_TRUE((*sink)->Write(batch).ok());
    ASSERT_TRUE((*sink)->Close().ok());
    // Version 1: learned from the first 50 windows on the model features.
    score::LearnOptions learn = DefaultLearn();
    learn.learning_windows = 50;
    score::MachineScorer scorer("m1", kModel, learn);
    for (int i = 0; i < 50; ++i) ASSERT_TRUE(scorer.Observe(ModelRow(i), kT0 + i * kSecond).ok());
    ASSERT_FALSE(scorer.learning());
    auto store = sink::BaselineStore::Open({db_});
    ASSERT_TRUE(store.ok());
    ASSERT_EQ(*(*store)->Save(*scorer.baseline()), 1);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  json ShowJson(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"baseline", "show", "m1", "--db", db_, "--json"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto run = RunCli(args);
    EXPECT_EQ(run.code, 0) << run.err;
    return json::parse(run.out, nullptr, false);
  }

  std::string dir_;
  std::string db_;
};

// The reference: MachineScorer fed with the test's own model rows of
// windows [lo, hi) as the store keeps them, with the pipeline's default options.
std::shared_ptr<const score::Baseline> Reference(int lo, int hi) {
  score::LearnOptions learn = DefaultLearn();
  learn.learning_windows = 0;
  score::MachineScorer scorer("m1", kModel, learn);
  for (int i = lo; i < hi; ++i) {
    EXPECT_TRUE(scorer.Observe(StoredModelRow(i), kT0 + i * kSecond).ok());
  }
  EXPECT_TRUE(scorer.FinishLearning().ok());
  return scorer.baseline();
}

TEST_F(BaselineCliTest, RetrainsFromStoredWindowsInRange) {
  auto run = RunCli({"baseline", "retrain", "m1", "--db", db_, "--from",
                     FormatRfc3339(kT0 + 100 * kSecond, 0), "--to",
                     std::to_string((kT0 + 250 * kSecond) / 1'000'000)});  // epoch ms
  ASSERT_EQ(run.code, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr("retrained baseline v2 (active) from 150 stored windows"));
  json j = ShowJson();
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j["version"], 2);
  EXPECT_EQ(j["active"], true);
  EXPECT_EQ(j["origin"], "learned");
  EXPECT_EQ(j["card"]["rows"], 150);
  EXPECT_EQ(j["card"]["trained_from"], FormatRfc3339(kT0 + 100 * kSecond, 3));
  EXPECT_EQ(j["card"]["trained_to"], FormatRfc3339(kT0 + 249 * kSecond, 3));
  EXPECT_EQ(j["card"]["features"], json(kModel));  // the active baseline's features
  const score::ThresholdOptions rule = DefaultLearn().threshold;
  EXPECT_EQ(j["rule"], score::DescribeThreshold(rule));
  EXPECT_EQ(j["threshold_rule"]["name"], score::ThresholdRuleName(rule.rule));
  ASSERT_EQ(j["stats"].size(), 2u);
  EXPECT_EQ(j["stats"][0]["feature"], "log_rms_ax");

  // The same rows through MachineScorer give the same model and threshold.
  auto ref = Reference(100, 250);
  auto store = sink::BaselineStore::Open({db_});
  ASSERT_TRUE(store.ok());
  auto got = (*store)->Get("m1", 2);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(iforest::SerializeModel(*got->baseline->model), iforest::SerializeModel(*ref->model));
  EXPECT_EQ(got->baseline->threshold, ref->threshold);
  EXPECT_DOUBLE_EQ(j["threshold"].get<double>(), ref->threshold);
  // The rule (a low quantile of the training scores, less a margin) flags
  // at most a few of the training windows.
  iforest::Scorer scorer(*got->baseline->model);
  int below = 0;
  for (int i = 100; i < 250; ++i) {
    const double score = scorer.ScoreSamples(ModelRow(i)) - got->baseline->model->offset;
    below += score < got->baseline->threshold;
  }
  EXPECT_LE(below, 3);
  // Statistics of the training rows, against a direct computation.
  double mean = 0;
  for (int i = 100; i < 250; ++i) mean += StoredModelRow(i)[0];
  EXPECT_NEAR(j["stats"][0]["mean"].get<double>(), mean / 150, 1e-12);
}

TEST_F(BaselineCliTest, RetrainWithoutRangeUsesTheLatestLearningWindows) {
  auto run = RunCli({"baseline", "retrain", "m1", "--db", db_});
  ASSERT_EQ(run.code, 0) << run.err;
  json j = ShowJson();
  EXPECT_EQ(j["card"]["rows"], 300);  // the default learning_windows
  EXPECT_EQ(j["card"]["trained_from"], FormatRfc3339(kT0 + (kWindows - 300) * kSecond, 3));
  EXPECT_EQ(j["card"]["trained_to"], FormatRfc3339(kT0 + (kWindows - 1) * kSecond, 3));
  EXPECT_EQ(j["threshold"].get<double>(), Reference(kWindows - 300, kWindows)->threshold);
}

TEST_F(BaselineCliTest, ListShowAndReset) {
  auto list = RunCli({"baseline", "list", "--db", db_});
  ASSERT_EQ(list.code, 0) << list.err;
  EXPECT_THAT(list.out, HasSubstr("m1  v1  active"));
  EXPECT_THAT(list.out, HasSubstr("50 rows"));

  auto show = RunCli({"baseline", "show", "m1", "--db", db_});
  ASSERT_EQ(show.code, 0) << show.err;
  EXPECT_THAT(show.out, HasSubstr("version    1 (active)"));
  EXPECT_THAT(show.out,
              HasSubstr("rule       " + score::DescribeThreshold(DefaultLearn().threshold)));
  EXPECT_THAT(show.out, HasSubstr("log_rms_ax"));

  auto reset = RunCli({"baseline", "reset", "m1", "--db", db_});
  ASSERT_EQ(reset.code, 0) << reset.err;
  EXPECT_THAT(reset.out, HasSubstr("baseline v1 is no longer active"));
  auto gone = RunCli({"baseline", "show", "m1", "--db", db_});
  EXPECT_EQ(gone.code, 1);
  EXPECT_THAT(gone.err, HasSubstr("has no active baseline"));
  json v1 = ShowJson({"--version", "1"});
  EXPECT_EQ(v1["active"], false);

  auto js = RunCli({"baseline", "list", "--db", db_, "--json", "--machine", "m1"});
  ASSERT_EQ(js.code, 0) << js.err;
  json a = json::parse(js.out, nullptr, false);
  ASSERT_TRUE(a.is_array());
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0]["version"], 1);
  EXPECT_EQ(a[0]["active"], false);
  EXPECT_FALSE(a[0].contains("stats"));

  // After a reset, retrain still uses the latest version's features.
  auto retrain = RunCli({"baseline", "retrain", "m1", "--db", db_});
  ASSERT_EQ(retrain.code, 0) << retrain.err;
  EXPECT_EQ(ShowJson()["card"]["features"], json(kModel));
  EXPECT_EQ(ShowJson()["version"], 2);
  // assign --version brings a stored version back.
  auto back = RunCli({"baseline", "assign", "m1", "--version", "1", "--db", db_});
  ASSERT_EQ(back.code, 0) << back.err;
  EXPECT_EQ(back.out, "machine m1: baseline v1 is active again\n");
  EXPECT_EQ(ShowJson()["version"], 1);
  auto unknown = RunCli({"baseline", "assign", "m1", "--version", "9", "--db", db_});
  EXPECT_EQ(unknown.code, 1);
  EXPECT_THAT(unknown.err, HasSubstr("version 9"));
  auto none = RunCli({"baseline", "list", "--db", db_, "--machine", "m9"});
  EXPECT_EQ(none.code, 0);
  EXPECT_EQ(none.out, "no baselines\n");
}

TEST_F(BaselineCliTest, AssignsAScikitLearnJoblib) {
  const std::string joblib = mh::testing::SharedDir() + "/data/seed/iforest_final.joblib";
  if (!std::filesystem::exists(joblib)) GTEST_SKIP() << joblib << " not present";
  // m1's stored windows have none of the prototype's per-sample features.
  auto refused = RunCli({"baseline", "assign", "m1", "--model", joblib, "--db", db_});
  EXPECT_EQ(refused.code, 1);
  EXPECT_THAT(refused.err, HasSubstr("model features not computed for machine 'm1'"));
  // A machine not seen yet takes it.
  auto run = RunCli({"baseline", "assign", "p1", "--model", joblib, "--db", db_});
  ASSERT_EQ(run.code, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr("as baseline v1 (active)"));
  auto show = RunCli({"baseline", "show", "p1", "--db", db_, "--json"});
  ASSERT_EQ(show.code, 0) << show.err;
  json j = json::parse(show.out, nullptr, false);
  EXPECT_EQ(j["origin"], std::filesystem::absolute(joblib).lexically_normal().string());
  EXPECT_EQ(j["threshold_rule"]["name"], "auto");
  EXPECT_EQ(j["threshold"], 0.0);
  EXPECT_TRUE(j["stats"].empty());
  EXPECT_EQ(j["model"]["trees"], 100);
  EXPECT_FALSE(j["card"]["features"].empty());
}

TEST_F(BaselineCliTest, ExitCodes) {
  const std::string missing = dir_ + "/none.db";
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"baseline", "list", "--db", missing},
           {"baseline", "show", "m1", "--db", missing},
           {"baseline", "reset", "m1", "--db", missing},
           {"baseline", "retrain", "m1", "--db", missing},
           {"baseline", "assign", "m1", "--model", dir_ + "/x.mhm", "--db", missing}}) {
    auto run = RunCli(args);
    EXPECT_EQ(run.code, 1) << args[1];
    EXPECT_THAT(run.err, HasSubstr("no such database")) << args[1];
  }
  EXPECT_FALSE(std::filesystem::exists(missing));  // never created
  auto unknown = RunCli({"baseline", "retrain", "m7", "--db", db_});
  EXPECT_EQ(unknown.code, 1);
  EXPECT_THAT(unknown.err, HasSubstr("machine 'm7' has no stored windows"));
  auto empty = RunCli({"baseline", "retrain", "m1", "--db", db_, "--from", "0", "--to", "1000"});
  EXPECT_EQ(empty.code, 1);
  EXPECT_THAT(empty.err, HasSubstr("no usable stored window"));
  auto version = RunCli({"baseline", "show", "m1", "--db", db_, "--version", "7"});
  EXPECT_EQ(version.code, 1);
  EXPECT_THAT(version.err, HasSubstr("no baseline version 7"));
  auto no_model = RunCli({"baseline", "assign", "m1", "--model", dir_ + "/x.mhm", "--db", db_});
  EXPECT_EQ(no_model.code, 1);
  EXPECT_EQ(RunCli({"baseline", "retrain", "m1", "--db", db_, "--from", "yesterday"}).code, 2);
  EXPECT_EQ(
      RunCli({"baseline", "retrain", "m1", "--db", db_, "--from", "2000", "--to", "1000"}).code, 2);
  EXPECT_EQ(RunCli({"baseline", "show", "--db", db_}).code, 2);          // no machine
  EXPECT_EQ(RunCli({"baseline", "assign", "m1", "--db", db_}).code, 2);  // no --model
  EXPECT_EQ(RunCli({"baseline", "assign", "m1", "--model", dir_ + "/x.mhm", "--version", "1",
                    "--db", db_})
                .code,
            2);  // both
  EXPECT_EQ(RunCli({"baseline"}).code, 2);
}

}  // namespace
}  // namespace mh::app
