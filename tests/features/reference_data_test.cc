// The extractor against ../shared/data/*/reference_features.csv: real
// recordings (FEMTO, CWRU, IMS, HIT) whose time-domain features were computed
// with numpy in float64 by the data set's curator (see each README.md).
#include <cmath>
#include <fstream>
#include <map>
#include <span>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/strings.h"
#include "features/window_features.h"
#include "testing/test_paths.h"

namespace mh::features {
namespace {

struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};

bool ReadTable(const std::string& path, Table* t) {
  std::ifstream in(path);
  if (!in) return false;
  std::string line;
  bool first = true;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    if (first) {
      t->header = Split(line, ',');
      first = false;
    } else {
      t->rows.push_back(Split(line, ','));
    }
  }
  return !first;
}

std::size_t ColumnIndex(const Table& t, const std::string& name) {
  for (std::size_t i = 0; i < t.header.size(); ++i) {
    if (t.header[i] == name) return i;
  }
  return t.header.size();
}

double Value(const std::string& text) {
  auto v = ParseDouble(text);
  EXPECT_TRUE(v.ok()) << text;
  return v.ok() ? *v : 0;
}

// reference column -> our feature name (without the channel suffix).
const std::map<std::string, std::string> kColumns = {{"mean", "mean"},
                                                     {"std_pop", "rms_ac"},
                                                     {"rms", "rms"},
                                                     {"peak_abs", "peak"},
                                                     {"peak_to_peak", "peak_to_peak"},
                                                     {"crest_factor", "crest_factor"},
                                                     {"skewness", "skewness"},
                                                     {"kurtosis", "kurtosis"}};

class ReferenceDataTest : public ::testing::TestWithParam<const char*> {};

TEST_P(ReferenceDataTest, TimeFeaturesMatchReference) {
  MH_REQUIRE_SHARED_DATA();
  const std::string dir = mh::testing::SharedDir() + "/data/" + GetParam();
  Table ref;
  ASSERT_TRUE(ReadTable(dir + "/reference_features.csv", &ref)) << dir;
  const std::size_t file_col = ColumnIndex(ref, "file");
  const std::size_t channel_col = ColumnIndex(ref, "channel");
  const std::size_t n_col = ColumnIndex(ref, "n");
  ASSERT_LT(n_col, ref.header.size());

  std::map<std::string, Table> cache;  // one data file read once
  std::size_t compared = 0;
  for (const auto& row : ref.rows) {
    ASSERT_EQ(row.size(), ref.header.size());
    const std::string& file = row[file_col];
    const std::string& channel = row[channel_col];
    if (!cache.count(file)) {
      Table data;
      ASSERT_TRUE(ReadTable(dir + "/" + file, &data)) << file;
      cache.clear();
      cache.emplace(file, std::move(data));
    }
    const Table& data = cache.at(file);
    const std::size_t col = ColumnIndex(data, channel);
    ASSERT_LT(col, data.header.size()) << file << ": " << channel;
    const auto n = static_cast<std::size_t>(Value(row[n_col]));
    ASSERT_EQ(data.rows.size(), n) << file;
    std::vector<double> x(n);
    for (std::size_t i = 0; i < n; ++i) x[i] = Value(data.rows[i][col]);

    FeatureOptions o;
    o.window_samples = n;
    o.channels = {channel};
    o.bands = {};
    auto ex = WindowFeatureExtractor::Create(o);
    ASSERT_TRUE(ex.ok()) << ex.status().ToString();
    std::vector<double> out((*ex)->names().size());
    std::span<const double> ch[] = {x};
    ASSERT_TRUE((*ex)->Compute(ch, out).ok());
    for (const auto& [ref_name, ours] : kColumns) {
      const std::size_t rc = ColumnIndex(ref, ref_name);
      ASSERT_LT(rc, ref.header.size()) << ref_name;
      const double expected = Value(row[rc]);
      double got = 0;
      for (std::size_t i = 0; i < out.size(); ++i) {
        if ((*ex)->names()[i] == ours + "_" + channel) got = out[i];
      }
      // mean of a zero-mean signal: absolute tolerance at the signal scale.
      const double scale = Value(row[ColumnIndex(ref, "rms")]);
      EXPECT_NEAR(got, expected, 1e-9 * std::fabs(expected) + 1e-13 * scale)
          << file << " " << channel << " " << ref_name;
    }
    ++compared;
  }
  EXPECT_EQ(compared, ref.rows.size());
  EXPECT_GT(compared, 0u);
}

INSTANTIATE_TEST_SUITE_P(SharedData, ReferenceDataTest,
                         ::testing::Values("femto", "cwru", "ims", "hit-sm"),
                         [](const auto& param_info) {
                           std::string name = param_info.param;
                           for (char& c : name) {
                             if (c == '-') c = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace mh::features
