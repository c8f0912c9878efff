// ModelReloader on model files in a temporary folder: a changed file is
// accepted and offered once, a touched file with the same bytes is not a new
// model, and a corrupt file, one with other features, or one whose SHA-256
// is not the pinned one is refused while the old model keeps serving (and
// is not considered again until the file changes).
#include "pipeline/model_reloader.h"

#include <cmath>
#include <filesystem>
#include <random>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "blob/blob_client.h"
#include "core/file_util.h"
#include "iforest/model_io.h"
#include "testing/gaussian_model.h"
#include "testing/process.h"
#include "testing/test_paths.h"

namespace mh::pipeline {
namespace {

using PollResult = ModelReloader::PollResult;

std::string ModelBytes(std::vector<std::string> names, std::uint64_t seed) {
  return iforest::SerializeModel(
      testing::GaussianModel(std::move(names), {.rows = 300, .trees = 20, .seed = seed}));
}

// Sets the file's modification time `seconds` after its present one (a
// change that stat sees however fast the test runs).
void Touch(const std::string& path, int seconds) {
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  struct timespec times[2] = {st.st_atim, st.st_mtim};
  times[1].tv_sec += seconds;
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
}

class ModelReloaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = mh::testing::MakeTempDir("mh-reload");
    path_ = dir_ + "/model.mhm";
    a_ = ModelBytes({"rms", "kurtosis", "crest"}, 1);
    b_ = ModelBytes({"rms", "kurtosis", "crest"}, 2);
    ASSERT_TRUE(WriteFileAtomic(path_, a_).ok());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<ModelReloader> Make(std::string sha256 = "") {
    ModelReloaderOptions o;
    o.source = path_;
    o.sha256 = std::move(sha256);
    auto r = ModelReloader::Create(std::move(o));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(*r) : nullptr;
  }
  // Replaces the model file (a new inode and a later mtime).
  void Replace(const std::string& bytes, int seconds_later) {
    ASSERT_TRUE(WriteFileAtomic(path_, bytes).ok());
    Touch(path_, seconds_later);
  }

  std::string dir_, path_, a_, b_;
};

TEST_F(ModelReloaderTest, ChangedFileIsAcceptedAndTakenOnce) {
  auto r = Make();
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->initial().provenance->sha256, blob::Sha256Hex(a_));
  EXPECT_EQ(r->initial().provenance->version, blob::Sha256Hex(a_).substr(0, 12));
  EXPECT_EQ(r->initial().provenance->source, path_);
  EXPECT_EQ(r->PollOnce(), PollResult::kUnchanged);  // nothing read: same stat
  EXPECT_EQ(r->stats().downloads, 0);
  EXPECT_FALSE(r->TakePending().has_value());

  Replace(b_, 5);
  EXPECT_EQ(r->PollOnce(), PollResult::kAccepted);
  auto next = r->TakePending();
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->provenance->version, blob::Sha256Hex(b_).substr(0, 12));
  EXPECT_EQ(next->model->feature_names, r->initial().model->feature_names);
  EXPECT_FALSE(r->TakePending().has_value());  // taken once
  EXPECT_EQ(r->stats().serving->version, next->provenance->version);
  EXPECT_EQ(r->stats().reloads_ok, 1);
  EXPECT_EQ(r->PollOnce(), PollResult::kUnchanged);
  EXPECT_EQ(r->stats().polls, 3);
  EXPECT_EQ(r->stats().downloads, 1);
}

TEST_F(ModelReloaderTest, TouchedFileWithTheSameBytesIsNoNewModel) {
  auto r = Make();
  ASSERT_NE(r, nullptr);
  Touch(path_, 7);
  EXPECT_EQ(r->PollOnce(), PollResult::kUnchanged);
  EXPECT_EQ(r->stats().downloads, 1);  // read and hashed
  EXPECT_EQ(r->stats().reloads_ok, 0);
  EXPECT_FALSE(r->TakePending().has_value());
}

TEST_F(ModelReloaderTest, CorruptFileIsRefusedOnceAndTheOldModelServes) {
  auto r = Make();
  ASSERT_NE(r, nullptr);
  std::string corrupt = b_;
  corrupt[corrupt.size() / 2] ^= 0x5a;
  Replace(corrupt, 5);
  EXPECT_EQ(r->PollOnce(), PollResult::kRefused);
  EXPECT_FALSE(r->TakePending().has_value());
  EXPECT_EQ(r->stats().reloads_refused, 1);
  EXPECT_EQ(r->stats().serving->version, r->initial().provenance->version);
  // The same bad bytes, touched: not considered again.
  Touch(path_, 9);
  EXPECT_EQ(r->PollOnce(), PollResult::kUnchanged);
  EXPECT_EQ(r->stats().reloads_refused, 1);
  // Not a model file at all.
  Replace("not a model", 11);
  EXPECT_EQ(r->PollOnce(), PollResult::kRefused);
  // A good one afterwards is taken.
  Replace(b_, 13);
  EXPECT_EQ(r->PollOnce(), PollResult::kAccepted);
  EXPECT_TRUE(r->TakePending().has_value());
  EXPECT_EQ(r->stats().reloads_refused, 2);
  EXPECT_EQ(r->stats().reloads_ok, 1);
}

TEST_F(ModelReloaderTest, OtherFeaturesAreRefused) {
  auto r = Make();
  ASSERT_NE(r, nullptr);
  Replace(ModelBytes({"rms", "kurtosis"}, 3), 5);  // one feature fewer
  EXPECT_EQ(r->PollOnce(), PollResult::kRefused);
  Replace(ModelBytes({"rms", "kurtosis", "peak"}, 4), 7);  // same count, other name
  EXPECT_EQ(r->PollOnce(), PollResult::kRefused);
  EXPECT_FALSE(r->TakePending().has_value());
  EXPECT_EQ(r->stats().reloads_refused, 2);

  // With --features keys only the count must match.
  Replace(a_, 9);
  ModelReloaderOptions o;
  o.source = path_;
  o.feature_keys = 3;
  auto keyed = ModelReloader::Create(std::move(o));
  ASSERT_TRUE(keyed.ok()) << keyed.status().ToString();
  Replace(ModelBytes({"rms", "kurtosis", "peak"}, 4), 11);
  EXPECT_EQ((*keyed)->PollOnce(), PollResult::kAccepted);
  Replace(ModelBytes({"rms", "kurtosis"}, 3), 13);
  EXPECT_EQ((*keyed)->PollOnce(), PollResult::kRefused);
}

TEST_F(ModelReloaderTest, PinnedSha256) {
  const std::string pin = blob::Sha256Hex(a_);
  // At start: a mismatch is an error naming both prefixes.
  ModelReloaderOptions o;
  o.source = path_;
  o.sha256 = blob::Sha256Hex(b_);
  auto wrong = ModelReloader::Create(std::move(o));
  ASSERT_FALSE(wrong.ok());
  EXPECT_TRUE(wrong.status().IsCorruption());
  EXPECT_NE(wrong.status().message().find(pin.substr(0, 12)), std::string::npos)
      << wrong.status().ToString();
  EXPECT_NE(wrong.status().message().find(blob::Sha256Hex(b_).substr(0, 12)), std::string::npos);

  // On poll: a valid model with other bytes is refused.
  auto r = Make(pin);
  ASSERT_NE(r, nullptr);
  Replace(b_, 5);
  EXPECT_EQ(r->PollOnce(), PollResult::kRefused);
  EXPECT_FALSE(r->TakePending().has_value());
  EXPECT_EQ(r->stats().serving->sha256, pin);
  // The pinned bytes back: no new model (the serving one's bytes).
  Replace(a_, 7);
  EXPECT_EQ(r->PollOnce(), PollResult::kUnchanged);
  EXPECT_FALSE(r->TakePending().has_value());
  EXPECT_EQ(r->stats().reloads_refused, 1);
}

TEST_F(ModelReloaderTest, MissingFileIsRetriedAndTheThreadPolls) {
  ModelReloaderOptions o;
  o.source = path_;
  o.poll = std::chrono::milliseconds(5);
  auto r = ModelReloader::Create(std::move(o));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  std::filesystem::remove(path_);
  EXPECT_EQ((*r)->PollOnce(), PollResult::kFailed);
  EXPECT_EQ((*r)->stats().poll_failures, 1);
  Replace(b_, 5);
  (*r)->Start();
  std::optional<ServedModel> next;
  EXPECT_TRUE(mh::testing::WaitUntil(
      [&] {
        next = (*r)->TakePending();
        return next.has_value();
      },
      std::chrono::seconds(20)));
  (*r)->Stop();
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->provenance->sha256, blob::Sha256Hex(b_));
  EXPECT_GE((*r)->stats().polls, 2);
}

}  // namespace
}  // namespace mh::pipeline
