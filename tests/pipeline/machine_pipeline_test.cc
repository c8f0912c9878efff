// MachinePipeline's per-machine facts from the registry: the sample unit
// (m/s^2 scaled to g where samples enter), the ISO 20816 class passed to the
// alarm explanation, and ApplyRegistryEntry, the one registry -> MachineSpec
// mapping.
#include "pipeline/machine_pipeline.h"

#include <cmath>
#include <random>
#include <span>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "features/velocity.h"
#include "pipeline/registry_spec.h"
#include "registry/registry.h"

namespace mh::pipeline {
namespace {

PipelineOptions SmallOptions() {
  PipelineOptions o;
  o.window.window_samples = 640;
  o.learn.learning_windows = 20;
  o.learn.train.n_estimators = 20;
  o.learn.train.threads = 1;
  return o;
}

MachineSpec Spec(const std::string& id) {
  MachineSpec s;
  s.machine_id = id;
  s.shape.fs_hz = 6400;
  s.shape.channels = {"ax"};
  return s;
}

// `windows` windows of noise (x `gain`), a 300 Hz tone of `tone` g on top.
std::vector<double> Signal(std::size_t windows, double gain, double tone, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0, 0.05);
  std::vector<double> x(windows * 640);
  for (std::size_t i = 0; i < x.size(); ++i) {
    x[i] = gain * (noise(rng) + tone * std::sin(2 * M_PI * 300 * static_cast<double>(i) / 6400));
  }
  return x;
}

std::vector<std::vector<double>> Features(MachinePipeline& p, const std::vector<double>& x) {
  std::vector<std::vector<double>> out;
  const std::span<const double> channels[1] = {x};
  window::Block b;
  b.fs_hz = 6400;
  b.channels = channels;
  b.t0_ns = 1'700'000'000'000'000'000;
  Status s = p.Add(b, [&](WindowResult& r) {
    out.push_back(r.record.features);
    return Status::OK();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

TEST(MachinePipelineTest, SamplesInMetersPerSecondSquaredGiveTheFeaturesOfG) {
  auto in_g = MachinePipeline::Create(SmallOptions(), Spec("g"));
  MachineSpec si = Spec("si");
  si.sample_scale = 1.0 / features::kStandardGravity;
  auto in_si = MachinePipeline::Create(SmallOptions(), si);
  ASSERT_TRUE(in_g.ok() && in_si.ok());
  const std::vector<double> g = Signal(10, 1, 0.5, 3);
  std::vector<double> si_samples = g;
  for (double& v : si_samples) v *= 9.80665;
  const auto a = Features(**in_g, g);
  const auto b = Features(**in_si, si_samples);
  ASSERT_EQ(a.size(), 10u);
  ASSERT_EQ(b.size(), a.size());
  const auto& names = (*in_g)->feature_names();
  for (std::size_t w = 0; w < a.size(); ++w) {
    for (std::size_t f = 0; f < a[w].size(); ++f) {
      EXPECT_NEAR(b[w][f], a[w][f], 1e-9 * std::max(1.0, std::abs(a[w][f]))) << names[f];
    }
  }
  // Unscaled m/s^2 samples would differ (rms 9.8 times as large).
  auto unscaled = MachinePipeline::Create(SmallOptions(), Spec("raw"));
  ASSERT_TRUE(unscaled.ok());
  const auto c = Features(**unscaled, si_samples);
  std::size_t rms = 0;
  while (names[rms] != "rms_ax") ++rms;
  EXPECT_NEAR(c[0][rms] / a[0][rms], 9.80665, 1e-9);

  MachineSpec bad = Spec("bad");
  bad.sample_scale = 0;
  EXPECT_TRUE(MachinePipeline::Create(SmallOptions(), bad).status().IsInvalidArgument());
}

// The explanation of an opened alarm rates velocity_rms in the machine's
// ISO 20816 class (group 1, flexible), not the default group 2 rigid.
TEST(MachinePipelineTest, AlarmExplanationUsesTheMachinesIsoClass) {
  PipelineOptions o = SmallOptions();
  o.features.set = features::FeatureSet::kFull;
  MachineSpec spec = Spec("motor");
  spec.iso_group = features::IsoGroup::kGroup1;
  spec.foundation = features::Foundation::kFlexible;
  auto p = MachinePipeline::Create(o, spec);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  std::vector<double> x = Signal(20, 1, 0.5, 5);
  const std::vector<double> fault = Signal(10, 8, 0.5, 6);
  x.insert(x.end(), fault.begin(), fault.end());
  const std::span<const double> channels[1] = {x};
  window::Block b;
  b.fs_hz = 6400;
  b.channels = channels;
  b.t0_ns = 1'700'000'000'000'000'000;
  std::vector<sink::AlarmEvent> opened;
  ASSERT_TRUE((*p)->Add(b,
                        [&](WindowResult& r) {
                          if (auto e = (*p)->AlarmEventOf(r)) {
                            if (e->kind == sink::AlarmEventKind::kOpened) opened.push_back(*e);
                          }
                          return Status::OK();
                        })
                  .ok());
  ASSERT_EQ(opened.size(), 1u);
  const std::string& json = opened[0].alarm.explanation_json;
  EXPECT_NE(json.find("\"group\":1,\"foundation\":\"flexible\""), std::string::npos) << json;
  EXPECT_NE(opened[0].alarm.explanation_text.find("group 1 flexible"), std::string::npos)
      << opened[0].alarm.explanation_text;
}

TEST(ApplyRegistryEntryTest, RegistryFactsBecomeTheSpec) {
  auto reg = registry::Registry::Parse(
      "[machines.motor]\niso_group = 1\nfoundation = \"flexible\"\nunit = \"m/s²\"\n"
      "rpm = 1500\nlearning = \"2s\"\nalarm = { k = 2, n = 4, m = 6 }\n"
      "threshold = { rule = \"robust-z\", z = 5 }\n"
      "[machines.fan]\nrpm_field = \"speed\"\n",
      "m.toml");
  ASSERT_TRUE(reg.ok()) << reg.status().ToString();
  const PipelineOptions o = SmallOptions();  // hop 640 samples = 0.1 s at 6400 Hz
  MachineSpec motor = Spec("motor");
  ApplyRegistryEntry(*(*reg)->Lookup("motor"), o, &motor);
  EXPECT_EQ(motor.machine_id, "motor");  // the events' facts are kept
  EXPECT_EQ(motor.shape.fs_hz, 6400);
  EXPECT_EQ(motor.iso_group, features::IsoGroup::kGroup1);
  EXPECT_EQ(motor.foundation, features::Foundation::kFlexible);
  EXPECT_DOUBLE_EQ(motor.sample_scale, 1 / 9.80665);
  EXPECT_EQ(motor.shape.shaft_rpm, 1500);
  ASSERT_TRUE(motor.learn.has_value());
  EXPECT_EQ(motor.learn->learning_windows, 20u);  // 2 s of 0.1 s hops
  EXPECT_EQ(motor.learn->threshold.rule, score::ThresholdRule::kRobustZ);
  EXPECT_EQ(motor.learn->threshold.z, 5);
  ASSERT_TRUE(motor.alarm.has_value());
  EXPECT_EQ(motor.alarm->k, 2);
  EXPECT_EQ(motor.alarm->n, 4);
  EXPECT_EQ(motor.alarm->m, 6);

  // Defaults: g, group 2 rigid; rpm_field: the speed comes with each event.
  MachineSpec fan = Spec("fan");
  ApplyRegistryEntry(*(*reg)->Lookup("fan"), o, &fan);
  EXPECT_EQ(fan.sample_scale, 1.0);
  EXPECT_EQ(fan.iso_group, features::IsoGroup::kGroup2);
  EXPECT_EQ(fan.foundation, features::Foundation::kRigid);
  EXPECT_EQ(fan.shape.shaft_rpm, 0);
  EXPECT_EQ(motor.rpm_field, "");
  EXPECT_EQ(fan.rpm_field, "speed");
  // At least 16 windows are learned.
  auto short_learning = registry::Registry::Parse("[machines.m]\nlearning = 3\n", "m.toml");
  ASSERT_TRUE(short_learning.ok());
  MachineSpec m = Spec("m");
  ApplyRegistryEntry(*(*short_learning)->Lookup("m"), o, &m);
  EXPECT_EQ(m.learn->learning_windows, 16u);
}

}  // namespace
}  // namespace mh::pipeline
