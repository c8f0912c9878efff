#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include <gtest/gtest.h>

#include "pipeline/bounded_queue.h"
#include "pipeline/plant_pipeline.h"
#include "testing/memory_io.h"

namespace mh::pipeline {
namespace {

TEST(BoundedQueueTest, BlocksWhenFullAndDrainsAfterClose) {
  BoundedQueue<int> q(2);
  ASSERT_TRUE(q.Push(1));
  ASSERT_TRUE(q.Push(2));
  std::atomic<bool> third_pushed{false};
  std::thread producer([&] {
    q.Push(3);
    third_pushed = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(third_pushed.load()) << "push into a full queue must block";
  std::vector<int> got;
  ASSERT_TRUE(q.PopBatch(&got, 10, std::chrono::milliseconds(100)));
  producer.join();
  EXPECT_TRUE(third_pushed.load());
  q.Close();
  EXPECT_FALSE(q.Push(4));
  while (q.PopBatch(&got, 10, std::chrono::milliseconds(10))) {
  }
  EXPECT_EQ(got, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(q.high_water(), 2u);
}

TEST(BoundedQueueTest, LingerWaitsForMoreItemsUntilClose) {
  // One item queued: with a long linger PopBatch keeps waiting for max_items
  // and takes what came meanwhile when the queue is closed.
  BoundedQueue<int> q(16);
  ASSERT_TRUE(q.Push(1));
  std::vector<int> got;
  std::atomic<bool> returned{false};
  const auto t0 = std::chrono::steady_clock::now();
  std::thread consumer([&] {
    q.PopBatch(&got, 3, std::chrono::seconds(60), std::chrono::seconds(60));
    returned = true;
  });
  ASSERT_TRUE(q.Push(2));
  q.Close();
  consumer.join();
  EXPECT_TRUE(returned.load());
  EXPECT_EQ(got, (std::vector<int>{1, 2}));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(30));
}

TEST(BoundedQueueTest, LingerEndsWhenTheBatchIsFullOrTheTimeIsUp) {
  BoundedQueue<int> q(16);
  // Full: returns as soon as max_items are queued, long before the linger.
  std::vector<int> got;
  std::thread consumer(
      [&] { q.PopBatch(&got, 3, std::chrono::seconds(60), std::chrono::seconds(60)); });
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 1; i <= 3; ++i) ASSERT_TRUE(q.Push(i));
  consumer.join();
  EXPECT_EQ(got, (std::vector<int>{1, 2, 3}));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(30));
  // Not full: returns what is there once the linger is over.
  got.clear();
  ASSERT_TRUE(q.Push(4));
  const auto t1 = std::chrono::steady_clock::now();
  ASSERT_TRUE(q.PopBatch(&got, 3, std::chrono::seconds(1), std::chrono::milliseconds(50)));
  EXPECT_GE(std::chrono::steady_clock::now() - t1, std::chrono::milliseconds(50));
  EXPECT_EQ(got, (std::vector<int>{4}));
}

PlantPipelineOptions SmallPlant() {
  PlantPipelineOptions options;
  options.plant.machines = 3;
  options.plant.sample_rate_hz = 6400;
  options.pipeline.window.window_samples = 640;  // 0.1 s
  options.speed = 0;                             // as fast as possible
  options.duration = std::chrono::seconds(6);
  options.pipeline.learn.learning_windows = 20;
  options.pipeline.learn.train.n_estimators = 20;
  options.pipeline.learn.train.threads = 1;
  options.start_ns = 1'700'000'000'000'000'000;
  options.batch_max = 16;
  return options;
}

TEST(PlantPipelineTest, MeasuresTheSimulatorsCpuTime) {
  auto sink = std::make_unique<testing::RecordingSink>();
  auto options = SmallPlant();
  options.threads = 1;
  auto p = PlantPipeline::Create(options, std::move(sink));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ((*p)->stats().simulator_cpu_seconds, 0.0);
  ASSERT_TRUE((*p)->Start().ok());
  ASSERT_TRUE((*p)->Wait().ok());
  const PipelineStats st = (*p)->stats();
  // Some CPU, and (one worker thread) no more than its wall time allows,
  // with room for the estimate from every 8th pass.
  EXPECT_GT(st.simulator_cpu_seconds, 0.0);
  EXPECT_LT(st.simulator_cpu_seconds, 1.5 * st.wall_seconds + 0.01);
}

TEST(PlantPipelineTest, EveryWindowOfEveryMachineReachesTheSinkInEventTime) {
  auto sink = std::make_unique<testing::RecordingSink>();
  testing::RecordingSink* mem = sink.get();
  auto options = SmallPlant();
  options.threads = 2;
  auto p = PlantPipeline::Create(options, std::move(sink));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_TRUE((*p)->Start().ok());
  ASSERT_TRUE((*p)->Wait().ok());
  ASSERT_EQ(mem->records.size(), 3u * 60u);
  std::map<std::string, std::vector<std::int64_t>> times;
  for (const auto& r : mem->records) {
    times[r.machine_id].push_back(r.window_start_ns);
    ASSERT_EQ(r.features.size(), r.feature_names->size());
    EXPECT_GT(r.rms, 0);
  }
  ASSERT_EQ(times.size(), 3u);
  for (auto& [id, t] : times) {
    ASSERT_EQ(t.size(), 60u) << id;
    for (std::size_t i = 0; i < t.size(); ++i) {
      EXPECT_EQ(t[i], options.start_ns + static_cast<std::int64_t>(i) * 100'000'000) << id;
    }
  }
  // The first 20 windows of each machine are learning, then scored.
  int learning = 0, scored = 0;
  for (const auto& r : mem->records) {
    if (r.state == sink::MachineState::kLearning) {
      ++learning;
      EXPECT_TRUE(std::isnan(r.score));
    } else {
      ++scored;
      EXPECT_FALSE(std::isnan(r.score));
    }
  }
  EXPECT_EQ(learning, 3 * 20);
  EXPECT_EQ(scored, 3 * 40);
  auto stats = (*p)->stats();
  EXPECT_EQ(stats.windows_written, 180);
  EXPECT_NEAR(stats.simulated_seconds, 6.0, 1e-9);
  EXPECT_TRUE(mem->closed);
}

// Baseline changes made elsewhere, as the poller hands them over while the
// pipeline runs (two workers): m2 is reset once it stored v1, so it learns
// v2 (the store's next version); then v1 is assigned back and scores m2's
// next windows. The other machines are untouched. (TSan: the poller thread
// and the workers share only the slots' pending updates.)
TEST(PlantPipelineTest, BaselineChangesFromThePollerAreAppliedByTheOwningWorker) {
  auto sink = std::make_unique<testing::RecordingSink>();
  testing::RecordingSink* mem = sink.get();
  auto options = SmallPlant();
  options.threads = 2;
  options.speed = 10;  // 6 s simulated in at least 0.6 s
  options.baseline_poll_interval = std::chrono::milliseconds(10);
  std::mutex mu;
  std::map<std::string, std::vector<std::shared_ptr<const score::Baseline>>> stored;
  int stage = 0;  // 0: wait for m2's v1; 1: reset sent; 2: v1 assigned
  options.on_new_baseline = [&](const std::shared_ptr<const score::Baseline>& b) {
    std::lock_guard lock(mu);
    stored[b->machine_id].push_back(b);
    return Status::OK();
  };
  options.poll_baselines = [&]() -> Result<std::vector<BaselineUpdate>> {
    std::lock_guard lock(mu);
    std::vector<BaselineUpdate> updates;
    const auto& m2 = stored["m2"];
    if (stage == 0 && m2.size() == 1) {
      updates.push_back({"m2", nullptr, 2});
      stage = 1;
    } else if (stage == 1 && m2.size() == 2) {
      updates.push_back({"m2", m2[0], 3});
      stage = 2;
    }
    return updates;
  };
  auto p = PlantPipeline::Create(options, std::move(sink));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_TRUE((*p)->Start().ok());
  ASSERT_TRUE((*p)->Wait().ok());
  ASSERT_EQ(stage, 2);
  ASSERT_EQ(stored["m2"].size(), 2u);
  EXPECT_EQ(stored["m2"][0]->version, 1);
  EXPECT_EQ(stored["m2"][1]->version, 2);
  EXPECT_EQ(stored["m1"].size(), 1u);
  EXPECT_EQ(stored["m3"].size(), 1u);
  // m2: 20 learning, (v1,) 20 learning again, (v2,) then v1.
  std::map<std::string, std::vector<std::int64_t>> versions;
  for (const auto& r : mem->records) versions[r.machine_id].push_back(r.baseline_version);
  ASSERT_EQ(versions["m2"].size(), 60u);
  const auto& v = versions["m2"];
  EXPECT_EQ(std::count(v.begin(), v.end(), 0), 40);
  EXPECT_EQ(v.back(), 1);
  const auto relearn = std::find(v.begin() + 20, v.end(), 0);
  ASSERT_NE(relearn, v.end());
  // Scored with v1 until the reset (none if the reset came first).
  EXPECT_TRUE(std::all_of(v.begin() + 20, relearn, [](std::int64_t x) { return x == 1; }));
  EXPECT_TRUE(std::all_of(relearn, relearn + 20, [](std::int64_t x) { return x == 0; }));
  for (const char* m : {"m1", "m3"}) {
    const auto& o = versions[m];
    EXPECT_EQ(std::count(o.begin(), o.end(), 0), 20) << m;
    EXPECT_EQ(std::count(o.begin(), o.end(), 1), 40) << m;
  }
}

TEST(PlantPipelineTest, UnavailableSinkIsRetriedAndNothingIsLost) {
  auto sink = std::make_unique<testing::RecordingSink>();
  testing::RecordingSink* mem = sink.get();
  mem->failures = 3;
  auto p = PlantPipeline::Create(SmallPlant(), std::move(sink));
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE((*p)->Start().ok());
  ASSERT_TRUE((*p)->Wait().ok());
  EXPECT_EQ(mem->records.size(), 180u);
  EXPECT_EQ((*p)->stats().write_retries, 3);
}

TEST(PlantPipelineTest, FailingSinkIsRetriedUntilStopThenStopsWithTheError) {
  // A full disk (IOError) is retried with backoff like every sink's error
  // that can pass (sink/retry.h); the batch is kept, nothing more is taken.
  // Stopping while it lasts ends the pipeline with the error.
  auto sink = std::make_unique<testing::RecordingSink>();
  sink->fail_after = 2;
  auto p = PlantPipeline::Create(SmallPlant(), std::move(sink));
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE((*p)->Start().ok());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while ((*p)->stats().write_retries < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_GE((*p)->stats().write_retries, 2);
  (*p)->RequestStop();
  Status st = (*p)->Wait();
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("disk full"), std::string::npos) << st.ToString();
}

TEST(PlantPipelineTest, PermanentSinkErrorStopsAtOnce) {
  auto sink = std::make_unique<testing::RecordingSink>();
  sink->fail_after = 2;
  sink->late_failure = Status::Corruption("schema mismatch");
  auto p = PlantPipeline::Create(SmallPlant(), std::move(sink));
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE((*p)->Start().ok());
  Status st = (*p)->Wait();
  EXPECT_TRUE(st.IsCorruption()) << st.ToString();
  EXPECT_EQ((*p)->stats().write_retries, 0);
}

TEST(PlantPipelineTest, RejectsBadOptions) {
  auto options = SmallPlant();
  options.threads = 0;
  EXPECT_TRUE(PlantPipeline::Create(options, std::make_unique<testing::RecordingSink>())
                  .status()
                  .IsInvalidArgument());
  options = SmallPlant();
  options.speed = -1;
  EXPECT_TRUE(PlantPipeline::Create(options, std::make_unique<testing::RecordingSink>())
                  .status()
                  .IsInvalidArgument());
  options = SmallPlant();
  options.plant.machines = 0;
  EXPECT_FALSE(PlantPipeline::Create(options, std::make_unique<testing::RecordingSink>()).ok());
}

TEST(PlantPipelineTest, StopRequestEndsAnUnboundedRun) {
  auto sink = std::make_unique<testing::RecordingSink>();
  testing::RecordingSink* mem = sink.get();
  auto options = SmallPlant();
  options.duration = std::chrono::nanoseconds(0);
  options.speed = 50;
  auto p = PlantPipeline::Create(options, std::move(sink));
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE((*p)->Start().ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  (*p)->RequestStop();
  ASSERT_TRUE((*p)->Wait().ok());
  EXPECT_GT(mem->records.size(), 0u);
  EXPECT_EQ(static_cast<std::int64_t>(mem->records.size()), (*p)->stats().windows);
}

}  // namespace
}  // namespace mh::pipeline
