#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include <gtest/gtest.h>

#include "pipeline/bounded_queue.h"
#include "pipeline/machine_monitor.h"
#include "pipeline/plant_pipeline.h"

namespace mh::pipeline {
namespace {

// Keeps everything written; fails the first `unavailable` writes with
// Unavailable (retryable) and, if `fail_after` >= 0, every write after that
// many successful ones with IOError.
class MemorySink : public sink::Sink {
 public:
  int unavailable = 0;
  int fail_after = -1;
  std::vector<sink::WindowRecord> records;
  int attempts = 0;
  bool closed = false;

  Status Write(std::span<const sink::WindowRecord> batch) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++attempts;
    if (closed) return Status::Internal("write after close");
    if (unavailable > 0) {
      --unavailable;
      return Status::Unavailable("injected: store down");
    }
    if (fail_after >= 0 && writes_ >= fail_after) return Status::IOError("injected: disk full");
    ++writes_;
    records.insert(records.end(), batch.begin(), batch.end());
    return Status::OK();
  }
  Status Close() override {
    closed = true;
    return Status::OK();
  }

 private:
  std::mutex mu_;
  int writes_ = 0;
};

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

TEST(MachineMonitorTest, LearnsThenSeparatesShiftedWindows) {
  MonitorOptions options;
  options.learning_windows = 200;
  options.smoothing_windows = 10;
  options.train.seed = 7;
  options.train.threads = 1;
  options.train.contamination = "0.02";  // threshold at the 2nd percentile of training scores
  MachineMonitor monitor(options, {0, 1, 2}, {"a", "b", "c"}, nullptr);
  std::mt19937_64 rng(1);
  std::normal_distribution<double> noise(0, 1);
  sink::WindowRecord record;
  for (int i = 0; i < 200; ++i) {
    std::vector<double> f = {noise(rng), noise(rng), 5 + noise(rng)};
    ASSERT_TRUE(monitor.Observe(f, &record).ok());
    EXPECT_EQ(record.state, sink::MachineState::kLearning);
    EXPECT_TRUE(std::isnan(record.score));
  }
  int anomalous_windows = 0;
  for (int i = 0; i < 100; ++i) {
    std::vector<double> f = {noise(rng), noise(rng), 5 + noise(rng)};
    ASSERT_TRUE(monitor.Observe(f, &record).ok());
    anomalous_windows += record.anomaly;
  }
  EXPECT_EQ(record.state, sink::MachineState::kNormal);
  EXPECT_GT(record.state_score, 0);
  EXPECT_LT(anomalous_windows, 12);
  for (int i = 0; i < 20; ++i) {
    std::vector<double> f = {6 + noise(rng), 6 + noise(rng), 11 + noise(rng)};
    ASSERT_TRUE(monitor.Observe(f, &record).ok());
    EXPECT_TRUE(record.anomaly);
    EXPECT_LT(record.score, 0);
  }
  EXPECT_EQ(record.state, sink::MachineState::kAnomalous);
  EXPECT_LT(record.state_score, 0);
}

PlantPipelineOptions SmallPlant() {
  PlantPipelineOptions options;
  options.plant.machines = 3;
  options.plant.sample_rate_hz = 6400;
  options.window_samples = 640;  // 0.1 s
  options.speed = 0;             // as fast as possible
  options.duration = std::chrono::seconds(6);
  options.monitor.learning_windows = 20;
  options.monitor.train.n_estimators = 20;
  options.monitor.train.threads = 1;
  options.start_ns = 1'700'000'000'000'000'000;
  options.batch_max = 16;
  return options;
}

TEST(PlantPipelineTest, EveryWindowOfEveryMachineReachesTheSinkInEventTime) {
  auto sink = std::make_unique<MemorySink>();
  MemorySink* mem = sink.get();
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

TEST(PlantPipelineTest, UnavailableSinkIsRetriedAndNothingIsLost) {
  auto sink = std::make_unique<MemorySink>();
  MemorySink* mem = sink.get();
  mem->unavailable = 3;
  auto p = PlantPipeline::Create(SmallPlant(), std::move(sink));
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE((*p)->Start().ok());
  ASSERT_TRUE((*p)->Wait().ok());
  EXPECT_EQ(mem->records.size(), 180u);
  EXPECT_EQ((*p)->stats().write_retries, 3);
}

TEST(PlantPipelineTest, FailingSinkStopsThePipelineWithTheError) {
  auto sink = std::make_unique<MemorySink>();
  sink->fail_after = 2;
  auto p = PlantPipeline::Create(SmallPlant(), std::move(sink));
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE((*p)->Start().ok());
  Status st = (*p)->Wait();
  EXPECT_TRUE(st.IsIOError()) << st.ToString();
  EXPECT_NE(st.message().find("disk full"), std::string::npos);
}

TEST(PlantPipelineTest, RejectsBadOptions) {
  auto options = SmallPlant();
  options.threads = 0;
  EXPECT_TRUE(
      PlantPipeline::Create(options, std::make_unique<MemorySink>()).status().IsInvalidArgument());
  options = SmallPlant();
  options.speed = -1;
  EXPECT_TRUE(
      PlantPipeline::Create(options, std::make_unique<MemorySink>()).status().IsInvalidArgument());
  options = SmallPlant();
  options.plant.machines = 0;
  EXPECT_FALSE(PlantPipeline::Create(options, std::make_unique<MemorySink>()).ok());
}

TEST(PlantPipelineTest, StopRequestEndsAnUnboundedRun) {
  auto sink = std::make_unique<MemorySink>();
  MemorySink* mem = sink.get();
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
