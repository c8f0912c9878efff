// Shared fixture of the in-process `score` and `train` tests: small feature
// tables (timestamp, window_start, machine_id, rms, kurtosis) written as CSV,
// and a model trained on them through app::RunMain.
#ifndef MH_TESTS_APP_SCORE_CLI_TEST_H_
#define MH_TESTS_APP_SCORE_CLI_TEST_H_

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "app/command.h"
#include "core/strings.h"
#include "testing/test_paths.h"

namespace mh::app::test {

inline std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void WriteAll(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// First epoch second of the tables: 2026-01-01T00:00:00Z.
inline constexpr std::int64_t kStartSeconds = 1767225600;

// `rows` feature rows starting at row `first` (of one long recording); the
// timestamp is 0.25 s per row, the values deterministic with outliers.
inline std::string FeatureCsv(std::size_t first, std::size_t rows) {
  std::ostringstream csv;
  csv << "timestamp,window_start,machine_id,rms,kurtosis\n";
  for (std::size_t i = first; i < first + rows; ++i) {
    const double k = i % 23 == 5 ? 6.0 : 1.0;
    const double rms = k * (1.0 + 0.013 * static_cast<double>(i % 17)) + std::sin(0.1 * i) / 7;
    const double kurt = 3.0 + k * 0.11 * static_cast<double>(i % 7) + 1e-9 * i;
    const std::int64_t ms = 250 * static_cast<std::int64_t>(i);
    char ts[64];
    const std::int64_t s = kStartSeconds + ms / 1000;
    const std::int64_t sod = s % 86400;
    std::snprintf(ts, sizeof(ts), "2026-01-%02lldT%02lld:%02lld:%02lld.%03lldZ",
                  static_cast<long long>(1 + (s - kStartSeconds) / 86400),
                  static_cast<long long>(sod / 3600), static_cast<long long>(sod / 60 % 60),
                  static_cast<long long>(sod % 60), static_cast<long long>(ms % 1000));
    csv << ts << "," << 2560 * i << ",m" << i % 3 << "," << FormatDouble(rms) << ","
        << FormatDouble(kurt) << "\n";
  }
  return csv.str();
}

class ScoreCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = mh::testing::MakeTempDir("mh-score-cli");
    ASSERT_FALSE(dir_.empty());
    WriteAll(dir_ + "/train.csv", FeatureCsv(0, 300));
    std::string out, err;
    ASSERT_EQ(Run({"train", "--input", dir_ + "/train.csv", "--trees", "50", "--out",
                   dir_ + "/model.mhm"},
                  &out, &err),
              kExitOk)
        << err;
    model_ = dir_ + "/model.mhm";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Runs the CLI in-process; returns the exit code.
  int Run(const std::vector<std::string>& args, std::string* out, std::string* err) {
    std::ostringstream o, e;
    CommandIo io{o, e};
    const int rc = RunMain(args, io);
    *out = o.str();
    *err = e.str();
    return rc;
  }
  // `score --model M --input INPUT --out OUT` plus `extra`.
  int Score(const std::string& input, const std::string& out_path, std::string* out,
            std::string* err, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"score", "--model", model_,  "--input",
                                     input,   "--out",   out_path};
    args.insert(args.end(), extra.begin(), extra.end());
    return Run(args, out, err);
  }

  std::string dir_;
  std::string model_;
};

}  // namespace mh::app::test

#endif  // MH_TESTS_APP_SCORE_CLI_TEST_H_
