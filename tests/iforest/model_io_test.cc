// Model files: round trip, checksum (checked against python's zlib), and
// corrupted files that must fail with Corruption and never crash.
#include "iforest/model_io.h"

#include <cstring>
#include <filesystem>
#include <random>
#include <string>

#include <gtest/gtest.h>

#include "iforest/scorer.h"
#include "iforest/train.h"
#include "test_util.h"

namespace mh::iforest {
namespace {

class ModelIoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = mh::testing::MakeTempDir("iforest-io");
    ASSERT_FALSE(dir_.empty());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // A small trained model: 3 trees of at most 15 nodes.
  static Model SmallModel(bool subsets) {
    Matrix x{40, 3, {}};
    std::mt19937 gen(9);
    std::normal_distribution<double> normal;
    for (int i = 0; i < 120; ++i) x.data.push_back(normal(gen));
    TrainOptions o;
    o.n_estimators = 3;
    o.max_samples = "8";
    o.max_features = subsets ? 0.67 : 1.0;
    o.contamination = "0.1";
    Result<Model> m = Train(x, {"rms", "kurtosis", "peak"}, o);
    MH_CHECK(m.ok());
    m->card.source = "train.csv";
    m->card.created = "2026-11-27T20:10:51Z";
    m->card.metrics = "train_outlier_fraction=0.1";
    return std::move(m).value();
  }

  std::string dir_;
};

TEST_F(ModelIoTest, RoundTripIsExact) {
  for (bool subsets : {false, true}) {
    const Model m = SmallModel(subsets);
    const std::string path = dir_ + "/m.mhm";
    ASSERT_TRUE(SaveModel(m, path).ok());
    EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
    Result<Model> r = LoadModel(path);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->feature_names, m.feature_names);
    EXPECT_EQ(r->has_scaler, m.has_scaler);
    EXPECT_EQ(r->scaler.mean, m.scaler.mean);
    EXPECT_EQ(r->scaler.scale, m.scaler.scale);
    EXPECT_EQ(r->tree_features, m.tree_features);
    EXPECT_EQ(r->max_samples, m.max_samples);
    EXPECT_EQ(r->offset, m.offset);
    EXPECT_EQ(r->card.source, "train.csv");
    EXPECT_EQ(r->card.created, "2026-11-27T20:10:51Z");
    EXPECT_EQ(r->card.rows, 40);
    EXPECT_EQ(r->card.seed, 42u);
    EXPECT_EQ(r->card.params, m.card.params);
    EXPECT_EQ(r->card.metrics, m.card.metrics);
    ASSERT_EQ(r->trees.size(), m.trees.size());
    for (std::size_t t = 0; t < m.trees.size(); ++t) {
      EXPECT_EQ(r->trees[t].left, m.trees[t].left);
      EXPECT_EQ(r->trees[t].right, m.trees[t].right);
      EXPECT_EQ(r->trees[t].threshold, m.trees[t].threshold);
      EXPECT_EQ(r->trees[t].n_node_samples, m.trees[t].n_node_samples);
      EXPECT_EQ(r->trees[t].depth, m.trees[t].depth);
    }
    Scorer a(m), b(*r);
    std::mt19937 gen(10);
    std::normal_distribution<double> normal(0.0, 2.0);
    for (int i = 0; i < 200; ++i) {
      const double row[3] = {normal(gen), normal(gen), normal(gen)};
      const double sa = a.DecisionFunction(row), sb = b.DecisionFunction(row);
      EXPECT_EQ(std::memcmp(&sa, &sb, sizeof sa), 0);
    }
    // Saving the loaded model reproduces the same bytes.
    EXPECT_EQ(SerializeModel(*r), test::ReadFile(path));
  }
}

TEST_F(ModelIoTest, ChecksumIsZlibCrc32) {
  const std::string path = dir_ + "/m.mhm";
  ASSERT_TRUE(SaveModel(SmallModel(true), path).ok());
  const std::string bytes = test::ReadFile(path);
  std::uint32_t stored = 0;
  std::memcpy(&stored, bytes.data() + bytes.size() - 4, 4);  // little-endian host
  std::string out;
  ASSERT_EQ(mh::testing::RunCommand(mh::testing::ReferencePython() +
                                        " -c 'import sys, zlib; b = open(sys.argv[1], \"rb\")"
                                        ".read(); print(zlib.crc32(b[:-4]))' " +
                                        path,
                                    &out),
            0);
  EXPECT_EQ(stored, std::stoul(out));
  EXPECT_EQ(Crc32("123456789"), 0xCBF43926u);  // the CRC-32 check value
}

TEST_F(ModelIoTest, TruncationAtEveryOffsetIsCorruption) {
  const std::string bytes = SerializeModel(SmallModel(true));
  ASSERT_LT(bytes.size(), 4000u);
  for (std::size_t len = 0; len < bytes.size(); ++len) {
    Result<Model> r = ParseModel(bytes.substr(0, len), "m.mhm");
    ASSERT_TRUE(r.status().IsCorruption()) << "length " << len;
    EXPECT_EQ(r.status().message().rfind("m.mhm: corrupt model at offset ", 0), 0u);
  }
  // Through the file system too, for a few lengths.
  for (std::size_t len : {std::size_t{0}, std::size_t{10}, bytes.size() - 1}) {
    test::WriteFile(dir_ + "/t.mhm", bytes.substr(0, len));
    Result<Model> r = LoadModel(dir_ + "/t.mhm");
    ASSERT_TRUE(r.status().IsCorruption());
    EXPECT_NE(r.status().message().find(dir_ + "/t.mhm"), std::string::npos);
  }
}

TEST_F(ModelIoTest, FlippedBytesAreCorruption) {
  const std::string bytes = SerializeModel(SmallModel(true));
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    for (unsigned char mask : {0x01, 0x80, 0xFF}) {
      std::string bad = bytes;
      bad[i] = static_cast<char>(bad[i] ^ mask);
      ASSERT_TRUE(ParseModel(bad, "m").status().IsCorruption()) << "byte " << i;
    }
  }
}

// Rewrites the checksum so that damage gets past it to the structural checks.
std::string Reseal(std::string bytes) {
  const std::uint32_t crc = Crc32(std::string_view(bytes).substr(0, bytes.size() - 4));
  for (int i = 0; i < 4; ++i) bytes[bytes.size() - 4 + i] = static_cast<char>(crc >> (8 * i));
  return bytes;
}

TEST_F(ModelIoTest, ResealedDamageNeverCrashes) {
  // Every byte set to several values with a valid checksum: the parser must
  // return a model that passes validation or Corruption (ASan checks the rest).
  const std::string bytes = SerializeModel(SmallModel(true));
  int rejected = 0;
  for (std::size_t i = 24; i + 4 < bytes.size(); ++i) {
    for (unsigned char v : {0x00, 0x7F, 0x80, 0xFF}) {
      std::string bad = bytes;
      bad[i] = static_cast<char>(v);
      Result<Model> r = ParseModel(Reseal(bad), "m");
      if (r.ok()) {
        Scorer s(*r);
        const double row[3] = {0.1, 0.2, 0.3};
        (void)s.ScoreSamples(row);
      } else {
        ASSERT_TRUE(r.status().IsCorruption()) << r.status().ToString();
        ++rejected;
      }
    }
  }
  EXPECT_GT(rejected, 100);
}

TEST_F(ModelIoTest, InconsistentTreesAreCorruption) {
  Model m = SmallModel(false);
  ASSERT_GE(m.trees[0].size(), 3u);
  auto expect_corrupt = [](const Model& bad, const std::string& mentions) {
    Result<Model> r = ParseModel(SerializeModel(bad), "m");
    ASSERT_TRUE(r.status().IsCorruption());
    EXPECT_NE(r.status().message().find(mentions), std::string::npos) << r.status().message();
  };
  Model cycle = m;
  cycle.trees[0].left[0] = 0;  // root is its own child
  expect_corrupt(cycle, "not after its parent");
  Model out_of_range = m;
  out_of_range.trees[0].right[0] = 100000;
  expect_corrupt(out_of_range, "out of range");
  Model bad_feature = m;
  bad_feature.trees[0].feature[0] = 3;
  expect_corrupt(bad_feature, "feature index 3");
  Model shared_child = m;
  shared_child.trees[0].right[0] = shared_child.trees[0].left[0];
  expect_corrupt(shared_child, "two parents");
  Model bad_scale = m;
  bad_scale.scaler.scale[1] = 0.0;
  expect_corrupt(bad_scale, "scaler");
  Model nan_offset = m;
  nan_offset.offset = std::nan("");
  expect_corrupt(nan_offset, "offset");
  // SaveModel refuses to write an invalid model.
  EXPECT_TRUE(SaveModel(cycle, dir_ + "/x.mhm").IsInvalidArgument());
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/x.mhm"));
}

TEST_F(ModelIoTest, HeaderProblemsAreNamed) {
  const std::string bytes = SerializeModel(SmallModel(false));
  std::string magic = bytes;
  magic[0] = 'X';
  EXPECT_NE(ParseModel(magic, "m").status().message().find("bad magic"), std::string::npos);
  std::string version = bytes;
  version[8] = 3;
  EXPECT_NE(ParseModel(Reseal(version), "m").status().message().find("version 3"),
            std::string::npos);
  // An absurd tree count with a valid checksum fails without allocating it.
  std::string absurd = bytes;
  const std::string padded = bytes + "xxxx";
  EXPECT_TRUE(ParseModel(padded, "m").status().IsCorruption());
  // Feature count at offset 24 + strings...: easier to find via the count of
  // trees, which sits right before the first subset size; set the payload's
  // feature count (after the card) to 0xFFFFFFFF.
  const Model m = SmallModel(false);
  const std::size_t card = 4 + m.card.source.size() + 8 + 4 + m.card.created.size() + 8 + 4 +
                           m.card.params.size() + 4 + m.card.metrics.size();
  for (int i = 0; i < 4; ++i) absurd[24 + card + i] = static_cast<char>(0xFF);
  Result<Model> r = ParseModel(Reseal(absurd), "m");
  ASSERT_TRUE(r.status().IsCorruption());
  EXPECT_NE(r.status().message().find("offset " + std::to_string(24 + card) + ": feature count"),
            std::string::npos)
      << r.status().message();
}

TEST_F(ModelIoTest, Version2KeepsThresholdAndGranularity) {
  Model m = SmallModel(false);
  m.has_threshold = true;
  m.threshold = 0.56932965336144;
  m.granularity = FeatureGranularity::kPerSample;
  const std::string bytes = SerializeModel(m);
  EXPECT_EQ(static_cast<unsigned char>(bytes[8]), 2u);
  Result<Model> r = ParseModel(bytes, "m");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->has_threshold);
  EXPECT_EQ(r->threshold, m.threshold);
  EXPECT_EQ(r->granularity, FeatureGranularity::kPerSample);
  // A bad granularity byte (resealed) is corruption, not a default.
  std::string bad = bytes;
  const std::size_t card = 4 + m.card.source.size() + 8 + 4 + m.card.created.size() + 8 + 4 +
                           m.card.params.size() + 4 + m.card.metrics.size();
  std::size_t names = 4;
  for (const auto& n : m.feature_names) names += 4 + n.size();
  const std::size_t after_offset = 24 + card + names + 1 + 16 * m.feature_names.size() + 16;
  ASSERT_EQ(static_cast<unsigned char>(bad[after_offset]), 1u);  // has_threshold
  bad[after_offset + 9] = 7;
  EXPECT_TRUE(ParseModel(Reseal(bad), "m").status().IsCorruption());
}

TEST_F(ModelIoTest, ReadsVersion1Files) {
  // A version 1 file is the version 2 layout without the 10 bytes of
  // has_threshold, threshold and granularity after the offset.
  const Model m = SmallModel(true);
  std::string bytes = SerializeModel(m);
  const std::size_t card = 4 + m.card.source.size() + 8 + 4 + m.card.created.size() + 8 + 4 +
                           m.card.params.size() + 4 + m.card.metrics.size();
  std::size_t names = 4;
  for (const auto& n : m.feature_names) names += 4 + n.size();
  const std::size_t after_offset = 24 + card + names + 1 + 16 * m.feature_names.size() + 16;
  bytes.erase(after_offset, 10);
  bytes[8] = 1;
  const std::uint64_t payload = bytes.size() - 28;
  for (int i = 0; i < 8; ++i) bytes[16 + i] = static_cast<char>(payload >> (8 * i));
  Result<Model> r = ParseModel(Reseal(bytes), "v1");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->has_threshold);
  EXPECT_EQ(r->granularity, FeatureGranularity::kUnknown);
  EXPECT_EQ(r->feature_names, m.feature_names);
  EXPECT_EQ(r->offset, m.offset);
  ASSERT_EQ(r->trees.size(), m.trees.size());
  for (std::size_t t = 0; t < m.trees.size(); ++t)
    EXPECT_EQ(r->trees[t].threshold, m.trees[t].threshold);
}

TEST_F(ModelIoTest, FileSystemErrors) {
  EXPECT_TRUE(LoadModel(dir_ + "/missing.mhm").status().IsNotFound());
  Status s = SaveModel(SmallModel(false), dir_ + "/no/such/dir/m.mhm");
  EXPECT_TRUE(s.IsIOError());
  EXPECT_NE(s.message().find(dir_ + "/no/such/dir/m.mhm"), std::string::npos);
}

}  // namespace
}  // namespace mh::iforest
