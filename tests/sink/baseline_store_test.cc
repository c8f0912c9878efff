// BaselineStore and the baseline side of SqliteReader: exact round trip (a
// restored baseline scores bit for bit as the original), versions, reset and
// activate, the change sequence, scores.baseline_version, and the migration
// of databases of schema versions 1 and 2 (testdata/schema_v1.db,
// schema_v2.db, written by `machine-health run` of those versions).
#include "sink/sqlite/baseline_store.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "iforest/model_io.h"
#include "score/baseline.h"
#include "sink/sqlite/sqlite_reader.h"
#include "sink/sqlite/sqlite_sink.h"
#include "testing/sqlite_query.h"
#include "testing/test_paths.h"

namespace mh::sink {
namespace {

namespace fs = std::filesystem;

const std::vector<std::string> kNames = {"rms_ax", "kurtosis_ax", "crest_ax"};

std::vector<double> Row(std::mt19937_64& rng, double shift = 0) {
  std::normal_distribution<double> n(0, 1);
  return {1 + 0.1 * n(rng) + shift, 3 + 0.3 * n(rng), 4 + 0.2 * n(rng)};
}

score::LearnOptions Learn(std::size_t windows) {
  score::LearnOptions o;
  o.learning_windows = windows;
  o.train.n_estimators = 25;
  o.train.threads = 1;
  return o;
}

// A baseline learned by MachineScorer from 120 synthetic rows.
std::shared_ptr<const score::Baseline> Learned(const std::string& machine, std::uint64_t seed,
                                               std::int64_t first_version = 1) {
  std::mt19937_64 rng(seed);
  score::MachineScorer scorer(machine, kNames, Learn(120), first_version);
  for (int i = 0; i < 120; ++i) {
    auto r = scorer.Observe(Row(rng), 1000 + i);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
  }
  EXPECT_FALSE(scorer.learning());
  return scorer.baseline();
}

class BaselineStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = mh::testing::MakeTempDir("mh-baseline-store-test");
    ASSERT_FALSE(dir_.empty());
    path_ = dir_ + "/m.db";
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::unique_ptr<BaselineStore> OpenOrDie() {
    auto store = BaselineStore::Open({path_});
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  // The first row's first column as text ("" when there is none or the
  // query fails).
  std::string QueryOne(const std::string& sql) { return mh::testing::QueryText(path_, sql); }

  std::string dir_;
  std::string path_;
};

bool SameBits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

TEST_F(BaselineStoreTest, RestoredBaselineScoresBitForBit) {
  auto original = Learned("m1", 7);
  ASSERT_NE(original, nullptr);
  {
    auto store = OpenOrDie();
    ASSERT_NE(store, nullptr);
    auto v = store->Save(*original, 123);
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    EXPECT_EQ(*v, 1);
  }
  auto store = OpenOrDie();  // as after a restart
  ASSERT_NE(store, nullptr);
  auto active = store->LoadActive();
  ASSERT_TRUE(active.ok()) << active.status().ToString();
  ASSERT_EQ(active->size(), 1u);
  const score::Baseline& b = *(*active)[0];
  EXPECT_EQ(b.machine_id, "m1");
  EXPECT_EQ(b.version, 1);
  EXPECT_TRUE(SameBits(b.threshold, original->threshold));
  EXPECT_EQ(b.rule.rule, original->rule.rule);
  EXPECT_TRUE(SameBits(b.rule.q, original->rule.q));
  EXPECT_TRUE(SameBits(b.rule.margin, original->rule.margin));
  EXPECT_EQ(b.trained_from_ns, 1000);
  EXPECT_EQ(b.trained_to_ns, 1119);
  EXPECT_EQ(b.rows, 120);
  EXPECT_EQ(b.origin, "learned");
  EXPECT_EQ(b.stats.names, kNames);
  for (std::size_t j = 0; j < kNames.size(); ++j) {
    EXPECT_TRUE(SameBits(b.stats.mean[j], original->stats.mean[j])) << j;
    EXPECT_TRUE(SameBits(b.stats.std[j], original->stats.std[j])) << j;
    EXPECT_TRUE(SameBits(b.stats.min[j], original->stats.min[j])) << j;
    EXPECT_TRUE(SameBits(b.stats.max[j], original->stats.max[j])) << j;
  }
  EXPECT_EQ(iforest::SerializeModel(*b.model), iforest::SerializeModel(*original->model));

  score::MachineScorer a("m1", kNames, Learn(120)), c("m1", kNames, Learn(120));
  ASSERT_TRUE(a.Restore(original).ok());
  ASSERT_TRUE(c.Restore((*active)[0]).ok());
  std::mt19937_64 rng(99);
  double shifted = 0, normal = 0;
  for (int i = 0; i < 200; ++i) {
    auto row = Row(rng, i % 10 == 0 ? 2.0 : 0.0);
    auto x = a.Observe(row, 5000 + i);
    auto y = c.Observe(row, 5000 + i);
    ASSERT_TRUE(x.ok() && y.ok());
    ASSERT_FALSE(y->learning);
    EXPECT_TRUE(SameBits(x->score, y->score)) << i;
    EXPECT_TRUE(SameBits(x->score_samples, y->score_samples)) << i;
    EXPECT_EQ(x->anomalous, y->anomalous) << i;
    EXPECT_EQ(y->baseline_version, 1);
    (i % 10 == 0 ? shifted : normal) += y->score;
  }
  // The scores mean something: the shifted rows score lower (more anomalous).
  EXPECT_LT(shifted / 20, normal / 180 - 0.05);

  auto info = store->List("m1");
  ASSERT_TRUE(info.ok());
  ASSERT_EQ(info->size(), 1u);
  EXPECT_EQ((*info)[0].created_ns, 123);
  EXPECT_TRUE((*info)[0].active);
  EXPECT_EQ((*info)[0].feature_names, kNames);
}

TEST_F(BaselineStoreTest, VersionsResetAndActivate) {
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(*store->NextVersion("m1"), 1);
  auto first = Learned("m1", 1);
  score::Baseline assigned = *Learned("m1", 2);
  assigned.version = 0;  // the store numbers it
  assigned.origin = "/models/m.mhm";
  EXPECT_EQ(*store->Save(*first), 1);
  EXPECT_EQ(*store->Save(assigned), 2);
  EXPECT_EQ(*store->Save(*Learned("m2", 3)), 1);
  EXPECT_EQ(*store->NextVersion("m1"), 3);

  auto all = store->List();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].machine_id, "m1");
  EXPECT_FALSE((*all)[0].active);
  EXPECT_TRUE((*all)[1].active);
  EXPECT_EQ((*all)[1].origin, "/models/m.mhm");
  EXPECT_EQ((*all)[2].machine_id, "m2");
  EXPECT_EQ((*store->LoadActive("m1"))->version, 2);

  // Saving a stored version again: the same model only activates it, a
  // different one is refused.
  EXPECT_EQ(*store->Save(*first), 1);
  EXPECT_EQ((*store->LoadActive("m1"))->version, 1);
  score::Baseline other = *Learned("m1", 5);
  other.version = 1;
  auto refused = store->Save(other);
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(refused.status().IsInvalidArgument()) << refused.status().ToString();

  auto was = store->Reset("m1");
  ASSERT_TRUE(was.ok());
  EXPECT_TRUE(*was);
  EXPECT_EQ(*store->LoadActive("m1"), nullptr);
  EXPECT_FALSE(*store->Reset("m1"));           // nothing active any more
  EXPECT_EQ(store->List("m1")->size(), 2u);    // versions kept
  EXPECT_EQ(store->LoadActive()->size(), 1u);  // only m2's
  EXPECT_TRUE(store->Get("m1").status().IsNotFound());
  auto v2 = store->Get("m1", 2);
  ASSERT_TRUE(v2.ok());
  EXPECT_FALSE(v2->info.active);
  EXPECT_EQ(v2->baseline->origin, "/models/m.mhm");

  ASSERT_TRUE(store->Activate("m1", 2).ok());
  EXPECT_EQ((*store->LoadActive("m1"))->version, 2);
  EXPECT_TRUE(store->Activate("m1", 9).IsNotFound());
  EXPECT_EQ((*store->LoadActive("m1"))->version, 2);  // a failed activate changes nothing
  EXPECT_TRUE(store->Get("m1", 9).status().IsNotFound());
}

TEST_F(BaselineStoreTest, ChangesAreSeenByAnotherConnection) {
  auto pipeline = OpenOrDie();        // e.g. `run`
  auto operator_store = OpenOrDie();  // e.g. `baseline reset` in another process
  ASSERT_NE(pipeline, nullptr);
  ASSERT_NE(operator_store, nullptr);
  EXPECT_EQ(*pipeline->CurrentSeq(), 0);
  ASSERT_TRUE(pipeline->Save(*Learned("m1", 1)).ok());
  ASSERT_TRUE(pipeline->Save(*Learned("m2", 2)).ok());
  const std::int64_t seen = *pipeline->CurrentSeq();
  EXPECT_EQ(seen, 2);
  EXPECT_TRUE(pipeline->ChangesSince(seen)->empty());

  ASSERT_TRUE(operator_store->Reset("m2").ok());
  ASSERT_TRUE(operator_store->Reset("m3").ok());  // a machine still learning
  auto changes = pipeline->ChangesSince(seen);
  ASSERT_TRUE(changes.ok());
  ASSERT_EQ(changes->size(), 2u);
  EXPECT_EQ((*changes)[0].machine_id, "m2");
  EXPECT_EQ((*changes)[1].machine_id, "m3");
  EXPECT_GT((*changes)[1].seq, (*changes)[0].seq);
  EXPECT_EQ(*pipeline->LoadActive("m2"), nullptr);
  EXPECT_NE(*pipeline->LoadActive("m1"), nullptr);
  // Only the latest change of a machine is listed.
  ASSERT_TRUE(operator_store->Activate("m2", 1).ok());
  changes = pipeline->ChangesSince(seen);
  ASSERT_EQ(changes->size(), 2u);
  EXPECT_EQ((*changes)[1].machine_id, "m2");
}

// Two connections (e.g. `run` and `baseline retrain` in another process)
// and several threads on each save at once: every save gets its own
// version, and exactly one version ends active.
TEST_F(BaselineStoreTest, ConcurrentSavesGetDistinctVersions) {
  auto a = OpenOrDie();
  auto b = OpenOrDie();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  score::Baseline base = *Learned("m1", 1);
  base.version = 0;
  constexpr int kThreads = 4, kSaves = 10;
  std::vector<std::vector<std::int64_t>> got(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      BaselineStore& store = t % 2 == 0 ? *a : *b;
      for (int i = 0; i < kSaves; ++i) {
        auto v = store.Save(base);
        if (v.ok()) got[t].push_back(*v);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  std::vector<std::int64_t> all;
  for (const auto& g : got) all.insert(all.end(), g.begin(), g.end());
  std::sort(all.begin(), all.end());
  std::vector<std::int64_t> expected(kThreads * kSaves);
  for (std::size_t i = 0; i < expected.size(); ++i) expected[i] = static_cast<std::int64_t>(i) + 1;
  EXPECT_EQ(all, expected);
  EXPECT_EQ(QueryOne("SELECT count(*) FROM baselines WHERE active = 1"), "1");
  EXPECT_EQ(*a->CurrentSeq(), kThreads * kSaves);
}

TEST_F(BaselineStoreTest, RejectsIncompleteBaselines) {
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  score::Baseline b = *Learned("m1", 1);
  b.machine_id = "";
  EXPECT_TRUE(store->Save(b).status().IsInvalidArgument());
  b.machine_id = "m1";
  b.stats.mean.pop_back();
  EXPECT_TRUE(store->Save(b).status().IsInvalidArgument());
  b = *Learned("m1", 1);
  b.model = nullptr;
  EXPECT_TRUE(store->Save(b).status().IsInvalidArgument());
  EXPECT_TRUE(store->List()->empty());
}

// Every window stored carries the version of the baseline that scored it;
// the reader gives it as the series "baseline_version".
TEST_F(BaselineStoreTest, ScoresCarryBaselineVersion) {
  auto names = std::make_shared<const std::vector<std::string>>(kNames);
  std::vector<WindowRecord> batch(3);
  for (int i = 0; i < 3; ++i) {
    batch[i].machine_id = "m1";
    batch[i].window_start_ns = 1000 * (i + 1);
    batch[i].feature_names = names;
    batch[i].features = {1, 2, 3};
    batch[i].baseline_version = i;  // 0: learning
  }
  {
    auto sink = OpenSqliteSink({path_});
    ASSERT_TRUE(sink.ok()) << sink.status().ToString();
    ASSERT_TRUE((*sink)->Write(batch).ok());
    batch[2].baseline_version = 5;  // a replayed window scored again
    ASSERT_TRUE((*sink)->Write(std::span<const WindowRecord>(batch).subspan(2)).ok());
  }
  auto reader = SqliteReader::Open(path_);
  ASSERT_TRUE(reader.ok());
  auto series = (*reader)->GetSeries("m1", "baseline_version", 0, 10000, 100);
  ASSERT_TRUE(series.ok()) << series.status().ToString();
  EXPECT_EQ(series->v, (std::vector<double>{0, 1, 5}));
  EXPECT_EQ(QueryOne("SELECT sum(baseline_version) FROM scores"), "6");
}

// A database of an older schema version is refused by a reader
// (Unavailable) and migrated by the first writer, keeping its rows (no
// baselines, every window's baseline_version 0).
void CheckMigration(BaselineStoreTest* t, const std::string& fixture, const std::string& version,
                    const std::string& path,
                    const std::function<std::string(const std::string&)>& query) {
  const std::string from = mh::testing::SourceDir() + "/tests/sink/testdata/" + fixture;
  ASSERT_TRUE(fs::exists(from)) << from;
  fs::copy_file(from, path);
  EXPECT_EQ(query("SELECT value FROM meta WHERE key = 'schema_version'"), version);
  const std::string scores = query("SELECT count(*) FROM scores");
  const std::string features = query("SELECT count(*) FROM features");
  const std::string machine = query("SELECT id FROM machines ORDER BY id LIMIT 1");
  ASSERT_NE(scores, "0");
  {
    auto reader = SqliteReader::Open(path);
    ASSERT_FALSE(reader.ok());
    EXPECT_TRUE(reader.status().IsUnavailable()) << reader.status().ToString();
  }
  EXPECT_EQ(query("SELECT value FROM meta WHERE key = 'schema_version'"), version);
  {
    auto store = BaselineStore::Open({path});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    EXPECT_EQ(query("SELECT value FROM meta WHERE key = 'schema_version'"), "4");
    score::Baseline b = *Learned(machine, 4);
    ASSERT_TRUE((*store)->Save(b).ok());
  }
  {
    auto reader = SqliteReader::Open(path);
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();
    auto series = (*reader)->GetSeries(machine, "baseline_version", 0, INT64_MAX, 100000);
    ASSERT_TRUE(series.ok()) << series.status().ToString();
    ASSERT_FALSE(series->v.empty());
    for (double v : series->v) EXPECT_EQ(v, 0);
  }
  EXPECT_EQ(query("SELECT count(*) FROM scores"), scores);
  EXPECT_EQ(query("SELECT count(*) FROM features"), features);
  EXPECT_EQ(query("SELECT count(*) FROM scores WHERE baseline_version = 0"), scores);
  EXPECT_EQ(query("SELECT count(*) FROM baselines"), "1");
  EXPECT_EQ(query("SELECT count(*) FROM alarms"), "0");  // v1: added by the migration
  // The migrated file is written by the sink as a new one is.
  auto sink = OpenSqliteSink({path});
  ASSERT_TRUE(sink.ok()) << sink.status().ToString();
  WindowRecord r;
  r.machine_id = machine;
  r.window_start_ns = INT64_MAX - 1;
  r.feature_names = std::make_shared<const std::vector<std::string>>();
  r.baseline_version = 1;
  ASSERT_TRUE((*sink)->Write(std::span<const WindowRecord>(&r, 1)).ok());
  EXPECT_EQ(query("SELECT baseline_version FROM scores ORDER BY t_ns DESC LIMIT 1"), "1");
  (void)t;
}

TEST_F(BaselineStoreTest, MigratesSchemaVersion1Database) {
  CheckMigration(this, "schema_v1.db", "1", path_,
                 [this](const std::string& sql) { return QueryOne(sql); });
}

TEST_F(BaselineStoreTest, MigratesSchemaVersion2Database) {
  CheckMigration(this, "schema_v2.db", "2", path_,
                 [this](const std::string& sql) { return QueryOne(sql); });
}

}  // namespace
}  // namespace mh::sink
