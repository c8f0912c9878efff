// Shared fixture of the in-process `export` tests: a database written by the
// SQLite sink (two machines; m1 with two feature sets, learning windows and
// a stored baseline), the records written, and the exports read back as
// JSON Lines.
#ifndef MH_TESTS_APP_EXPORT_CLI_TEST_H_
#define MH_TESTS_APP_EXPORT_CLI_TEST_H_

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "app/pipeline_options.h"
#include "score/baseline.h"
#include "sink/sqlite/baseline_store.h"
#include "sink/sqlite/sqlite_sink.h"
#include "testing/cli_run.h"
#include "testing/test_paths.h"

namespace mh::app::test {

inline constexpr std::int64_t kSecond = 1'000'000'000;
// 2026-09-21T14:13:20Z: 20 s after a minute starts, 800 s after an hour.
inline constexpr std::int64_t kT0 = 1'790'000'000 * kSecond;
inline constexpr std::int64_t kStep = 20 * kSecond;  // between m1's windows
inline constexpr int kWindows = 400;                 // of m1: 8,000 s
inline constexpr int kLearning = 50;                 // m1's first windows: learning
inline constexpr int kSetChange = 200;               // m1's windows from here: set B

inline const std::vector<std::string>& SetA() {
  static const std::vector<std::string> a = {"rms_ax", "kurtosis_ax", "skewness_ax"};
  return a;
}
inline const std::vector<std::string>& SetB() {
  static const std::vector<std::string> b = {"kurtosis_ax", "rms_ax", "crest_factor_ax"};
  return b;
}

class ExportCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = mh::testing::MakeTempDir("mh-export-cli");
    ASSERT_FALSE(dir_.empty());
    db_ = dir_ + "/m.db";
    // The baseline that scores m1's windows from kLearning on: learned by a
    // MachineScorer, saved as version 1 (its threshold is what export
    // joins to the windows).
    score::LearnOptions learn = MakePipelineOptions(PipelineArgs{})->learn;
    learn.learning_windows = 40;
    score::MachineScorer scorer("m1", {"a", "b"}, learn);
    std::mt19937_64 rng(7);
    std::normal_distribution<double> n(0, 1);
    for (int i = 0; i < 40; ++i) {
      const double row[2] = {n(rng), n(rng)};
      ASSERT_TRUE(scorer.Observe(row, kT0 + i * kSecond).ok());
    }
    ASSERT_FALSE(scorer.learning());
    {
      auto store = sink::BaselineStore::Open({db_});
      ASSERT_TRUE(store.ok()) << store.status().ToString();
      ASSERT_EQ(*(*store)->Save(*scorer.baseline()), 1);
    }
    threshold_ = scorer.baseline()->threshold;

    auto names_a = std::make_shared<const std::vector<std::string>>(SetA());
    auto names_b = std::make_shared<const std::vector<std::string>>(SetB());
    std::mt19937_64 values(11);
    std::uniform_real_distribution<double> u(0, 1);
    for (int i = 0; i < kWindows; ++i) {
      sink::WindowRecord r;
      r.machine_id = "m1";
      r.window_start_ns = kT0 + i * kStep;
      r.feature_names = i < kSetChange ? names_a : names_b;
      // Values with more digits than float32 keeps, some large.
      r.features = {0.1 + u(values), 3 + 10 * u(values), (u(values) - 0.5) * 1e7};
      r.rms = 0.05 + 0.01 * u(values);
      if (i >= kLearning) {
        r.score = 0.2 * (u(values) - 0.3);
        r.score_samples = -0.5 + r.score;
        r.anomaly = r.score < 0;
        r.state = i % 9 == 0 ? sink::MachineState::kAnomalous : sink::MachineState::kNormal;
        r.state_score = r.score * 0.7;
        r.baseline_version = 1;
      }
      written_.push_back(r);
    }
    for (int i = 0; i < 5; ++i) {
      sink::WindowRecord r;
      r.machine_id = "m2";
      r.window_start_ns = kT0 + i * kStep + 1;
      r.feature_names = names_a;
      r.features = {1, 2, 3};
      r.rms = 1;
      written_.push_back(r);
    }
    auto sink = sink::OpenSqliteSink({db_});
    ASSERT_TRUE(sink.ok()) << sink.status().ToString();
    // Two batches, the second first (late windows merge into their buckets).
    const std::span<const sink::WindowRecord> all(written_);
    ASSERT_TRUE((*sink)->Write(all.subspan(kWindows / 2)).ok());
    ASSERT_TRUE((*sink)->Write(all.first(kWindows / 2)).ok());
    ASSERT_TRUE((*sink)->Close().ok());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // m1's record i.
  const sink::WindowRecord& M1(int i) const { return written_[static_cast<std::size_t>(i)]; }

  // Runs `export --db db_ --machine <machine> <extra>`.
  mh::testing::CliRun Export(const std::string& machine, const std::vector<std::string>& extra) {
    std::vector<std::string> args = {"export", "--db", db_, "--machine", machine};
    args.insert(args.end(), extra.begin(), extra.end());
    return mh::testing::RunCli(args);
  }

  // The rows of a JSON Lines file.
  static std::vector<nlohmann::json> ReadJsonLines(const std::string& path) {
    std::ifstream in(path);
    std::vector<nlohmann::json> rows;
    std::string line;
    while (std::getline(in, line)) rows.push_back(nlohmann::json::parse(line));
    return rows;
  }

  std::string dir_, db_;
  std::vector<sink::WindowRecord> written_;
  double threshold_ = 0;
};

// The float32 the store keeps of `v`, widened.
inline double F32(double v) { return static_cast<double>(static_cast<float>(v)); }

}  // namespace mh::app::test

#endif  // MH_TESTS_APP_EXPORT_CLI_TEST_H_
