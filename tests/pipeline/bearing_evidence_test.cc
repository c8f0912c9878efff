// The bearing evidence of `run`'s alarm explanations: a machine with a
// bearing and a shaft speed learns the statistics of its envelope amplitudes
// (env_*) beside its model features, so that an alarm of a simulated
// outer-race fault (sim::MachineSimulator, impacts at BPFO) names BPFO and
// one of an inner-race fault names BPFI; the ISO 20816 zone is in the
// explanation with the full feature set; a baseline without those
// statistics (stored before they were kept) says the evidence is
// unavailable.
#include <algorithm>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "alarm/explain.h"
#include "features/bearing.h"
#include "features/window_features.h"
#include "pipeline/machine_pipeline.h"
#include "sim/machine_simulator.h"

namespace mh::pipeline {
namespace {

constexpr double kFs = 25600;
constexpr std::size_t kWindow = 8192;  // 0.32 s
constexpr std::size_t kLearning = 30;  // windows: 9.6 s of healthy running
constexpr double kShaftHz = 29.95;     // the simulator's nominal speed (1797 rpm)

PipelineOptions Options() {
  PipelineOptions o;
  o.window.window_samples = kWindow;
  o.features.set = features::FeatureSet::kFull;
  o.learn.learning_windows = kLearning;
  o.learn.train.n_estimators = 50;
  o.learn.train.threads = 1;
  return o;
}

MachineSpec Spec(std::shared_ptr<const score::Baseline> baseline = nullptr) {
  MachineSpec s;
  s.machine_id = "m1";
  s.shape.fs_hz = kFs;
  s.shape.channels = {"ax", "ay", "az"};
  s.shape.shaft_rpm = kShaftHz * 60;
  auto bearing = features::LookupBearing("6205");  // the simulator's bearing
  EXPECT_TRUE(bearing.ok());
  s.shape.bearing = *bearing;
  s.baseline = std::move(baseline);
  return s;
}

struct Outcome {
  std::shared_ptr<const score::Baseline> learned;
  std::vector<sink::AlarmEvent> opened;
};

// Feeds `windows` windows of a simulated machine whose `kind` of fault
// starts (as a step) right after the learning windows.
Outcome Simulate(MachinePipeline& p, sim::FaultKind kind, std::size_t windows, std::uint64_t seed) {
  sim::MachineConfig config;
  config.machine_id = "m1";
  config.sample_rate_hz = kFs;
  config.shaft_hz = kShaftHz;
  config.seed = seed;
  config.fault = {.machine = 1,
                  .kind = kind,
                  .start_s = static_cast<double>(kLearning * kWindow) / kFs,
                  .ramp_s = 0};
  sim::MachineSimulator simulator(config);
  Outcome out;
  std::vector<double> ax(kWindow), ay(kWindow), az(kWindow);
  for (std::size_t w = 0; w < windows; ++w) {
    simulator.Generate(kWindow, ax.data(), ay.data(), az.data());
    const std::span<const double> channels[3] = {ax, ay, az};
    window::Block b;
    b.fs_hz = kFs;
    b.channels = channels;
    b.t0_ns = 1'767'225'600'000'000'000 +
              static_cast<std::int64_t>(static_cast<double>(w * kWindow) / kFs * 1e9);
    const Status s = p.Add(b, [&](WindowResult& r) {
      if (r.new_baseline) out.learned = r.new_baseline;
      if (auto e = p.AlarmEventOf(r); e && e->kind == sink::AlarmEventKind::kOpened) {
        out.opened.push_back(*e);
      }
      return Status::OK();
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  return out;
}

nlohmann::json Explanation(const sink::AlarmEvent& e) {
  return nlohmann::json::parse(e.alarm.explanation_json);
}

TEST(BearingEvidenceTest, LearnedBaselineKeepsTheEnvelopeStatistics) {
  auto p = MachinePipeline::Create(Options(), Spec());
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  const Outcome o = Simulate(**p, sim::FaultKind::kNone, kLearning, 11);
  ASSERT_NE(o.learned, nullptr);
  const score::FeatureStats& st = o.learned->stats;
  // The model features first, then every env_* of the window's features.
  const std::vector<std::string>& model = (*p)->model_feature_names();
  ASSERT_GT(st.names.size(), model.size());
  EXPECT_TRUE(std::equal(model.begin(), model.end(), st.names.begin()));
  std::size_t env = 0;
  for (const std::string& n : (*p)->feature_names()) {
    if (!features::IsEnvelopeFeature(n)) continue;
    ++env;
    const auto it = std::find(st.names.begin(), st.names.end(), n);
    ASSERT_NE(it, st.names.end()) << n;
    const std::size_t k = static_cast<std::size_t>(it - st.names.begin());
    EXPECT_GT(st.std[k], 0) << n;
    EXPECT_LE(st.min[k], st.mean[k]) << n;
    EXPECT_GE(st.max[k], st.mean[k]) << n;
  }
  // 8 envelope amplitudes on each of ax, ay, az (and the magnitude, if any).
  EXPECT_GE(env, 24u);
  EXPECT_EQ(st.names.size(), model.size() + env);
  EXPECT_EQ(st.mean.size(), st.names.size());
}

TEST(BearingEvidenceTest, OuterRaceFaultNamesBpfo) {
  auto p = MachinePipeline::Create(Options(), Spec());
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  const Outcome o = Simulate(**p, sim::FaultKind::kOuterRace, kLearning + 15, 21);
  ASSERT_FALSE(o.opened.empty());
  const nlohmann::json j = Explanation(o.opened[0]);
  EXPECT_EQ(j["bearing"]["available"], true) << j.dump();
  EXPECT_EQ(j["bearing"]["standing_out"], "BPFO") << o.opened[0].alarm.explanation_text;
  EXPECT_EQ(j["bearing"]["defects"][0]["defect"], "BPFO");
  // BPFI's fundamental is far behind (its 2x line, which sits on 3 x BPFO,
  // does not count).
  for (const auto& d : j["bearing"]["defects"]) {
    if (d["defect"] == "BPFO") continue;
    EXPECT_LT(1.5 * d["evidence"]["sd"].get<double>(),
              j["bearing"]["defects"][0]["evidence"]["sd"].get<double>())
        << j.dump();
  }
  const std::string& text = o.opened[0].alarm.explanation_text;
  EXPECT_NE(text.find("BPFO stands out in the envelope spectrum"), std::string::npos) << text;
  EXPECT_EQ(text.find("BPFI stands out"), std::string::npos) << text;
  // The full feature set has velocity_rms: the ISO zone of the largest.
  ASSERT_TRUE(j["iso20816"].is_object()) << j.dump();
  EXPECT_EQ(j["iso20816"]["feature"].get<std::string>().rfind("velocity_rms_a", 0), 0u);
  EXPECT_NE(text.find("ISO 20816 zone "), std::string::npos) << text;
}

TEST(BearingEvidenceTest, InnerRaceFaultNamesBpfi) {
  auto p = MachinePipeline::Create(Options(), Spec());
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  const Outcome o = Simulate(**p, sim::FaultKind::kInnerRace, kLearning + 15, 31);
  ASSERT_FALSE(o.opened.empty());
  const nlohmann::json j = Explanation(o.opened[0]);
  EXPECT_EQ(j["bearing"]["standing_out"], "BPFI") << o.opened[0].alarm.explanation_text;
  EXPECT_EQ(j["bearing"]["defects"][0]["defect"], "BPFI");
  EXPECT_EQ(o.opened[0].alarm.explanation_text.find("BPFO stands out"), std::string::npos);
}

// A baseline stored before it kept envelope statistics (the model
// features' only) still scores, and its alarms say the bearing evidence is
// unavailable instead of "no defect stands out".
TEST(BearingEvidenceTest, BaselineWithoutEnvelopeStatisticsSaysUnavailable) {
  auto learner = MachinePipeline::Create(Options(), Spec());
  ASSERT_TRUE(learner.ok()) << learner.status().ToString();
  const Outcome healthy = Simulate(**learner, sim::FaultKind::kNone, kLearning, 41);
  ASSERT_NE(healthy.learned, nullptr);
  auto old = std::make_shared<score::Baseline>(*healthy.learned);
  const std::size_t model = old->model->feature_names.size();
  for (auto* v : {&old->stats.mean, &old->stats.std, &old->stats.min, &old->stats.max}) {
    v->resize(model);
  }
  old->stats.names.resize(model);

  auto p = MachinePipeline::Create(Options(), Spec(old));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_FALSE((*p)->scorer().learning());
  // Faulty from the first window (the simulator's fault starts after
  // kLearning windows: feed those as well).
  const Outcome o = Simulate(**p, sim::FaultKind::kOuterRace, kLearning + 15, 41);
  EXPECT_EQ(o.learned, nullptr);
  ASSERT_FALSE(o.opened.empty());
  const nlohmann::json j = Explanation(o.opened[0]);
  EXPECT_EQ(j["bearing"]["available"], false);
  EXPECT_TRUE(j["bearing"]["standing_out"].is_null());
  EXPECT_EQ(j["bearing"]["unavailable"], alarm::kNoEnvelopeStatistics);
  EXPECT_NE(o.opened[0].alarm.explanation_text.find("bearing evidence unavailable"),
            std::string::npos)
      << o.opened[0].alarm.explanation_text;
}

}  // namespace
}  // namespace mh::pipeline
