// `score --from` names waveform features by the one option --names
// default|prototype (app/pipeline_options.h); --feature-names
// prototype|library is its deprecated spelling. In-process (app::RunMain).
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "app/command.h"
#include "core/strings.h"
#include "replay/event_json.h"
#include "score_cli_test.h"
#include "testing/cli_run.h"

namespace mh::app::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class ScoreNamesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = mh::testing::MakeTempDir("mh-score-names");
    ASSERT_FALSE(dir_.empty());
    // A model of the features `features` computes from a sine on channel ax.
    std::string csv = "ax\n";
    for (int i = 0; i < 64 * 40; ++i)
      csv += FormatDouble(std::sin(i * 0.7) + 0.01 * (i % 7)) + "\n";
    WriteAll(dir_ + "/samples.csv", csv);
    ASSERT_EQ(Run({"features", "--input", dir_ + "/samples.csv", "--fs", "1000", "--channels", "ax",
                   "--window", "64", "--out", dir_ + "/feats.csv"}),
              kExitOk)
        << err_;
    ASSERT_EQ(Run({"train", "--input", dir_ + "/feats.csv", "--trees", "20", "--out",
                   dir_ + "/model.mhm"}),
              kExitOk)
        << err_;
    std::string events;
    for (int e = 0; e < 3; ++e) {
      std::vector<std::vector<double>> samples(1);
      for (int i = 0; i < 64; ++i) samples[0].push_back(std::sin(i * 0.7));
      const std::vector<std::string> channels = {"ax"};
      replay::AppendWaveformEventJson({"s1", 1767225600.0 + e, 1000, channels, samples}, &events);
      events += "\n";
    }
    WriteAll(dir_ + "/events.jsonl", events);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  int Run(const std::vector<std::string>& args) {
    const mh::testing::CliRun run = mh::testing::RunCli(args);
    err_ = run.err;
    return run.code;
  }
  // Scores the events into jsonl:<name> with `extra`; the records' text.
  std::string Score(const std::string& name, const std::vector<std::string>& extra, int* rc) {
    std::vector<std::string> args = {"score",
                                     "--model",
                                     dir_ + "/model.mhm",
                                     "--from",
                                     "jsonl:" + dir_ + "/events.jsonl",
                                     "--to",
                                     "jsonl:" + dir_ + "/" + name};
    args.insert(args.end(), extra.begin(), extra.end());
    *rc = Run(args);
    return std::filesystem::exists(dir_ + "/" + name) ? ReadAll(dir_ + "/" + name) : "";
  }

  std::string dir_, err_;
};

TEST_F(ScoreNamesTest, DefaultNamesAreTheLibrarysAsInEveryCommand) {
  int rc = 0;
  const std::string out = Score("default.jsonl", {}, &rc);
  ASSERT_EQ(rc, kExitOk) << err_;
  EXPECT_THAT(out, HasSubstr("\"band_energy_0_200_ax\""));
  EXPECT_THAT(out, Not(HasSubstr("bandE")));
  EXPECT_THAT(out, HasSubstr("\"score\""));  // the model matched the features
}

TEST_F(ScoreNamesTest, NamesPrototypeGivesThePrototypesFieldNames) {
  int rc = 0;
  const std::string out = Score("prototype.jsonl", {"--names", "prototype"}, &rc);
  ASSERT_EQ(rc, kExitOk) << err_;
  EXPECT_THAT(out, HasSubstr("\"bandE0_200_ax\""));
  EXPECT_THAT(out, Not(HasSubstr("band_energy")));
  // A model trained on the library's names still scores them.
  EXPECT_THAT(out, HasSubstr("\"score\""));
}

TEST_F(ScoreNamesTest, FeatureNamesIsADeprecatedSpellingOfNames) {
  int rc = 0;
  std::string out = Score("old.jsonl", {"--feature-names", "prototype"}, &rc);
  ASSERT_EQ(rc, kExitOk) << err_;
  EXPECT_THAT(out, HasSubstr("\"bandE0_200_ax\""));
  EXPECT_THAT(err_, HasSubstr("--feature-names is deprecated: use --names"));
  out = Score("library.jsonl", {"--feature-names", "library"}, &rc);
  ASSERT_EQ(rc, kExitOk) << err_;
  EXPECT_THAT(out, HasSubstr("\"band_energy_0_200_ax\""));
  Score("both.jsonl", {"--feature-names", "prototype", "--names", "default"}, &rc);
  EXPECT_EQ(rc, kExitUsage);
  EXPECT_THAT(err_, HasSubstr("--feature-names prototype contradicts --names default"));
  Score("bad.jsonl", {"--names", "library"}, &rc);
  EXPECT_EQ(rc, kExitUsage);
  EXPECT_THAT(err_, HasSubstr("--names: expected default or prototype, got 'library'"));
}

}  // namespace
}  // namespace mh::app::test
