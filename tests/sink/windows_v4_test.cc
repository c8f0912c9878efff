// Schema version 4's compact window storage: the float32 feature blob, its
// decode in C++ and in the pure-SQL `features` view, feature sets and
// replacement.
#include "sink/sqlite/internal/windows_v4.h"

#include <cfloat>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "sink/sqlite/baseline_store.h"
#include "sink/sqlite/sqlite_reader.h"
#include "sink/sqlite/sqlite_sink.h"
#include "testing/sqlite_query.h"
#include "testing/test_paths.h"

namespace mh::sink {
namespace {

namespace fs = std::filesystem;

float FromBits(std::uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

std::uint64_t DoubleBits(double d) {
  std::uint64_t b;
  std::memcpy(&b, &d, sizeof b);
  return b;
}

// Finite float32 bit patterns: edge cases, then random ones over every
// exponent (incl. subnormals).
std::vector<float> TestFloats(std::size_t n, std::uint32_t seed) {
  std::vector<float> v = {0.0f,
                          -0.0f,
                          FromBits(1),           // smallest subnormal
                          FromBits(0x807FFFFF),  // largest negative subnormal
                          FromBits(0x00800000),  // smallest normal
                          FLT_MAX,
                          -FLT_MAX,
                          1.0f,
                          -1.0f,
                          0.1f,
                          FromBits(0x3F7FFFFF),  // largest below 1
                          FromBits(0x4B800000),  // 2^24
                          FromBits(0x7E800000),  // 2^126
                          FromBits(0x00000FFF)};
  std::mt19937 rng(seed);
  std::uniform_int_distribution<std::uint32_t> mantissa(0, 0x7FFFFF);
  std::uniform_int_distribution<std::uint32_t> exponent(0, 254);
  std::uniform_int_distribution<std::uint32_t> sign(0, 1);
  while (v.size() < n) {
    // Every fourth value subnormal, so that range is well covered.
    const std::uint32_t e = v.size() % 4 == 0 ? 0 : exponent(rng);
    v.push_back(FromBits((sign(rng) << 31) | (e << 23) | mantissa(rng)));
  }
  return v;
}

TEST(FeatureBlobTest, EncodesLittleEndianFloat32AndDecodesExactly) {
  const std::vector<float> floats = TestFloats(4000, 7);
  std::vector<double> values(floats.begin(), floats.end());
  std::string blob;
  internal::EncodeFeatures(values, &blob);
  ASSERT_EQ(blob.size(), 4 * values.size());
  // 1.0f is 0x3F800000: little-endian bytes 00 00 80 3F.
  EXPECT_EQ(static_cast<unsigned char>(blob[4 * 7 + 2]), 0x80);
  EXPECT_EQ(static_cast<unsigned char>(blob[4 * 7 + 3]), 0x3F);
  for (std::size_t i = 0; i < values.size(); ++i) {
    const double d = internal::DecodeFeature(blob.data(), i);
    ASSERT_EQ(DoubleBits(d), DoubleBits(values[i])) << i << ": " << values[i];
  }
}

TEST(FeatureBlobTest, RoundsToNearestFloatAndSaturatesBeyondTheRange) {
  const std::vector<double> values = {0.1, 1.0 / 3.0, 1e300, -1e300, 1e-300, 3.4028235e38};
  std::string blob;
  internal::EncodeFeatures(values, &blob);
  EXPECT_EQ(internal::DecodeFeature(blob.data(), 0), static_cast<double>(0.1f));
  EXPECT_EQ(internal::DecodeFeature(blob.data(), 1), static_cast<double>(1.0f / 3.0f));
  EXPECT_EQ(internal::DecodeFeature(blob.data(), 2), static_cast<double>(FLT_MAX));
  EXPECT_EQ(internal::DecodeFeature(blob.data(), 3), -static_cast<double>(FLT_MAX));
  EXPECT_EQ(internal::DecodeFeature(blob.data(), 4), 0.0);
  EXPECT_EQ(internal::DecodeFeature(blob.data(), 5), static_cast<double>(FLT_MAX));
}

class WindowsV4Test : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = mh::testing::MakeTempDir("mh-windows-v4-test");
    ASSERT_FALSE(dir_.empty());
    path_ = dir_ + "/m.db";
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // The first row's first column as text ("" when there is none or the
  // query fails).
  std::string QueryOne(const std::string& sql) { return mh::testing::QueryText(path_, sql); }

  std::string dir_;
  std::string path_;
};

void FailMath(sqlite3_context* ctx, int, sqlite3_value**) {
  sqlite3_result_error(ctx, "math function used", -1);
}

// The `features` view decodes every float32 exactly as the C++ decode does,
// without any math function (they are replaced by failing ones here).
TEST_F(WindowsV4Test, FeaturesViewDecodesLikeCppWithoutMathFunctions) {
  constexpr std::size_t kFeatures = 64;
  constexpr std::size_t kWindows = 200;
  const std::vector<float> floats = TestFloats(kFeatures * kWindows, 11);
  auto names = std::make_shared<std::vector<std::string>>();
  for (std::size_t j = 0; j < kFeatures; ++j) {
    names->push_back("f" + std::to_string(100 + j));  // sorted = storage order
  }
  std::vector<WindowRecord> batch(kWindows);
  for (std::size_t i = 0; i < kWindows; ++i) {
    batch[i].machine_id = i % 2 ? "m2" : "m1";
    batch[i].window_start_ns = static_cast<std::int64_t>(i) * 1000;
    batch[i].feature_names = names;
    batch[i].features.assign(floats.begin() + i * kFeatures, floats.begin() + (i + 1) * kFeatures);
  }
  {
    auto sink = OpenSqliteSink({path_});
    ASSERT_TRUE(sink.ok()) << sink.status().ToString();
    ASSERT_TRUE((*sink)->Write(batch).ok());
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  for (const char* f : {"pow", "power", "exp", "ln", "log", "log2", "log10", "ldexp"}) {
    for (int args : {1, 2}) {
      ASSERT_EQ(
          sqlite3_create_function(db, f, args, SQLITE_UTF8, nullptr, FailMath, nullptr, nullptr),
          SQLITE_OK);
    }
  }
  sqlite3_stmt* s = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db,
                               "SELECT machine_id, t_ns, name, value FROM features ORDER BY t_ns, "
                               "name",
                               -1, &s, nullptr),
            SQLITE_OK)
      << sqlite3_errmsg(db);
  std::size_t n = 0;
  std::size_t zeros = 0;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    const std::size_t i = static_cast<std::size_t>(sqlite3_column_int64(s, 1)) / 1000;
    const std::string name = reinterpret_cast<const char*>(sqlite3_column_text(s, 2));
    const std::size_t j = static_cast<std::size_t>(std::stoi(name.substr(1))) - 100;
    ASSERT_LT(i, kWindows);
    ASSERT_LT(j, kFeatures);
    EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)), i % 2 ? "m2" : "m1");
    ASSERT_EQ(sqlite3_column_type(s, 3), SQLITE_FLOAT) << name;
    const double want = floats[i * kFeatures + j];
    const double got = sqlite3_column_double(s, 3);
    ASSERT_EQ(got, want) << "window " << i << " " << name;
    if (want == 0) {
      ++zeros;
      EXPECT_EQ(std::signbit(got), std::signbit(want)) << "window " << i << " " << name;
    }
    ++n;
  }
  EXPECT_EQ(rc, SQLITE_DONE) << sqlite3_errmsg(db);
  sqlite3_finalize(s);
  sqlite3_close(db);
  EXPECT_EQ(n, kFeatures * kWindows);
  EXPECT_GE(zeros, 2u);

  // The C++ readers see the same values.
  auto reader = SqliteReader::Open(path_);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  auto series = (*reader)->GetSeries("m1", "f101", 0, INT64_MAX, 100000);
  ASSERT_TRUE(series.ok()) << series.status().ToString();
  ASSERT_EQ(series->v.size(), kWindows / 2);
  for (std::size_t k = 0; k < series->v.size(); ++k) {
    EXPECT_EQ(DoubleBits(series->v[k]), DoubleBits(floats[(2 * k) * kFeatures + 1]));
  }
  auto stored = ReadStoredWindows(path_, "m2", {"f163", "f100"}, 0, INT64_MAX);
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  ASSERT_EQ(stored->t_ns.size(), kWindows / 2);
  for (std::size_t k = 0; k < stored->t_ns.size(); ++k) {
    const std::size_t i = 2 * k + 1;
    EXPECT_EQ(stored->values[2 * k], floats[i * kFeatures + 63]);
    EXPECT_EQ(stored->values[2 * k + 1], floats[i * kFeatures + 0]);
  }
}

// One feature set per distinct name list (shared or not), one machine key
// per machine; a window written again replaces its row.
TEST_F(WindowsV4Test, FeatureSetsMachineKeysAndReplacement) {
  auto a = std::make_shared<const std::vector<std::string>>(std::vector<std::string>{"x", "y"});
  auto a_copy =
      std::make_shared<const std::vector<std::string>>(std::vector<std::string>{"x", "y"});
  auto b = std::make_shared<const std::vector<std::string>>(std::vector<std::string>{"y", "z"});
  auto rec = [](const std::string& m, std::int64_t t,
                const std::shared_ptr<const std::vector<std::string>>& n, double x0) {
    WindowRecord r;
    r.machine_id = m;
    r.window_start_ns = t;
    r.feature_names = n;
    r.features = {x0, x0 + 1};
    return r;
  };
  {
    auto sink = OpenSqliteSink({path_});
    ASSERT_TRUE(sink.ok()) << sink.status().ToString();
    std::vector<WindowRecord> batch = {rec("m1", 1, a, 1), rec("m2", 1, a_copy, 2),
                                       rec("m1", 2, a, 3)};
    ASSERT_TRUE((*sink)->Write(batch).ok());
    // Reopened: keys and sets are found again, not duplicated.
  }
  {
    auto sink = OpenSqliteSink({path_});
    ASSERT_TRUE(sink.ok()) << sink.status().ToString();
    std::vector<WindowRecord> batch = {rec("m1", 2, b, 10), rec("m3", 5, a, 4)};
    ASSERT_TRUE((*sink)->Write(batch).ok());
  }
  EXPECT_EQ(QueryOne("SELECT count(*) FROM feature_sets"), "2");
  EXPECT_EQ(QueryOne("SELECT count(*) FROM feature_set_columns"), "4");
  EXPECT_EQ(QueryOne("SELECT count(*) FROM machine_keys"), "3");
  EXPECT_EQ(QueryOne("SELECT count(*) FROM windows"), "4");
  EXPECT_EQ(QueryOne("SELECT names FROM feature_sets WHERE id = (SELECT feature_set FROM windows "
                     "WHERE t_ns = 2)"),
            "y\nz");
  EXPECT_EQ(QueryOne("SELECT group_concat(name || '=' || value, ',') FROM (SELECT name, value "
                     "FROM features WHERE machine_id = 'm1' AND t_ns = 2 ORDER BY name)"),
            "y=10.0,z=11.0");
  EXPECT_EQ(QueryOne("SELECT windows FROM machines WHERE id = 'm1'"), "2");
  auto reader = SqliteReader::Open(path_);
  ASSERT_TRUE(reader.ok());
  auto names = (*reader)->FeatureNames("m1");
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, (std::vector<std::string>{"y", "z"}));
  // "y" is in both sets: its series spans them, at its column in each.
  auto y = (*reader)->GetSeries("m1", "y", 0, 100, 100);
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  EXPECT_EQ(y->v, (std::vector<double>{2, 10}));
  // "x" is not in the latest window's set.
  EXPECT_TRUE((*reader)->GetSeries("m1", "x", 0, 100, 100).status().IsInvalidArgument());
  auto stored = ReadStoredWindows(path_, "m1", {"y"}, 0, 100);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->values, (std::vector<double>{2, 10}));
  auto xz = ReadStoredWindows(path_, "m1", {"x", "z"}, 0, 100);
  ASSERT_TRUE(xz.ok());
  EXPECT_TRUE(xz->t_ns.empty());
  EXPECT_EQ(xz->skipped, 2);
}

// Keys and feature sets created by a batch that is rolled back are not
// reused from the cache afterwards (they no longer exist).
TEST_F(WindowsV4Test, RolledBackBatchForgetsItsKeys) {
  auto names = std::make_shared<const std::vector<std::string>>(std::vector<std::string>{"a"});
  auto rec = [&](const std::string& m, std::int64_t t) {
    WindowRecord r;
    r.machine_id = m;
    r.window_start_ns = t;
    r.feature_names = names;
    r.features = {static_cast<double>(t)};
    return r;
  };
  auto sink = OpenSqliteSink({path_});
  ASSERT_TRUE(sink.ok()) << sink.status().ToString();
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db,
                           "CREATE TRIGGER no_m2 BEFORE INSERT ON machines WHEN NEW.id = 'm2' "
                           "BEGIN SELECT RAISE(ABORT, 'refused'); END",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  // m2's key and the feature set are created, then rolled back.
  std::vector<WindowRecord> batch = {rec("m2", 1)};
  ASSERT_FALSE((*sink)->Write(batch).ok());
  EXPECT_EQ(QueryOne("SELECT count(*) FROM machine_keys"), "0");
  EXPECT_EQ(QueryOne("SELECT count(*) FROM feature_sets"), "0");
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "DROP TRIGGER no_m2", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  // m1 first, so that a stale cached key of m2 would now name m1.
  batch = {rec("m1", 2), rec("m2", 3)};
  ASSERT_TRUE((*sink)->Write(batch).ok());
  EXPECT_EQ(QueryOne("SELECT group_concat(machine_id || '@' || t_ns, ',') FROM (SELECT * FROM "
                     "scores ORDER BY t_ns)"),
            "m1@2,m2@3");
  EXPECT_EQ(QueryOne("SELECT count(*) FROM features"), "2");
}

}  // namespace
}  // namespace mh::sink
