#include "pipeline/stream_scorer.h"

#include <array>
#include <cmath>
#include <random>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "features/window_features.h"
#include "iforest/scorer.h"
#include "metrics/metrics.h"
#include "sink/transport_sink.h"
#include "testing/gaussian_model.h"
#include "testing/memory_io.h"
#include "transport/inproc_transport.h"

namespace mh::pipeline {
namespace {

using sink::WindowRecord;
using transport::OutgoingMessage;

iforest::Model TrainModel(std::vector<std::string> names) {
  return testing::GaussianModel(std::move(names), {.rows = 500, .trees = 50, .seed = 7});
}

std::string FeatureEvent(const std::string& id, double ts, const std::vector<double>& v,
                         const std::string& prefix = "feature_") {
  std::string s = "{\"sensor_id\":\"" + id + "\",\"timestamp\":" + std::to_string(ts);
  for (std::size_t i = 0; i < v.size(); ++i) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", v[i]);
    s += ",\"" + prefix + std::to_string(i + 1) + "\":" + buf;
  }
  return s + "}";
}

TEST(StreamScorer, FeatureEventsScoreExactlyAsTheBatchScorer) {
  const iforest::Model model = TrainModel({"a", "b", "c"});
  std::mt19937_64 rng(1);
  std::normal_distribution<double> g(0, 2);
  std::vector<std::string> events;
  std::vector<std::vector<double>> rows;
  for (int i = 0; i < 1000; ++i) {
    rows.push_back({g(rng), g(rng), g(rng)});
    events.push_back(FeatureEvent("s" + std::to_string(i % 4), 1761519890 + i, rows.back()));
  }
  testing::ListSubscriber source(events);
  auto capture = std::make_unique<testing::RecordingSink>();
  testing::RecordingSink* cap = capture.get();
  sink::RunningSink running("capture", std::move(capture));
  StreamScorerOptions o;
  o.max_batch = 128;
  auto scorer = StreamScorer::Create(model, source, {&running}, nullptr, o);
  ASSERT_TRUE(scorer.ok()) << scorer.status().ToString();
  std::atomic<bool> stop{false};
  ASSERT_TRUE(scorer.value()->Run(stop).ok());
  ASSERT_EQ(cap->records.size(), 1000u);
  iforest::Scorer ref(model);
  int anomalies = 0;
  for (int i = 0; i < 1000; ++i) {
    const WindowRecord& r = cap->records[i];
    EXPECT_EQ(r.machine_id, "s" + std::to_string(i % 4));
    EXPECT_EQ(r.window_start_ns, (1761519890LL + i) * 1000000000LL);
    EXPECT_EQ(r.score_samples, ref.ScoreSamples(rows[i]));
    EXPECT_EQ(r.score, ref.DecisionFunction(rows[i]));
    EXPECT_EQ(r.anomaly, ref.Predict(rows[i]) == -1);
    EXPECT_EQ(r.features, rows[i]);
    anomalies += r.anomaly;
  }
  EXPECT_GT(anomalies, 0);
  EXPECT_EQ(source.committed, 1000u);
  const auto st = scorer.value()->stats();
  EXPECT_EQ(st.feature_events, 1000);
  EXPECT_EQ(st.scored, 1000);
  EXPECT_EQ(st.dead_letters, 0);
  EXPECT_EQ(st.batches, 8);  // ceil(1000 / 128)
}

TEST(StreamScorer, MatchesByNameByFeatureKeysOrPositionally) {
  const iforest::Model model = TrainModel({"rms", "kurt"});
  iforest::Scorer ref(model);
  const std::vector<double> row = {0.3, -1.2};
  // By name (and extra members ignored), positionally, and by FEATURE_KEYS.
  std::vector<std::string> events = {
      R"({"sensor_id":"a","timestamp":1,"kurt":-1.2,"rms":0.3,"other":5})",
      FeatureEvent("b", 2, row),
      R"({"sensor_id":"c","timestamp":3,"x_rms":0.3,"x_kurt":-1.2})",
  };
  for (int with_keys = 0; with_keys < 2; ++with_keys) {
    testing::ListSubscriber source(events);
    auto capture = std::make_unique<testing::RecordingSink>();
    testing::RecordingSink* cap = capture.get();
    sink::RunningSink running("capture", std::move(capture));
    StreamScorerOptions o;
    if (with_keys) o.feature_keys = {"x_rms", "x_kurt"};
    auto inproc = transport::NewInprocPublisher("dead-keys" + std::to_string(with_keys));
    auto dead_sub = transport::NewInprocSubscriber("dead-keys" + std::to_string(with_keys));
    auto scorer = StreamScorer::Create(model, source, {&running}, inproc.get(), o);
    ASSERT_TRUE(scorer.ok());
    std::atomic<bool> stop{false};
    ASSERT_TRUE(scorer.value()->Run(stop).ok());
    auto dead = dead_sub->Poll(10, std::chrono::milliseconds(0)).value();
    if (!with_keys) {
      ASSERT_EQ(cap->records.size(), 2u);
      EXPECT_EQ(cap->records[0].score, ref.DecisionFunction(row));
      EXPECT_EQ(cap->records[1].score, ref.DecisionFunction(row));
      ASSERT_EQ(dead.size(), 1u);
      EXPECT_NE(dead[0].payload.find("missing feature 'rms' (nor feature_1)"), std::string::npos)
          << dead[0].payload;
    } else {
      ASSERT_EQ(cap->records.size(), 1u);
      EXPECT_EQ(cap->records[0].machine_id, "c");
      EXPECT_EQ(cap->records[0].score, ref.DecisionFunction(row));
      EXPECT_EQ(dead.size(), 2u);
    }
  }
}

TEST(StreamScorer, BadEventsGoToDeadLettersWithReasonAndTheStreamGoesOn) {
  const iforest::Model model = TrainModel({"f1", "f2"});
  std::vector<std::string> events = {
      FeatureEvent("ok", 10, {1, 2}),
      "not json",
      R"({"sensor_id":"x","timestamp":11,"feature_1":1,"feature_2":"high"})",
      R"({"sensor_id":"x","timestamp":12,"feature_1":1})",
      R"({"sensor_id":"x","feature_1":1,"feature_2":2})",  // no timestamp anywhere
      std::string("\x89MHW\x01", 5),                       // a truncated binary waveform
      FeatureEvent("ok", 13, {3, 4}),
  };
  testing::ListSubscriber source(events);
  auto capture = std::make_unique<testing::RecordingSink>();
  testing::RecordingSink* cap = capture.get();
  sink::RunningSink running("capture", std::move(capture));
  auto dead_pub = transport::NewInprocPublisher("dead-bad");
  auto dead_sub = transport::NewInprocSubscriber("dead-bad");
  auto scorer = StreamScorer::Create(model, source, {&running}, dead_pub.get(), {});
  ASSERT_TRUE(scorer.ok());
  std::atomic<bool> stop{false};
  ASSERT_TRUE(scorer.value()->Run(stop).ok());
  ASSERT_EQ(cap->records.size(), 2u);
  EXPECT_EQ(cap->records[1].window_start_ns, 13000000000);
  auto dead = dead_sub->Poll(10, std::chrono::milliseconds(0)).value();
  ASSERT_EQ(dead.size(), 5u);
  for (const auto& d : dead) EXPECT_TRUE(nlohmann::json::accept(d.payload)) << d.payload;
  // A binary payload is kept whole, in base64.
  EXPECT_NE(dead[4].payload.find("\"payload_base64\":\"iU1IVwE=\""), std::string::npos)
      << dead[4].payload;
  EXPECT_NE(dead[0].payload.find("not valid JSON"), std::string::npos);
  EXPECT_NE(dead[0].payload.find("\"payload\":\"not json\""), std::string::npos);
  EXPECT_NE(dead[0].payload.find("\"origin\":\"list@1\""), std::string::npos);
  EXPECT_NE(dead[1].payload.find("feature 'feature_2' is string, not a number"), std::string::npos)
      << dead[1].payload;
  EXPECT_NE(dead[2].payload.find("missing feature 'feature_2'"), std::string::npos);
  EXPECT_NE(dead[3].payload.find("no timestamp"), std::string::npos);
  const StreamScorerStats st = scorer.value()->stats();
  EXPECT_EQ(st.dead_letters, 5);
  // By class: "not json" and the truncated binary cannot be decoded; the
  // string and the missing feature are refused; one has no time.
  EXPECT_EQ(st.dead_letters_by_reason, (std::array<std::int64_t, kDeadLetterReasons>{2, 1, 2}));
  // As /metrics shows them.
  metrics::Registry registry;
  registry.AddCollector([&st](metrics::Collection& c) { StreamScorer::Report("list", st, c); });
  const std::string text = registry.Expose();
  for (const char* line :
       {"\nmachine_health_events_received_total{source=\"list\"} 7\n",
        "\nmachine_health_events_dead_lettered_total{source=\"list\",reason=\"undecodable\"} 2\n",
        "\nmachine_health_events_dead_lettered_total{source=\"list\",reason=\"no_timestamp\"} "
        "1\n",
        "\nmachine_health_events_dead_lettered_total{source=\"list\",reason=\"rejected\"} 2\n",
        "\nmachine_health_windows_total{source=\"list\"} 2\n",
        "\nmachine_health_source_up{source=\"list\"} 1\n"}) {
    EXPECT_NE(text.find(line), std::string::npos) << line << text;
  }
}

TEST(StreamScorer, BrokerTimestampIsTheFallbackEventTime) {
  const iforest::Model model = TrainModel({"f1"});
  testing::ListSubscriber source({R"({"sensor_id":"x","feature_1":1})"});
  source.broker_time_ns = 1700000000123000000;
  auto capture = std::make_unique<testing::RecordingSink>();
  testing::RecordingSink* cap = capture.get();
  sink::RunningSink running("capture", std::move(capture));
  auto scorer = StreamScorer::Create(model, source, {&running}, nullptr, {});
  std::atomic<bool> stop{false};
  ASSERT_TRUE(scorer.value()->Run(stop).ok());
  ASSERT_EQ(cap->records.size(), 1u);
  EXPECT_EQ(cap->records[0].window_start_ns, 1700000000123000000);
}

TEST(StreamScorer, SinkOutageIsRetriedAndNothingIsCommittedBeforeAcceptance) {
  const iforest::Model model = TrainModel({"f1"});
  testing::ListSubscriber source({FeatureEvent("a", 1, {0.5}), FeatureEvent("a", 2, {0.6})});
  auto capture = std::make_unique<testing::RecordingSink>();
  testing::RecordingSink* cap = capture.get();
  cap->failures = 3;
  sink::RunningSink running("capture", std::move(capture),
                            {std::chrono::milliseconds(1), std::chrono::milliseconds(4)});
  auto scorer = StreamScorer::Create(model, source, {&running}, nullptr, {});
  std::atomic<bool> stop{false};
  ASSERT_TRUE(scorer.value()->Run(stop).ok());
  EXPECT_EQ(cap->attempts, 4);
  EXPECT_EQ(cap->records.size(), 2u);
  EXPECT_EQ(source.commits, 1);
  EXPECT_EQ(running.metrics().retries, 3);
}

TEST(StreamScorer, StopWhileASinkIsDownLeavesTheBatchUncommitted) {
  const iforest::Model model = TrainModel({"f1"});
  testing::ListSubscriber source({FeatureEvent("a", 1, {0.5})});
  auto capture = std::make_unique<testing::RecordingSink>();
  capture->failures = 1000000;
  sink::RunningSink running("capture", std::move(capture),
                            {std::chrono::milliseconds(1), std::chrono::milliseconds(2)});
  auto scorer = StreamScorer::Create(model, source, {&running}, nullptr, {});
  std::atomic<bool> stop{false};
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    stop = true;
  });
  Status s = scorer.value()->Run(stop);
  stopper.join();
  EXPECT_TRUE(s.IsUnavailable()) << s.ToString();
  EXPECT_EQ(source.commits, 0);
  EXPECT_EQ(source.committed, 0u);
}

TEST(StreamScorer, PermanentSinkErrorStopsWithoutCommit) {
  const iforest::Model model = TrainModel({"f1"});
  testing::ListSubscriber source({FeatureEvent("a", 1, {0.5})});
  auto capture = std::make_unique<testing::RecordingSink>();
  capture->failures = 1;
  capture->failure = Status::NotFound("database not found");
  sink::RunningSink running("influx", std::move(capture));
  auto scorer = StreamScorer::Create(model, source, {&running}, nullptr, {});
  std::atomic<bool> stop{false};
  Status s = scorer.value()->Run(stop);
  EXPECT_TRUE(s.IsNotFound());
  EXPECT_NE(s.message().find("influx"), std::string::npos);
  EXPECT_EQ(source.commits, 0);
}

TEST(StreamScorer, WaveformEventsBecomeWindowFeaturesAsTheLibraryComputesThem) {
  const double fs = 6400;
  const std::size_t n = 1024;
  std::string ev = R"({"device_id":"m1","timestamp":100,"fs":6400)";
  std::vector<std::vector<double>> ch(2, std::vector<double>(n));
  for (int c = 0; c < 2; ++c) {
    ev += c == 0 ? ",\"ax\":[" : ",\"ay\":[";
    for (std::size_t i = 0; i < n; ++i) {
      ch[c][i] = std::sin(2 * M_PI * (50.0 + 100 * c) * static_cast<double>(i) / fs) +
                 0.01 * static_cast<double>(i % 7);
      char buf[40];
      std::snprintf(buf, sizeof buf, "%s%.17g", i ? "," : "", ch[c][i]);
      ev += buf;
    }
    ev += "]";
  }
  ev += "}";
  // A model over two of the prototype-named features: scorable.
  const iforest::Model model = TrainModel({"rms_ax", "bandE0_200_ay"});
  testing::ListSubscriber source({ev});
  auto capture = std::make_unique<testing::RecordingSink>();
  testing::RecordingSink* cap = capture.get();
  sink::RunningSink running("capture", std::move(capture));
  StreamScorerOptions o;
  o.window_samples = 512;
  o.hop_samples = 256;
  auto scorer = StreamScorer::Create(model, source, {&running}, nullptr, o);
  ASSERT_TRUE(scorer.ok());
  std::atomic<bool> stop{false};
  ASSERT_TRUE(scorer.value()->Run(stop).ok());
  ASSERT_EQ(cap->records.size(), 3u);  // windows at 0, 256, 512

  features::FeatureOptions fo;
  fo.sample_rate_hz = fs;
  fo.window_samples = 512;
  fo.channels = {"ax", "ay"};
  auto ex = features::WindowFeatureExtractor::Create(fo);
  ASSERT_TRUE(ex.ok());
  iforest::Scorer ref(model);
  for (std::size_t w = 0; w < 3; ++w) {
    std::vector<double> expect(ex.value()->names().size());
    std::vector<std::span<const double>> spans = {
        std::span<const double>(ch[0].data() + w * 256, 512),
        std::span<const double>(ch[1].data() + w * 256, 512)};
    ASSERT_TRUE(ex.value()->Compute(spans, expect).ok());
    const WindowRecord& r = cap->records[w];
    EXPECT_EQ(r.machine_id, "m1");
    EXPECT_EQ(r.window_start_ns, 100000000000 + static_cast<std::int64_t>(std::llround(
                                                    static_cast<double>(w * 256) * 1e9 / fs)));
    EXPECT_EQ(r.features, expect);
    ASSERT_EQ(r.feature_names->size(), expect.size());
    std::size_t rms_ax = 0, band_ay = 0;
    for (std::size_t j = 0; j < expect.size(); ++j) {
      if ((*r.feature_names)[j] == "rms_ax") rms_ax = j;
      if ((*r.feature_names)[j] == "bandE0_200_ay") band_ay = j;
    }
    ASSERT_NE(band_ay, 0u) << "prototype name bandE0_200_ay present";
    const std::vector<double> row = {expect[rms_ax], expect[band_ay]};
    EXPECT_EQ(r.score, ref.DecisionFunction(row));
  }
  EXPECT_EQ(scorer.value()->stats().windows, 3);
  EXPECT_EQ(scorer.value()->stats().dropped_samples, 0);
}

// Hot reload: a model handed over by take_new_model scores from the next
// batch on, waveform windows (as a new baseline version) and feature rows
// alike, and each record names the model that scored it.
TEST(StreamScorer, NewModelScoresFromTheNextBatchAndRecordsNameIt) {
  const std::size_t n = 512;
  auto wave = [&](int ts) {
    std::string ev = R"({"device_id":"m1","timestamp":)" + std::to_string(ts) + R"(,"fs":6400)";
    for (int c = 0; c < 2; ++c) {
      ev += c == 0 ? ",\"ax\":[" : ",\"ay\":[";
      for (std::size_t i = 0; i < n; ++i) {
        char buf[40];
        std::snprintf(buf, sizeof buf, "%s%.17g", i ? "," : "",
                      std::sin(0.05 * static_cast<double>(i * (c + 1) + ts)));
        ev += buf;
      }
      ev += "]";
    }
    return ev + "}";
  };
  const iforest::Model a = TrainModel({"rms_ax", "bandE0_200_ay"});
  iforest::Model b_model = TrainModel({"rms_ax", "bandE0_200_ay"});
  b_model.offset = -0.25;  // another model: other decision_function values
  auto b = std::make_shared<const iforest::Model>(b_model);
  auto pa = std::make_shared<sink::ModelProvenance>();
  pa->version = "aaaaaaaaaaaa";
  auto pb = std::make_shared<sink::ModelProvenance>();
  pb->version = "bbbbbbbbbbbb";
  testing::ListSubscriber source({wave(100), FeatureEvent("f", 100, {0.1, 0.2}, "x"), wave(200),
                                  FeatureEvent("f", 200, {0.1, 0.2}, "x")});
  auto capture = std::make_unique<testing::RecordingSink>();
  testing::RecordingSink* cap = capture.get();
  sink::RunningSink running("capture", std::move(capture));
  StreamScorerOptions o;
  o.max_batch = 2;  // two batches: the swap comes between them
  o.feature_keys = {"x1", "x2"};
  o.model_provenance = pa;
  int asked = 0;
  o.take_new_model = [&]() -> std::optional<ServedModel> {
    if (++asked != 2) return std::nullopt;
    return ServedModel{b, pb};
  };
  auto scorer = StreamScorer::Create(a, source, {&running}, nullptr, o);
  ASSERT_TRUE(scorer.ok()) << scorer.status().ToString();
  std::atomic<bool> stop{false};
  ASSERT_TRUE(scorer.value()->Run(stop).ok());
  EXPECT_EQ(asked, 2);
  ASSERT_EQ(cap->records.size(), 4u);
  const std::vector<double> row = {0.1, 0.2};
  for (int i = 0; i < 4; ++i) {
    const WindowRecord& r = cap->records[i];
    ASSERT_NE(r.model, nullptr);
    EXPECT_EQ(r.model->version, i < 2 ? "aaaaaaaaaaaa" : "bbbbbbbbbbbb") << i;
    const iforest::Model& m = i < 2 ? a : b_model;
    EXPECT_EQ(r.score, r.score_samples - m.offset) << i;
    if (r.machine_id == "f") {
      iforest::Scorer ref(m);
      EXPECT_EQ(r.score, ref.DecisionFunction(row)) << i;
    } else {
      EXPECT_EQ(r.baseline_version, i < 2 ? 1 : 2) << i;
    }
  }
}

TEST(StreamScorer, InvalidOptions) {
  const iforest::Model model = TrainModel({"f1", "f2"});
  testing::ListSubscriber source({});
  sink::RunningSink running("capture", std::make_unique<testing::RecordingSink>());
  StreamScorerOptions o;
  o.feature_keys = {"only_one"};
  EXPECT_TRUE(
      StreamScorer::Create(model, source, {&running}, nullptr, o).status().IsInvalidArgument());
  EXPECT_FALSE(StreamScorer::Create(model, source, {}, nullptr, {}).ok());
  StreamScorerOptions h;
  h.window_samples = 10;
  h.hop_samples = 20;  // hop > window: skips 10 samples between windows (window::Windower)
  EXPECT_TRUE(StreamScorer::Create(model, source, {&running}, nullptr, h).ok());
  h.window_samples = 3;
  EXPECT_NE(StreamScorer::Create(model, source, {&running}, nullptr, h)
                .status()
                .message()
                .find("--window"),
            std::string::npos);
}

TEST(TransportSink, RecordJsonRoundTripsNumbersAndOmitsScoresWhenUnscored) {
  auto names =
      std::make_shared<const std::vector<std::string>>(std::vector<std::string>{"rms_ax", "k\"q"});
  WindowRecord r;
  r.machine_id = "m\"1";
  r.window_start_ns = 1761519890500000000;
  r.feature_names = names;
  r.features = {0.1, 1e-300};
  std::string json;
  sink::AppendRecordJson(r, &json);
  EXPECT_EQ(json,
            R"({"sensor_id":"m\"1","timestamp":1761519890.5,"time":"2025-10-26T23:04:50.500Z",)"
            R"("features":{"rms_ax":0.1,"k\"q":1e-300}})");
  r.score = -0.25;
  r.score_samples = -0.75;
  r.anomaly = true;
  r.window_start_ns = 1761519890000000001;
  json.clear();
  sink::AppendRecordJson(r, &json);
  EXPECT_NE(json.find(R"("timestamp":1761519890.000000001,"time":"2025-10-26T23:04:50.000000001Z",)"
                      R"("score":-0.25,"score_samples":-0.75,"anomaly":true)"),
            std::string::npos)
      << json;
  EXPECT_EQ(json.find("model_version"), std::string::npos);
  auto p = std::make_shared<sink::ModelProvenance>();
  p->version = "3f2a9c0d1e4b";
  r.model = p;
  json.clear();
  sink::AppendRecordJson(r, &json);
  EXPECT_NE(json.find(R"("anomaly":true,"model_version":"3f2a9c0d1e4b","features":)"),
            std::string::npos)
      << json;
}

}  // namespace
}  // namespace mh::pipeline
